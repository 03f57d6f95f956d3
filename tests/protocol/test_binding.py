"""Protocol v2 binding (docs/protocol.md, "Deployment"): every sealed byte format names its
chain id and registry, so that nothing sealed for one registry is accepted by another.

Each tamper test moves real sealed bytes to a deployment that differs in the chain id, the
registry, or both, and expects the typed refusal; on protocol v1 (no chain or registry in
the associated data or binding) the same bytes opened and decrypted everywhere.
"""

from __future__ import annotations

import hashlib

import pytest
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey

from spartacus import protocol
from spartacus.exceptions import (
    BindingMismatch,
    CryptoError,
    InvalidCiphertext,
    InvalidKey,
    InvalidRelease,
)
from spartacus.protocol import ZERO_ACCOUNT, Contact, Deployment, PledgeRecord, ReleaseRecord

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
D = Deployment(31337, REGISTRY)
TAMPER = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)
chain_ids = st.integers(1, 2**256 - 1)
elsewhere = st.one_of(
    chain_ids.map(lambda chain: Deployment(chain, REGISTRY)),
    addresses.map(lambda registry: Deployment(D.chain_id, registry)),
    st.builds(Deployment, chain_ids, addresses),
).filter(lambda other: other.prefix != D.prefix)

CUSTODIANS = [PrivateKey(hashlib.sha256(b"binding custodian %d" % i).digest()) for i in range(3)]
PUBLIC_KEYS = [bytes(c.public_key) for c in CUSTODIANS]
PLEDGER = protocol.derive_keys(hashlib.sha256(b"binding pledger").digest())
ORGANISER = protocol.derive_keys(hashlib.sha256(b"binding organiser").digest())
CONTACT = Contact("Ann", "ann@example.org", "in")


def sealed_pledge(cid: int = 7, n: int = 3, t: int = 2) -> PledgeRecord:
    sealed = protocol.seal_pledge(D, cid, PLEDGER, CONTACT, PUBLIC_KEYS[:n], t)
    return PledgeRecord(1, PLEDGER.account, *sealed.as_abi())


RECORD = sealed_pledge()
INSTRUCTIONS = PledgeRecord(
    0, ZERO_ACCOUNT, *protocol.seal_instructions(D, ORGANISER, "go", PUBLIC_KEYS, 2).as_abi()
)


# ---------------------------------------------------------------------- layouts


def test_deployment_prefix_is_chain_id_then_registry() -> None:
    prefix = Deployment(10, REGISTRY.lower()).prefix
    assert prefix == (10).to_bytes(32, "big") + bytes.fromhex(REGISTRY[2:])
    assert len(prefix) == protocol.primitives.DEPLOYMENT_SIZE == 52


def test_pledge_ad_and_binding_start_with_the_deployment() -> None:
    ad = protocol.pledge_ad(D, 7, PLEDGER.member_key, PLEDGER.account)
    assert len(ad) == 136
    assert ad == (
        D.prefix + (7).to_bytes(32, "big") + PLEDGER.member_key + bytes.fromhex(PLEDGER.account[2:])
    )
    bind = protocol.binding(D, 7, PLEDGER.member_key, PLEDGER.account, RECORD.ciphertext)
    assert bind == hashlib.sha256(ad + RECORD.ciphertext).digest()


def test_release_ad_names_label_deployment_campaign_custodian_and_round() -> None:
    ad = protocol.release_ad(D, 7, 2, 5)
    assert ad == b"spartacus/v2/release" + D.prefix + (7).to_bytes(32, "big") + b"\x02" + bytes(
        [0, 0, 0, 5]
    )
    assert len(ad) == 109


@pytest.mark.parametrize(
    ("chain_id", "registry", "error"),
    [
        (0, REGISTRY, CryptoError),
        (-1, REGISTRY, CryptoError),
        (2**256, REGISTRY, CryptoError),
        (True, REGISTRY, CryptoError),
        ("31337", REGISTRY, CryptoError),
        (31337, "0x" + "zz" * 20, InvalidKey),
        (31337, "0x1234", InvalidKey),
        # One letter's case changed in a checksummed address: a typo, not another spelling.
        (31337, "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", InvalidKey),
    ],
)
def test_deployment_refuses_bad_chain_id_or_registry(
    chain_id: object, registry: str, error: type[CryptoError]
) -> None:
    with pytest.raises(error):
        Deployment(chain_id, registry)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- KDF labels


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_v2_keys_never_equal_v1_derivations(secret: bytes) -> None:
    keys = protocol.derive_keys(secret)
    for label, value in [
        (b"pledge-account", keys.account_key),
        (b"member-key", keys.member_secret),
        (b"pledge-key", keys.pledge_key),
    ]:
        v1 = hashlib.blake2b(b"spartacus/v1/" + label, key=secret, digest_size=32).digest()
        v2 = hashlib.blake2b(b"spartacus/v2/" + label, key=secret, digest_size=32).digest()
        assert value == v2 != v1


