"""Round trips and tamper tests for spartacus.crypto (docs/protocol.md)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import nacl.bindings as sodium
import pyshamir
import pytest
from eth_account import Account
from eth_keys import keys as eth_keys
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey

from spartacus import protocol
from spartacus.exceptions import (
    BindingMismatch,
    BoxOpenError,
    CryptoError,
    InvalidCiphertext,
    InvalidKey,
    InvalidPayload,
    InvalidReceipt,
    InvalidRelease,
    InvalidSecret,
    InvalidShare,
    PayloadTooLarge,
)
from spartacus.protocol import (
    KIND_KEYS,
    KIND_PUBLIC,
    KIND_SEALED,
    PLEDGE_CIPHERTEXT_SIZE,
    ZERO_ACCOUNT,
    Contact,
    PledgeKeys,
    PledgeRecord,
    ReleasePart,
    ReleaseRecord,
    Roster,
    payload,
    primitives,
)
from spartacus.protocol import secret as secret_module

D = protocol.Deployment(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
CONFIGS = [(1, 1), (3, 1), (3, 2), (5, 3)]
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FAST = settings(max_examples=100, deadline=None)

secrets_32 = st.binary(min_size=32, max_size=32)
texts = st.text(st.characters(codec="utf-8"), max_size=80)
names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)
contacts = st.builds(Contact, names, names, texts).filter(
    lambda c: len(payload.contact_json(c)) <= 255
)


def keys_for(seed: int) -> PledgeKeys:
    return protocol.derive_keys(hashlib.sha256(b"test secret %d" % seed).digest())


# ---------------------------------------------------------------------- a whole campaign


@dataclass
class Campaign:
    """A campaign with its custodians, organiser, pledgers and records (index 0 first)."""

    id: int
    n: int
    t: int
    custodians: list[PrivateKey]
    organiser: PledgeKeys
    instructions: str
    pledgers: dict[int, PledgeKeys]
    contacts: dict[int, Contact]
    records: list[PledgeRecord]

    @property
    def custodian_keys(self) -> list[bytes]:
        return [bytes(c.public_key) for c in self.custodians]

    def secret(self, custodian: int) -> bytes:
        return bytes(self.custodians[custodian])

    def pledge(self, index: int, contact: Contact | None = None) -> PledgeRecord:
        keys = keys_for(1000 * self.id + index)
        contact = contact or Contact(f"member {index}", f"m{index}@example.org", "hello")
        sealed = protocol.seal_pledge(D, self.id, keys, contact, self.custodian_keys, self.t)
        record = PledgeRecord(index, keys.account, *sealed.as_abi())
        self.pledgers[index] = keys
        self.contacts[index] = contact
        self.records.append(record)
        return record

    def shares(self, custodian: int, records: Sequence[PledgeRecord] | None = None) -> dict:
        shares, problems = protocol.custodian_shares(
            self.secret(custodian), D, self.id, custodian, self.n, self.t, records or self.records
        )
        assert problems == {} or records is not None
        return shares

    def release(
        self,
        custodians: Sequence[int] | None = None,
        *,
        members: bool,
        round: int = 0,
        records: Sequence[PledgeRecord] | None = None,
        active: Sequence[PledgeRecord] | None = None,
        tamper: Callable[[int, dict[int, bytes]], None] | None = None,
        max_part: int = protocol.MAX_RELEASE_PART,
    ) -> list[ReleaseRecord]:
        """What the custodians publish for ``records`` (default: all), honest unless tampered.

        In members mode the release keys go to ``active`` (default: ``records``).
        """
        records = self.records if records is None else records
        active = records if active is None else active
        releases = []
        for custodian in range(self.n) if custodians is None else custodians:
            shares = self.shares(custodian, records)
            if tamper:
                tamper(custodian, shares)
            recipients = {r.index: r.member_key for r in active} if members else None
            parts = protocol.build_release(
                D,
                self.id,
                custodian,
                round,
                shares,
                self.t,
                recipients=recipients,
                max_part=max_part,
            )
            releases += [ReleaseRecord(custodian, part) for part in parts]
        return releases

    def read(
        self,
        releases: Sequence[ReleaseRecord],
        reader: int | None,
        records: Sequence[PledgeRecord] | None = None,
    ) -> Roster:
        """The roster as ``reader`` sees it (None: the public; 0: the organiser)."""
        keys = None
        if reader is not None:
            keys = self.organiser if reader == 0 else self.pledgers[reader]
        return protocol.read_roster(
            D,
            self.id,
            self.n,
            self.t,
            self.records if records is None else records,
            releases,
            reader=keys,
            reader_index=reader,
        )


@pytest.fixture
def create_campaign() -> Callable[..., Campaign]:
    def create(n: int = 3, t: int = 2, pledges: int = 3, campaign_id: int = 7) -> Campaign:
        custodians = [PrivateKey(hashlib.sha256(b"custodian %d" % i).digest()) for i in range(n)]
        organiser = keys_for(campaign_id)
        text = "Meet at the square at noon."
        sealed = protocol.seal_instructions(
            D, organiser, text, [bytes(c.public_key) for c in custodians], t
        )
        record = PledgeRecord(0, ZERO_ACCOUNT, *sealed.as_abi())
        campaign = Campaign(campaign_id, n, t, custodians, organiser, text, {}, {}, [record])
        for index in range(1, pledges + 1):
            campaign.pledge(index)
        return campaign

    return create


def roster_contacts(roster: Roster) -> dict[int, Contact]:
    return {entry.index: entry.contact for entry in roster.members}


# ---------------------------------------------------------------------- keys


@FAST
@given(secrets_32)
def test_derive_keys_derives_separated_keys(secret: bytes) -> None:
    keys = protocol.derive_keys(secret)
    assert (
        keys.account_key
        == hashlib.blake2b(b"spartacus/v2/pledge-account", key=secret, digest_size=32).digest()
    )
    assert keys.account == eth_keys.PrivateKey(keys.account_key).public_key.to_checksum_address()
    assert keys.member_key == sodium.crypto_scalarmult_base(keys.member_secret)
    assert (
        keys.pledge_key
        == hashlib.blake2b(b"spartacus/v2/pledge-key", key=secret, digest_size=32).digest()
    )
    assert len({keys.account_key, keys.member_secret, keys.pledge_key, secret}) == 4
    assert secret.hex() not in repr(keys) and keys.pledge_key.hex() not in repr(keys)


@pytest.mark.parametrize("size", [0, 31, 33])
def test_derive_keys_wrong_length_raises_invalid_secret(size: int) -> None:
    with pytest.raises(InvalidSecret, match=f"32 bytes, not {size}"):
        protocol.derive_keys(bytes(size))


@pytest.mark.parametrize("value", [0, primitives._SECP256K1_ORDER, 2**256 - 1])
def test_derive_keys_unusable_account_key_raises_invalid_secret(
    monkeypatch: pytest.MonkeyPatch, value: int
) -> None:
    monkeypatch.setattr(secret_module, "kdf", lambda secret, label: value.to_bytes(32, "big"))
    with pytest.raises(InvalidSecret, match="unusable account key"):
        protocol.derive_keys(bytes(32))


def test_new_secret_returns_fresh_usable_secrets() -> None:
    first, second = protocol.new_secret(), protocol.new_secret()
    assert len(first) == 32 and first != second
    protocol.derive_keys(first)


# ---------------------------------------------------------------------- payloads


@FAST
@given(contacts)
def test_encode_contact_round_trips(contact: Contact) -> None:
    plain = protocol.encode_contact(contact)
    assert len(plain) == 256
    assert protocol.decode_contact(plain) == contact


def test_encode_contact_pads_canonical_json() -> None:
    plain = protocol.encode_contact(Contact("Ana", "ana@example.org", "ä\n"))
    text = '{"name":"Ana","contact":"ana@example.org","message":"ä\\n"}'.encode()
    assert plain == text + b"\x80" + bytes(255 - len(text))


def test_encode_contact_accepts_exactly_255_bytes() -> None:
    contact = Contact("A", "B", "x" * (255 - len('{"name":"A","contact":"B","message":""}')))
    assert len(payload.contact_json(contact)) == 255
    assert protocol.decode_contact(protocol.encode_contact(contact)) == contact


def test_encode_contact_256_bytes_raises_payload_too_large() -> None:
    contact = Contact("A", "B", "x" * (256 - len('{"name":"A","contact":"B","message":""}')))
    with pytest.raises(PayloadTooLarge, match="256 bytes.*at most 255"):
        protocol.encode_contact(contact)


@pytest.mark.parametrize("contact", [Contact("", "x"), Contact("x", ""), Contact("x", "\ud800")])
def test_encode_contact_invalid_fields_raise_invalid_payload(contact: Contact) -> None:
    with pytest.raises(InvalidPayload):
        protocol.encode_contact(contact)


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "A","contact":"B","message":""}',
        '{"contact":"B","name":"A","message":""}',
        '{"name":"A","contact":"B","message":"","x":1}',
        '{"name":"A","name":"A","contact":"B","message":""}',
        '{"name":"A","contact":"B"}',
        '{"name":"A","contact":"B","message":1}',
        '{"name":"\\u0041","contact":"B","message":""}',
        '["A","B",""]',
        "not json",
    ],
)
def test_decode_contact_non_canonical_raises_invalid_payload(text: str) -> None:
    with pytest.raises(InvalidPayload):
        protocol.decode_contact(protocol.pad(text.encode()))


@pytest.mark.parametrize(
    "plain",
    [b"", bytes(256), b'{"name":"A","contact":"B","message":""}\x80' + bytes(217), bytes(512)],
)
def test_decode_contact_bad_padding_or_size_raises_invalid_payload(plain: bytes) -> None:
    with pytest.raises(InvalidPayload):
        protocol.decode_contact(plain)


@FAST
@given(st.text(st.characters(codec="utf-8"), max_size=1200))
def test_encode_instructions_round_trips(text: str) -> None:
    plain = protocol.encode_instructions(text)
    assert len(plain) % 256 == 0 and 1 <= len(plain) // 256 <= 16
    assert protocol.decode_instructions(plain) == text


def test_encode_instructions_size_limit_is_16_blocks() -> None:
    assert len(protocol.encode_instructions("x" * 4095)) == 4096
    with pytest.raises(PayloadTooLarge, match="4096 bytes.*at most 4095"):
        protocol.encode_instructions("x" * 4096)


# ---------------------------------------------------------------------- sealing and boxes


@pytest.mark.parametrize(("t", "size"), [(1, 32), (2, 33), (5, 33)])
def test_share_and_box_sizes_follow_threshold(t: int, size: int) -> None:
    assert protocol.share_size(t) == size
    assert protocol.box_size(t) == size + 80


@SLOW
@given(
    config=st.sampled_from(CONFIGS),
    contact=contacts,
    secret=secrets_32,
    cid=st.integers(1, 2**256 - 1),
)
def test_seal_pledge_opens_and_decrypts(
    config: tuple[int, int], contact: Contact, secret: bytes, cid: int
) -> None:
    n, t = config
    custodians = [PrivateKey.generate() for _ in range(n)]
    keys = protocol.derive_keys(secret)
    public_keys = [bytes(c.public_key) for c in custodians]
    sealed = protocol.seal_pledge(D, cid, keys, contact, public_keys, t)
    assert len(sealed.ciphertext) == PLEDGE_CIPHERTEXT_SIZE
    assert len(sealed.boxes) == n * protocol.box_size(t)
    assert (
        sealed.commitment == hashlib.sha256(b"spartacus/pledge-key/v1" + keys.pledge_key).digest()
    )
    record = PledgeRecord(1, keys.account, *sealed.as_abi())
    shares = [
        protocol.open_box(bytes(c), D, cid, record, i, n, t) for i, c in enumerate(custodians)
    ]
    for start in range(n - t + 1):
        assert protocol.combine_shares(shares[start : start + t], t) == keys.pledge_key
    plain = protocol.decrypt_payload(
        keys.pledge_key, D, cid, keys.member_key, keys.account, sealed.ciphertext
    )
    assert protocol.decode_contact(plain) == contact


def test_seal_instructions_binds_campaign_zero_and_zero_account() -> None:
    custodian = PrivateKey.generate()
    keys = keys_for(1)
    sealed = protocol.seal_instructions(D, keys, "go", [bytes(custodian.public_key)], 1)
    plain = protocol.decrypt_payload(
        keys.pledge_key, D, 0, keys.member_key, ZERO_ACCOUNT, sealed.ciphertext
    )
    assert protocol.decode_instructions(plain) == "go"
    record = PledgeRecord(0, keys.account, *sealed.as_abi())
    assert protocol.open_box(bytes(custodian), D, 99, record, 0, 1, 1) == keys.pledge_key
    with pytest.raises(InvalidCiphertext):
        protocol.decrypt_payload(
            keys.pledge_key, D, 99, keys.member_key, ZERO_ACCOUNT, sealed.ciphertext
        )


def test_seal_pledge_fixed_nonce_is_deterministic_ciphertext() -> None:
    custodian = PrivateKey.generate()
    keys = keys_for(2)
    one = protocol.seal_pledge(
        D, 3, keys, Contact("a", "b"), [bytes(custodian.public_key)], 1, nonce=bytes(24)
    )
    two = protocol.seal_pledge(
        D, 3, keys, Contact("a", "b"), [bytes(custodian.public_key)], 1, nonce=bytes(24)
    )
    assert one.ciphertext == two.ciphertext and one.ciphertext[:24] == bytes(24)
    assert one.boxes != two.boxes


@pytest.mark.parametrize(
    ("keys", "t", "error"),
    [
        ([], 1, InvalidShare),
        ([b"k" * 32] * 6, 1, InvalidShare),
        ([b"k" * 32, b"j" * 32], 3, InvalidShare),
        ([b"k" * 32, b"j" * 32], 0, InvalidShare),
        ([b"k" * 32, b"k" * 32], 1, InvalidKey),
        ([bytes(32)], 1, InvalidKey),
        ([b"k" * 31], 1, InvalidKey),
    ],
)
def test_seal_pledge_bad_custodians_raise(keys: list[bytes], t: int, error: type) -> None:
    with pytest.raises(error):
        protocol.seal_pledge(D, 1, keys_for(3), Contact("a", "b"), keys, t)


def test_seal_pledge_low_order_custodian_key_raises_invalid_key() -> None:
    low_order = bytes([1]) + bytes(31)
    with pytest.raises(InvalidKey, match="custodian key 0"):
        protocol.seal_pledge(D, 1, keys_for(3), Contact("a", "b"), [low_order], 1)


def test_seal_pledge_campaign_zero_raises() -> None:
    with pytest.raises(CryptoError, match="campaigns 1 and up"):
        protocol.seal_pledge(
            D, 0, keys_for(3), Contact("a", "b"), [bytes(PrivateKey.generate().public_key)], 1
        )


@pytest.mark.parametrize(("n", "t"), [(1, 1), (3, 2)])
def test_open_box_copied_box_raises_binding_mismatch(
    create_campaign: Callable[..., Campaign], n: int, t: int
) -> None:
    campaign = create_campaign(n=n, t=t, pledges=1)
    victim = campaign.records[1]
    attacker = keys_for(666)
    for copied in (
        replace(victim, index=2, account=attacker.account),
        replace(victim, index=2, account=attacker.account, member_key=attacker.member_key),
    ):
        for custodian in range(n):
            with pytest.raises(BindingMismatch, match="pledge 2"):
                protocol.open_box(
                    campaign.secret(custodian), D, campaign.id, copied, custodian, n, t
                )
    moved = replace(victim, index=1)
    with pytest.raises(BindingMismatch):
        protocol.open_box(campaign.secret(0), D, campaign.id + 1, moved, 0, n, t)


def test_open_box_pledge_boxes_in_instructions_raise_binding_mismatch(
    create_campaign: Callable[..., Campaign],
) -> None:
    campaign = create_campaign(n=1, t=1, pledges=1)
    as_instructions = replace(campaign.records[1], index=0)
    with pytest.raises(BindingMismatch):
        protocol.open_box(campaign.secret(0), D, campaign.id, as_instructions, 0, 1, 1)


def test_open_box_swapped_boxes_raise_box_open_error(
    create_campaign: Callable[..., Campaign],
) -> None:
    campaign = create_campaign(n=3, t=2, pledges=1)
    record = campaign.records[1]
    boxes = protocol.split_boxes(record.boxes, 3, 2)
    swapped = replace(record, boxes=boxes[1] + boxes[0] + boxes[2])
    with pytest.raises(BoxOpenError, match="box 0 does not open"):
        protocol.open_box(campaign.secret(0), D, campaign.id, swapped, 0, 3, 2)
    assert protocol.open_box(campaign.secret(2), D, campaign.id, swapped, 2, 3, 2)


@pytest.mark.parametrize("change", ["truncate", "extend", "flip"])
def test_open_box_altered_ciphertext_raises_binding_mismatch(
    create_campaign: Callable[..., Campaign], change: str
) -> None:
    campaign = create_campaign(n=1, t=1, pledges=1)
    record = campaign.records[1]
    ciphertext = {
        "truncate": record.ciphertext[:-1],
        "extend": record.ciphertext + b"\0",
        "flip": record.ciphertext[:-1] + bytes([record.ciphertext[-1] ^ 1]),
    }[change]
    with pytest.raises(BindingMismatch):
        protocol.open_box(
            campaign.secret(0), D, campaign.id, replace(record, ciphertext=ciphertext), 0, 1, 1
        )


@pytest.mark.parametrize("size", [0, 111, 113, 224])
def test_split_boxes_wrong_length_raises_box_open_error(size: int) -> None:
    with pytest.raises(BoxOpenError, match=f"not {size}"):
        protocol.split_boxes(bytes(size), 1, 1)


def test_open_box_wrong_campaign_key_raises_box_open_error(
    create_campaign: Callable[..., Campaign],
) -> None:
    campaign = create_campaign(n=2, t=2, pledges=1)
    with pytest.raises(BoxOpenError):
        protocol.open_box(campaign.secret(1), D, campaign.id, campaign.records[1], 0, 2, 2)


def test_custodian_shares_reports_bad_boxes_without_raising(
    create_campaign: Callable[..., Campaign],
) -> None:
    campaign = create_campaign(n=2, t=2, pledges=2)
    good, victim = campaign.records[1], campaign.records[2]
    copied = replace(victim, index=3, account=keys_for(5).account)
    truncated = replace(good, index=4, boxes=good.boxes[:-1])
    records = [*campaign.records, copied, truncated]
    shares, problems = protocol.custodian_shares(
        campaign.secret(0), D, campaign.id, 0, 2, 2, records
    )
    assert sorted(shares) == [0, 1, 2]
    assert sorted(problems) == [3, 4]
    assert "binding" in problems[3] and "bytes" in problems[4]


# ---------------------------------------------------------------------- ciphertexts


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c[:-1],
        lambda c: c + b"\0",
        lambda c: c[:-256],
        lambda c: c + bytes(256),
        lambda c: c[:24] + bytes([c[24] ^ 1]) + c[25:],
        lambda c: bytes([c[0] ^ 1]) + c[1:],
    ],
)
def test_decrypt_payload_altered_ciphertext_raises_invalid_ciphertext(
    change: Callable[[bytes], bytes],
) -> None:
    keys = keys_for(4)
    sealed = protocol.seal_pledge(
        D, 5, keys, Contact("a", "b"), [bytes(PrivateKey.generate().public_key)], 1
    )
    with pytest.raises(InvalidCiphertext):
        protocol.decrypt_payload(
            keys.pledge_key, D, 5, keys.member_key, keys.account, change(sealed.ciphertext)
        )


def test_decrypt_payload_other_pledge_context_raises_invalid_ciphertext() -> None:
    keys, other = keys_for(4), keys_for(5)
    sealed = protocol.seal_pledge(
        D, 5, keys, Contact("a", "b"), [bytes(PrivateKey.generate().public_key)], 1
    )
    contexts = [
        (6, keys.member_key, keys.account),
        (5, other.member_key, keys.account),
        (5, keys.member_key, other.account),
    ]
    for campaign_id, member_key, account in contexts:
        with pytest.raises(InvalidCiphertext, match="fails authentication"):
            protocol.decrypt_payload(
                keys.pledge_key, D, campaign_id, member_key, account, sealed.ciphertext
            )


# ---------------------------------------------------------------------- Shamir


@SLOW
@given(key=secrets_32, config=st.sampled_from([(2, 2), (3, 2), (5, 3), (5, 5)]), data=st.data())
def test_split_key_any_t_shares_rebuild_key(
    key: bytes, config: tuple[int, int], data: st.DataObject
) -> None:
    n, t = config
    shares = protocol.split_key(key, n, t)
    assert len(shares) == n and all(len(s) == 33 for s in shares)
    chosen = data.draw(st.permutations(shares))[:t]
    assert protocol.combine_shares(chosen, t) == key
    assert bytes(pyshamir.combine([bytearray(s) for s in chosen])) == key


def test_split_key_threshold_one_gives_key_to_everyone() -> None:
    assert protocol.split_key(b"k" * 32, 3, 1) == [b"k" * 32] * 3
    assert protocol.combine_shares([b"k" * 32, b"k" * 32], 1) == b"k" * 32


def test_combine_shares_fewer_than_t_raise_invalid_share() -> None:
    shares = protocol.split_key(b"k" * 32, 3, 3)
    with pytest.raises(InvalidShare, match="2 shares given; 3 are needed"):
        protocol.combine_shares(shares[:2], 3)


@pytest.mark.parametrize(
    "shares",
    [
        [b"a" * 33, b"a" * 33],
        [b"a" * 32 + b"\0", b"b" * 33],
        [b"a" * 32, b"b" * 33],
        [b"a" * 34, b"b" * 34],
    ],
)
def test_combine_shares_malformed_raise_invalid_share(shares: list[bytes]) -> None:
    with pytest.raises(InvalidShare):
        protocol.combine_shares(shares, 2)


def test_combine_shares_differing_keys_with_t1_raise_invalid_share() -> None:
    with pytest.raises(InvalidShare, match="differ"):
        protocol.combine_shares([b"a" * 32, b"b" * 32], 1)


# ---------------------------------------------------------------------- release parts


share_maps = st.dictionaries(
    st.integers(0, 2**32 - 1), st.binary(min_size=33, max_size=33), max_size=40
)


@SLOW
@given(shares=share_maps, max_part=st.integers(6 + 40 + 37, 600), round=st.integers(0, 2**32 - 1))
def test_build_release_public_parts_round_trip(
    shares: dict[int, bytes], max_part: int, round: int
) -> None:
    parts = protocol.build_release(D, 9, 4, round, shares, 2, recipients=None, max_part=max_part)
    gathered: dict[int, bytes] = {}
    for data in parts:
        assert len(data) <= max_part
        part = protocol.parse_release(data)
        assert (part.kind, part.round) == (KIND_PUBLIC, round)
        gathered.update(protocol.release_entries(part.body, 2))
    assert gathered == shares


@SLOW
@given(shares=share_maps, recipients=st.integers(1, 12), max_part=st.integers(6 + 84, 700))
def test_build_release_members_parts_round_trip(
    shares: dict[int, bytes], recipients: int, max_part: int
) -> None:
    max_part = max(max_part, 6 + 40 + 37)
    members = {i: keys_for(i) for i in range(recipients)}
    parts = [
        protocol.parse_release(data)
        for data in protocol.build_release(
            D,
            9,
            2,
            5,
            shares,
            2,
            max_part=max_part,
            recipients={i: k.member_key for i, k in members.items()},
        )
    ]
    assert all(len(p.body) + 6 <= max_part and p.round == 5 for p in parts)
    assert {p.kind for p in parts} == ({KIND_KEYS, KIND_SEALED} if shares else {KIND_KEYS})
    for index, keys in members.items():
        found = [
            protocol.open_key_seal(p, index, keys.member_secret)
            for p in parts
            if p.kind == KIND_KEYS
        ]
        release_keys = {k for k in found if k is not None}
        assert len(release_keys) == 1
        (release_key,) = release_keys
        gathered: dict[int, bytes] = {}
        for part in parts:
            if part.kind == KIND_SEALED:
                gathered.update(protocol.open_sealed_shares(part, release_key, D, 9, 2, 2))
        assert gathered == shares


def test_build_release_fixed_key_and_nonce_is_deterministic() -> None:
    shares = {1: b"s" * 32}
    args = dict(recipients={}, release_key=b"R" * 32, nonces=[b"n" * 24])
    one = protocol.build_release(D, 1, 0, 0, shares, 1, **args)  # type: ignore[arg-type]
    two = protocol.build_release(D, 1, 0, 0, shares, 1, **args)  # type: ignore[arg-type]
    assert one == two and len(one) == 1
    assert one[0][:6] == bytes([1, KIND_SEALED, 0, 0, 0, 0]) and one[0][6:30] == b"n" * 24


def test_build_release_tiny_max_part_raises_invalid_release() -> None:
    with pytest.raises(InvalidRelease, match="too small"):
        protocol.build_release(D, 1, 0, 0, {1: b"s" * 32}, 1, recipients=None, max_part=41)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        bytes([1, 1, 0, 0, 0]),
        bytes([2, 1, 0, 0, 0, 0]),
        bytes([1, 4, 0, 0, 0, 0]),
        bytes([1, 3, 0, 0, 0, 0]),
        bytes([1, 3, 0, 0, 0, 0]) + bytes(83),
        bytes([1, 2, 0, 0, 0, 0]) + bytes(39),
    ],
)
def test_parse_release_malformed_raises_invalid_release(data: bytes) -> None:
    with pytest.raises(InvalidRelease):
        protocol.parse_release(data)


@pytest.mark.parametrize("body", [bytes(35), bytes(4 + 33) * 2])
def test_release_entries_malformed_raise_invalid_release(body: bytes) -> None:
    with pytest.raises(InvalidRelease):
        protocol.release_entries(body, 1)


def test_open_key_seal_non_member_cannot_open() -> None:
    member, outsider = keys_for(1), keys_for(2)
    (data,) = protocol.build_release(D, 1, 0, 0, {}, 1, recipients={3: member.member_key})
    part = protocol.parse_release(data)
    assert protocol.open_key_seal(part, 3, member.member_secret) is not None
    assert protocol.open_key_seal(part, 4, outsider.member_secret) is None
    with pytest.raises(InvalidRelease, match="does not open"):
        protocol.open_key_seal(part, 3, outsider.member_secret)


@pytest.mark.parametrize(("campaign", "custodian", "round"), [(2, 0, 0), (1, 1, 0), (1, 0, 1)])
def test_open_sealed_shares_other_context_raises_invalid_release(
    campaign: int, custodian: int, round: int
) -> None:
    parts = protocol.build_release(
        D, 1, 0, 0, {1: b"s" * 32}, 1, recipients={}, release_key=b"R" * 32
    )
    part = protocol.parse_release(parts[0])
    assert protocol.open_sealed_shares(part, b"R" * 32, D, 1, 0, 1) == {1: b"s" * 32}
    moved = ReleasePart(part.kind, round, part.body)
    with pytest.raises(InvalidRelease, match="fail authentication"):
        protocol.open_sealed_shares(moved, b"R" * 32, D, campaign, custodian, 1)


# ---------------------------------------------------------------------- the roster


@pytest.mark.parametrize(("n", "t"), [(1, 1), (3, 2), (5, 3)])
@pytest.mark.parametrize("members", [True, False])
def test_read_roster_shows_every_active_pledge(
    create_campaign: Callable[..., Campaign], n: int, t: int, members: bool
) -> None:
    campaign = create_campaign(n=n, t=t, pledges=3)
    releases = campaign.release(range(t), members=members)
    readers = [0, 1, 3] if members else [None]
    for reader in readers:
        roster = campaign.read(releases, reader)
        assert roster.problems == [] and roster.missing == []
        assert roster_contacts(roster) == campaign.contacts
        assert roster.instructions == campaign.instructions
        assert [e.account for e in roster.members] == [
            campaign.pledgers[i].account for i in (1, 2, 3)
        ]


def test_read_roster_fewer_than_t_custodians_shows_nothing(
    create_campaign: Callable[..., Campaign],
) -> None:
    campaign = create_campaign(n=3, t=2)
    roster = campaign.read(campaign.release([1], members=False), None)
    assert roster.members == [] and roster.instructions is None and roster.missing == [1, 2, 3]


def test_read_roster_members_release_unreadable_by_public_or_outsider(
    create_campaign: Callable[..., Campaign],
) -> None:
    campaign = create_campaign(n=3, t=2)
    releases = campaign.release(members=True)
    assert campaign.read(releases, None).members == []
    outsider = keys_for(4242)
    roster = protocol.read_roster(
        D, campaign.id, 3, 2, campaign.records, releases, reader=outsider, reader_index=None
    )
    assert roster.members == [] and roster.instructions is None
    assert "not among the active pledges" in roster.problems[0]
    posing = protocol.read_roster(
        D, campaign.id, 3, 2, campaign.records, releases, reader=outsider, reader_index=2
    )
    assert posing.members == [] and posing.missing == [1, 2, 3]
    assert any("does not open with this member key" in p for p in posing.problems)


def test_read_roster_finds_reader_index_from_member_key(
    create_campaign: Callable[..., Campaign],
) -> None:
    campaign = create_campaign(n=2, t=2)
    releases = campaign.release(members=True)
    roster = protocol.read_roster(
        D,
        campaign.id,
        2,
        2,
        campaign.records,
        releases,
        reader=campaign.pledgers[2],
        reader_index=None,
    )
    assert roster_contacts(roster) == campaign.contacts


@pytest.mark.parametrize(("n", "t"), [(1, 1), (3, 2)])
@pytest.mark.parametrize("members", [True, False])
def test_read_roster_copied_boxes_never_reveal_victim(
    create_campaign: Callable[..., Campaign], n: int, t: int, members: bool
) -> None:
    campaign = create_campaign(n=n, t=t, pledges=2)
    victim = campaign.pledge(3, Contact("Victim", "victim@example.org", "withdrawn"))
    attacker = keys_for(666)
    copied = replace(victim, index=4, account=attacker.account, member_key=attacker.member_key)
    active = [r for r in campaign.records if r.index != 3] + [copied]
    campaign.pledgers[4] = attacker
    for custodian in range(n):
        shares, problems = protocol.custodian_shares(
            campaign.secret(custodian), D, campaign.id, custodian, n, t, active
        )
        assert 4 not in shares and "binding" in problems[4]
    releases = campaign.release(members=members, records=active)
    for reader in [4, 1] if members else [None]:
        roster = campaign.read(releases, reader, records=active)
        assert 4 in roster.missing and 3 not in roster_contacts(roster)
        assert all(e.contact.name != "Victim" for e in roster.members)
        assert sorted(roster_contacts(roster)) == [1, 2]


@pytest.mark.parametrize("members", [True, False])
def test_read_roster_share_released_despite_binding_still_hides_victim(
    create_campaign: Callable[..., Campaign], members: bool
) -> None:
    campaign = create_campaign(n=1, t=1, pledges=1)
    victim = campaign.pledge(2, Contact("Victim", "v@example.org"))
    attacker = keys_for(667)
    copied = replace(victim, index=3, account=attacker.account, member_key=attacker.member_key)
    active = [campaign.records[0], campaign.records[1], copied]
    campaign.pledgers[3] = attacker
    victim_key = campaign.pledgers[2].pledge_key

    def negligent(custodian: int, shares: dict[int, bytes]) -> None:
        shares[3] = victim_key

    releases = campaign.release(members=members, records=active, tamper=negligent)
    roster = campaign.read(releases, 3 if members else None, records=active)
    assert sorted(roster_contacts(roster)) == [1] and roster.missing == [3]
    assert any("pledge 3: its key matches its commitment" in p for p in roster.problems)


@pytest.mark.parametrize(("n", "t", "bad"), [(2, 1, 0), (3, 2, 1), (5, 3, 4)])
@pytest.mark.parametrize("members", [True, False])
def test_read_roster_wrong_share_names_custodian(
    create_campaign: Callable[..., Campaign], n: int, t: int, bad: int, members: bool
) -> None:
    campaign = create_campaign(n=n, t=t, pledges=3)

    def wrong(custodian: int, shares: dict[int, bytes]) -> None:
        if custodian == bad:
            shares[2] = bytes(b ^ 0x55 for b in shares[2][:32]) + shares[2][32:]

    releases = campaign.release(members=members, tamper=wrong)
    roster = campaign.read(releases, 1 if members else None)
    assert roster_contacts(roster) == campaign.contacts and roster.missing == []
    assert roster.problems == [
        f"custodian {bad} released shares that match no commitment for pledges 2"
    ]


@pytest.mark.parametrize("members", [True, False])
def test_read_roster_too_few_good_shares_shows_nothing_garbage(
    create_campaign: Callable[..., Campaign], members: bool
) -> None:
    campaign = create_campaign(n=2, t=2, pledges=2)

    def wrong(custodian: int, shares: dict[int, bytes]) -> None:
        if custodian == 1:
            shares[1] = os.urandom(32) + shares[1][32:]

    roster = campaign.read(campaign.release(members=members, tamper=wrong), 2 if members else None)
    assert sorted(roster_contacts(roster)) == [2] and roster.missing == [1]
    assert roster.problems == [
        "pledge 1: the shares from custodians 0, 1 rebuild no key matching its commitment"
    ]


def test_read_roster_withdrawn_pledge_never_readable(
    create_campaign: Callable[..., Campaign],
) -> None:
    campaign = create_campaign(n=1, t=1, pledges=3)
    active = [r for r in campaign.records if r.index != 2]
    leaked = campaign.release(members=False)
    roster = campaign.read(leaked, None, records=active)
    assert sorted(roster_contacts(roster)) == [1, 3]
    assert roster.problems == [
        "custodian 0 released shares for pledges 2, which are not active pledges"
    ]


def test_read_roster_reads_late_pledges_in_a_later_round(
    create_campaign: Callable[..., Campaign],
) -> None:
    campaign = create_campaign(n=3, t=2, pledges=2)
    first = campaign.release(members=True)
    late = campaign.pledge(3)
    second = campaign.release(members=True, round=1, records=[late], active=campaign.records)
    roster = campaign.read(first + second, 1)
    assert roster_contacts(roster) == campaign.contacts and roster.problems == []


def test_read_roster_split_parts_read_like_one(create_campaign: Callable[..., Campaign]) -> None:
    campaign = create_campaign(n=3, t=2, pledges=5)
    releases = campaign.release(members=True, max_part=6 + 84 * 2)
    assert len(releases) > 3 * 2
    roster = campaign.read(releases, 5)
    assert roster_contacts(roster) == campaign.contacts and roster.problems == []


def test_read_roster_reports_malformed_and_foreign_releases(
    create_campaign: Callable[..., Campaign],
) -> None:
    campaign = create_campaign(n=2, t=1, pledges=1)
    releases = [
        ReleaseRecord(0, b"\x01"),
        ReleaseRecord(5, campaign.release([0], members=False)[0].data),
        *campaign.release([1], members=False),
    ]
    roster = campaign.read(releases, None)
    assert roster_contacts(roster) == campaign.contacts
    assert len(roster.problems) == 2
    assert "custodian 0: release 0 is malformed" in roster.problems[0]
    assert "release 1 names custodian 5" in roster.problems[1]


def test_read_roster_altered_sealed_part_reports_custodian(
    create_campaign: Callable[..., Campaign],
) -> None:
    campaign = create_campaign(n=2, t=1, pledges=1)
    releases = campaign.release(members=True)
    altered = [
        ReleaseRecord(r.custodian_index, r.data[:-1] + bytes([r.data[-1] ^ 1]))
        if r.custodian_index == 0 and r.data[1] == KIND_SEALED
        else r
        for r in releases
    ]
    roster = campaign.read(altered, 1)
    assert roster_contacts(roster) == campaign.contacts
    assert roster.problems == [
        "sealed shares of custodian 0, round 0, fail authentication (wrong release key, or "
        "altered, or from another campaign, registry or chain)"
    ]


# ---------------------------------------------------------------------- receipt codes


@FAST
@given(cid=st.integers(0, 2**256 - 1), secret=secrets_32)
def test_encode_receipt_round_trips(cid: int, secret: bytes) -> None:
    code = protocol.encode_receipt(cid, secret)
    prefix, number, *groups = code.split("-")
    assert (prefix, number) == ("sp2", str(cid))
    assert len(groups) == 7 and all(len(g) == 8 for g in groups)
    assert protocol.decode_receipt(code) == (cid, secret)
    assert protocol.decode_receipt(" " + code.lower().replace("-", " - ", 3) + "\n") == (
        cid,
        secret,
    )
    assert protocol.decode_receipt(f"SP2-{cid}-" + "".join(groups)) == (cid, secret)


@FAST
@given(secret=secrets_32, position=st.integers(0, 55), data=st.data())
def test_decode_receipt_one_mistyped_character_raises(
    secret: bytes, position: int, data: st.DataObject
) -> None:
    code = protocol.encode_receipt(12, secret)
    body = code.split("-", 2)[2].replace("-", "")
    typo = data.draw(
        st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567").filter(lambda c: c != body[position])
    )
    with pytest.raises(InvalidReceipt):
        protocol.decode_receipt("sp2-12-" + body[:position] + typo + body[position + 1 :])


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("sp3-1-AAAAAAAA", "starts with 'sp2-'"),
        ("sp1-1-AAAAAAAA", "belong to protocol v1"),
        ("SP1-7-" + "A" * 56, "belong to protocol v1"),
        ("sp2-x-AAAAAAAA", "campaign id"),
        ("sp2-01-AAAAAAAA", "campaign id"),
        ("sp2-1-AAAAAAA0", r"'0' \(perhaps 'O'\)"),
        ("sp2-1-AAAAAAAA", "this one has 8"),
    ],
)
def test_decode_receipt_malformed_raises_helpful_message(code: str, message: str) -> None:
    with pytest.raises(InvalidReceipt, match=message):
        protocol.decode_receipt(code)


def test_decode_receipt_other_campaign_raises_checksum_error() -> None:
    code = protocol.encode_receipt(12, b"s" * 32)
    with pytest.raises(InvalidReceipt, match="checksum"):
        protocol.decode_receipt(code.replace("sp2-12-", "sp2-13-"))


# ---------------------------------------------------------------------- EIP-712


def test_typed_data_digest_recovers_signer() -> None:
    account = Account.from_key(b"\x01" * 32)
    registry = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    sealed = protocol.Sealed(b"P" * 32, b"c" * 296, b"b" * 112, b"h" * 32)
    for data in (
        protocol.endorsement_typed_data(31337, registry, b"C" * 32, 2**40),
        protocol.pledge_typed_data(31337, registry, 1, sealed, 0, 2**40),
        protocol.withdraw_typed_data(31337, registry, 1, 1, 2**40),
    ):
        signature = Account.sign_typed_data(account.key, full_message=data).signature
        digest = protocol.typed_data_digest(data)
        assert Account._recover_hash(digest, signature=signature) == account.address
