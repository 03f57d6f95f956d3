"""Fuzzing the decoders of everything that arrives from outside: receipt codes, contact
plaintexts, instructions, pledge ciphertexts, boxes (one and a custodian's whole pass),
shares, release parts, whole rosters, relay requests.

Whatever the input, each decoder ends in a result or a typed ``SpartacusError``: never
another exception. Hypothesis' deadline (generous, per example) turns a hang into a
failure rather than a stuck run.

derandomize=True: CI runs the same examples every time, so a red run is reproducible and
never depends on luck. Wider hunts are run by hand with a larger max_examples (4,000 per
decoder so far: the crypto decoders held; the relay's number reader, now ``bodies.uint``,
did not, and was fixed: the last test keeps it fixed).
"""

from __future__ import annotations

import struct
from datetime import timedelta
from typing import Any

import nacl.public
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spartacus import protocol
from spartacus.cli import receipts
from spartacus.exceptions import RequestRefused, SpartacusError
from spartacus.web import bodies

FUZZ = settings(
    max_examples=300,
    deadline=timedelta(seconds=5),
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CUSTODIAN = nacl.public.PrivateKey(bytes(range(1, 33)))
MEMBER = protocol.derive_keys(bytes(range(32)))
D = protocol.Deployment(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")


def typed_or_result(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except SpartacusError:
        return None


@FUZZ
@given(st.text(max_size=120) | st.from_regex(r"sp[12]-[0-9]{1,4}-[A-Z2-7 -]{0,70}", fullmatch=True))
def test_receipt_codes_decode_or_fail_typed(code: str) -> None:
    decoded = typed_or_result(protocol.decode_receipt, code)
    if decoded is not None:
        campaign_id, secret = decoded
        assert len(secret) == 32 and protocol.decode_receipt(
            protocol.encode_receipt(campaign_id, secret)
        )


@FUZZ
@given(st.binary(max_size=600))
def test_contact_plaintexts_decode_or_fail_typed(plain: bytes) -> None:
    contact = typed_or_result(protocol.decode_contact, plain)
    if contact is not None:  # strict: what decodes re-encodes to the very same bytes
        assert protocol.encode_contact(contact) == plain


@FUZZ
@given(st.binary(max_size=5000))
def test_instruction_plaintexts_decode_or_fail_typed(plain: bytes) -> None:
    typed_or_result(protocol.decode_instructions, plain)
    typed_or_result(protocol.unpad, plain)


@FUZZ
@given(st.binary(max_size=700), st.integers(0, 7), st.integers(0, 7))
def test_boxes_split_or_fail_typed(boxes: bytes, n: int, t: int) -> None:
    parts = typed_or_result(protocol.split_boxes, boxes, n, t)
    if parts is not None:
        assert b"".join(parts) == boxes


@FUZZ
@given(st.binary(min_size=0, max_size=200), st.integers(1, 2))
def test_a_garbage_box_in_a_pledge_never_opens(box: bytes, t: int) -> None:
    n = 1 if t == 1 else 2
    size = protocol.box_size(t)
    boxes = (box + bytes(size * n))[: size * n]
    record = protocol.PledgeRecord(
        1, MEMBER.account, MEMBER.member_key, bytes(296), boxes, bytes(32)
    )
    assert typed_or_result(protocol.open_box, bytes(CUSTODIAN), D, 1, record, 0, n, t) is None


sized = st.sampled_from([0, 1, 31, 32, 33, 295, 296, 552, 553])


@FUZZ
@given(
    st.binary(max_size=40) | st.builds(bytes, sized),
    st.integers(0, 3),
    st.binary(max_size=40),
    st.binary(max_size=700) | st.binary(min_size=296, max_size=296),
)
def test_pledge_ciphertexts_decrypt_or_fail_typed(
    key: bytes, campaign_id: int, member_key: bytes, ciphertext: bytes
) -> None:
    typed_or_result(
        protocol.decrypt_payload, key, D, campaign_id, member_key, MEMBER.account, ciphertext
    )


records = st.builds(
    protocol.PledgeRecord,
    st.integers(-1, 5),
    st.sampled_from([MEMBER.account, "0x" + "00" * 20, "", "0xnothex", "0x12"]),
    st.binary(max_size=40),
    st.binary(max_size=600),
    st.binary(max_size=400) | st.builds(bytes, sized),
    st.binary(max_size=40),
)


@FUZZ
@given(st.lists(records, max_size=4), st.integers(1, 3), st.integers(1, 3), st.integers(-1, 3))
def test_a_custodian_pass_over_garbage_pledges_reports_never_raises_else(
    pledges: list[protocol.PledgeRecord], n: int, t: int, custodian: int
) -> None:
    result = typed_or_result(
        protocol.custodian_shares, bytes(CUSTODIAN), D, 1, custodian, n, t, pledges
    )
    if result is not None:
        shares, problems = result
        assert shares == {} and set(problems) <= {r.index for r in pledges}
    for record in pledges:
        typed_or_result(protocol.open_box, bytes(CUSTODIAN), D, 1, record, custodian, n, t)


@FUZZ
@given(st.text(max_size=120), st.integers(0, 2**64))
def test_pasted_receipts_decode_or_fail_typed(code: str, campaign_id: int) -> None:
    typed_or_result(receipts.receipt_from_code, code, campaign_id)


@FUZZ
@given(
    st.one_of(st.integers(-2, 2**257), st.none(), st.text(max_size=5), st.booleans()),
    st.one_of(st.text(max_size=44), st.just(D.registry.lower()), st.just(D.registry.upper())),
)
def test_deployments_build_or_fail_typed(chain_id: Any, registry: Any) -> None:
    built = typed_or_result(protocol.Deployment, chain_id, registry)
    if built is not None:
        assert len(built.prefix) == 52 and built.prefix[:32] == chain_id.to_bytes(32, "big")


@FUZZ
@given(st.lists(st.binary(max_size=40), max_size=6), st.integers(0, 6))
def test_shares_combine_or_fail_typed(shares: list[bytes], t: int) -> None:
    typed_or_result(protocol.combine_shares, shares, t)


release_data = st.one_of(
    st.binary(max_size=400),
    st.builds(
        lambda kind, rnd, body: struct.pack(">BBI", 1, kind, rnd) + body,
        st.integers(0, 5), st.integers(0, 2**32 - 1), st.binary(max_size=400),
    ),
)  # fmt: skip


@FUZZ
@given(release_data, st.integers(1, 5), st.binary(min_size=32, max_size=32))
def test_release_parts_parse_and_open_or_fail_typed(data: bytes, t: int, key: bytes) -> None:
    part = typed_or_result(protocol.parse_release, data)
    if part is None:
        return
    typed_or_result(protocol.release_entries, part.body, t)
    typed_or_result(protocol.open_key_seal, part, 1, MEMBER.member_secret)
    typed_or_result(protocol.open_sealed_shares, part, key, D, 1, 0, t)


@FUZZ
@given(st.lists(st.tuples(st.integers(-1, 3), release_data), max_size=6))
def test_a_roster_of_garbage_releases_reads_nothing_and_says_why(
    releases: list[tuple[int, bytes]],
) -> None:
    keys = [CUSTODIAN.public_key.encode()]
    contact = protocol.Contact("Ann", "ann@example.org")
    sealed = protocol.seal_pledge(D, 1, MEMBER, contact, keys, 1)
    record = protocol.PledgeRecord(1, MEMBER.account, *sealed.as_abi())
    records = [protocol.ReleaseRecord(c, d) for c, d in releases]
    roster = protocol.read_roster(D, 1, 1, 1, [record], records, reader=MEMBER, reader_index=None)
    assert roster.members == [] and roster.missing == [1]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@FUZZ
@given(st.dictionaries(st.sampled_from(["a", "x", "campaignId", "account", "title"]), json_values))
def test_relay_fields_parse_or_refuse_with_a_reason(body: dict[str, Any]) -> None:
    for parse in (
        lambda: bodies.uint(body, "campaignId", 256),
        lambda: bodies.address(body, "account"),
        lambda: bodies.hex_bytes(body, "x", 32),
        lambda: bodies.text(body, "title"),
        lambda: bodies.json_object(body, "a"),
    ):
        try:
            parse()
        except RequestRefused as refusal:
            assert str(refusal) and 400 <= refusal.status < 500


@pytest.mark.parametrize(
    "number", ["²", "٣" + "²", "9" * 5000], ids=["superscript", "mixed", "huge"]
)
def test_relay_campaign_ids_that_only_look_like_digits_are_refused(number: str) -> None:
    with pytest.raises(RequestRefused, match="whole number"):
        bodies.uint({"campaignId": number}, "campaignId", 256)