def test_release_key_uses_the_v2_label() -> None:
    secret = bytes(CUSTODIANS[0])
    expected = hashlib.blake2b(
        b"spartacus/v2/release-key" + bytes(4), key=secret, digest_size=32
    ).digest()
    assert protocol.release_key(secret, 0) == expected


# ---------------------------------------------------------------------- tamper tests


@TAMPER
@given(other=elsewhere, custodian=st.integers(0, 2))
def test_open_box_of_a_pledge_moved_to_another_deployment_raises(
    other: Deployment, custodian: int
) -> None:
    assert protocol.open_box(bytes(CUSTODIANS[custodian]), D, 7, RECORD, custodian, 3, 2)
    with pytest.raises(BindingMismatch, match="registry or chain"):
        protocol.open_box(bytes(CUSTODIANS[custodian]), other, 7, RECORD, custodian, 3, 2)


@TAMPER
@given(other=elsewhere)
def test_open_box_of_instructions_moved_to_another_deployment_raises(other: Deployment) -> None:
    assert protocol.open_box(bytes(CUSTODIANS[0]), D, 7, INSTRUCTIONS, 0, 3, 2)
    with pytest.raises(BindingMismatch):
        protocol.open_box(bytes(CUSTODIANS[0]), other, 7, INSTRUCTIONS, 0, 3, 2)


@TAMPER
@given(other=elsewhere)
def test_custodian_shares_of_pledges_moved_to_another_deployment_are_withheld(
    other: Deployment,
) -> None:
    shares, problems = protocol.custodian_shares(
        bytes(CUSTODIANS[1]), other, 7, 1, 3, 2, [INSTRUCTIONS, RECORD]
    )
    assert shares == {} and sorted(problems) == [0, 1]


@TAMPER
@given(other=elsewhere, record=st.sampled_from([RECORD, INSTRUCTIONS]))
def test_decrypt_payload_under_another_deployment_raises(
    other: Deployment, record: PledgeRecord
) -> None:
    cid, account = (0, ZERO_ACCOUNT) if record.index == 0 else (7, PLEDGER.account)
    key = (ORGANISER if record.index == 0 else PLEDGER).pledge_key
    assert protocol.decrypt_payload(key, D, cid, record.member_key, account, record.ciphertext)
    with pytest.raises(InvalidCiphertext, match="registry or chain"):
        protocol.decrypt_payload(key, other, cid, record.member_key, account, record.ciphertext)


@TAMPER
@given(other=elsewhere, round=st.integers(0, 3))
def test_open_sealed_shares_under_another_deployment_raises(other: Deployment, round: int) -> None:
    key = protocol.release_key(bytes(CUSTODIANS[0]), round)
    parts = protocol.build_release(
        D, 7, 0, round, {1: b"s" * 33}, 2, recipients={1: PLEDGER.member_key}, release_key=key
    )
    (sealed,) = [p for p in map(protocol.parse_release, parts) if p.kind == protocol.KIND_SEALED]
    assert protocol.open_sealed_shares(sealed, key, D, 7, 0, 2) == {1: b"s" * 33}
    with pytest.raises(InvalidRelease, match="registry or chain"):
        protocol.open_sealed_shares(sealed, key, other, 7, 0, 2)


def _members_release(deployment: Deployment) -> list[ReleaseRecord]:
    releases = []
    for custodian in (0, 1):
        shares, problems = protocol.custodian_shares(
            bytes(CUSTODIANS[custodian]), deployment, 7, custodian, 3, 2, [INSTRUCTIONS, RECORD]
        )
        assert problems == {}
        recipients = {0: ORGANISER.member_key, 1: PLEDGER.member_key}
        parts = protocol.build_release(
            deployment, 7, custodian, 0, shares, 2, recipients=recipients
        )
        releases += [ReleaseRecord(custodian, part) for part in parts]
    return releases


@TAMPER
@given(other=elsewhere)
def test_read_roster_of_a_release_replayed_under_another_deployment_shows_nothing(
    other: Deployment,
) -> None:
    releases = _members_release(D)

    def read(deployment: Deployment) -> protocol.Roster:
        return protocol.read_roster(
            deployment, 7, 3, 2, [INSTRUCTIONS, RECORD], releases, reader=PLEDGER, reader_index=1
        )

    assert [m.contact for m in read(D).members] == [CONTACT] and read(D).instructions == "go"
    roster = read(other)
    assert roster.members == [] and roster.instructions is None and roster.missing == [1]
    assert any("registry or chain" in problem for problem in roster.problems)
