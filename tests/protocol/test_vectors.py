"""spartacus.crypto against the shared vectors in tests/vectors/protocol.json."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
from pathlib import Path
from typing import Any

import nacl.bindings as sodium
import pyshamir
import pytest
from eth_abi import encode
from eth_utils import keccak

from spartacus import exceptions, protocol
from spartacus.protocol import Contact, PledgeRecord, ReleaseRecord

ROOT = Path(__file__).resolve().parents[2]
VECTORS_PATH = ROOT / "tests" / "vectors" / "protocol.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def record(data: dict[str, Any]) -> PledgeRecord:
    return PledgeRecord(
        data["index"],
        data["account"],
        h(data["member_key"]),
        h(data["ciphertext"]),
        h(data["boxes"]),
        h(data["commitment"]),
    )


def deployment(data: dict[str, Any]) -> protocol.Deployment:
    return protocol.Deployment(data["chain_id"], data["registry"])


DEPLOYMENT = deployment(VECTORS["deployment"])


def custodian_secret(index: int) -> bytes:
    return h(VECTORS["custodians"][index]["secret_key"])


def test_vectors_file_matches_generator() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_vectors", ROOT / "tools" / "make_vectors.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert VECTORS_PATH.read_text(encoding="utf-8") == module.render()


def test_custodian_vectors_public_keys_derive_from_secret_keys() -> None:
    for custodian in VECTORS["custodians"]:
        assert (
            sodium.crypto_scalarmult_base(h(custodian["secret_key"])).hex()
            == custodian["public_key"]
        )


@pytest.mark.parametrize("vector", VECTORS["kdf"])
def test_derive_keys_matches_vector(vector: dict[str, str]) -> None:
    secret = h(vector["secret"])
    keys = protocol.derive_keys(secret)
    for label, name in [
        (b"spartacus/v2/pledge-account", "account_key"),
        (b"spartacus/v2/member-key", "member_secret"),
        (b"spartacus/v2/pledge-key", "pledge_key"),
    ]:
        assert hashlib.blake2b(label, key=secret, digest_size=32).hexdigest() == vector[name]
    assert keys.account == vector["account"]
    assert keys.member_key.hex() == vector["member_key"]
    assert keys.pledge_key.hex() == vector["pledge_key"]


@pytest.mark.parametrize("vector", VECTORS["pad"])
def test_pad_matches_vector(vector: dict[str, str]) -> None:
    assert protocol.pad(h(vector["data"])).hex() == vector["padded"]
    assert protocol.unpad(h(vector["padded"])).hex() == vector["data"]


@pytest.mark.parametrize("vector", VECTORS["contacts"]["valid"])
def test_encode_contact_matches_vector(vector: dict[str, Any]) -> None:
    contact = Contact(vector["name"], vector["contact"], vector["message"], "mail" in vector)
    plain = h(vector["plain"])
    assert plain[: len(vector["json"].encode())] == vector["json"].encode()
    assert protocol.encode_contact(contact) == plain
    assert protocol.decode_contact(plain) == contact


@pytest.mark.parametrize("vector", VECTORS["contacts"]["too_large"])
def test_encode_contact_too_large_vector_raises(vector: dict[str, Any]) -> None:
    contact = Contact(vector["name"], vector["contact"], vector["message"], "mail" in vector)
    with pytest.raises(exceptions.PayloadTooLarge, match=f"{vector['json_bytes']} bytes"):
        protocol.encode_contact(contact)


@pytest.mark.parametrize("vector", VECTORS["contacts"]["invalid"])
def test_encode_contact_invalid_vector_raises(vector: dict[str, str]) -> None:
    with pytest.raises(exceptions.InvalidPayload):
        protocol.encode_contact(Contact(vector["name"], vector["contact"], vector["message"]))


@pytest.mark.parametrize("plain", VECTORS["contacts"]["bad_plaintexts"])
def test_decode_contact_bad_vector_raises(plain: str) -> None:
    with pytest.raises(exceptions.InvalidPayload):
        protocol.decode_contact(h(plain))


@pytest.mark.parametrize("vector", VECTORS["instructions"])
def test_encode_instructions_matches_vector(vector: dict[str, str]) -> None:
    assert protocol.encode_instructions(vector["text"]).hex() == vector["plain"]
    assert protocol.decode_instructions(h(vector["plain"])) == vector["text"]


@pytest.mark.parametrize("vector", VECTORS["pledges"], ids=lambda v: v["label"])
def test_pledge_vector_seals_opens_and_decrypts(vector: dict[str, Any]) -> None:
    keys = protocol.derive_keys(h(vector["keys"]["secret"]))
    rec = record(vector["record"])
    n, t = vector["n"], vector["t"]
    cid = 0 if rec.index == 0 else vector["campaign_id"]
    plain = h(vector["plain"])
    ad = protocol.pledge_ad(DEPLOYMENT, cid, keys.member_key, rec.account)
    assert ad.hex() == vector["ad"]
    assert ad[:52] == DEPLOYMENT.chain_id.to_bytes(32, "big") + h(DEPLOYMENT.registry[2:])
    ciphertext = protocol.encrypt_payload(
        keys.pledge_key,
        DEPLOYMENT,
        cid,
        keys.member_key,
        rec.account,
        plain,
        nonce=h(vector["nonce"]),
    )
    assert ciphertext == rec.ciphertext
    bind = protocol.binding(DEPLOYMENT, cid, keys.member_key, rec.account, ciphertext)
    assert bind.hex() == vector["binding"] == hashlib.sha256(ad + ciphertext).hexdigest()
    assert protocol.commitment(keys.pledge_key) == rec.commitment
    opened = protocol.decrypt_payload(
        keys.pledge_key, DEPLOYMENT, cid, keys.member_key, rec.account, ciphertext
    )
    assert opened == plain
    if rec.index == 0:
        assert protocol.decode_instructions(plain) == vector["instructions"]
    else:
        assert protocol.decode_contact(plain) == Contact(**vector["contact"])
    shares = [
        protocol.open_box(custodian_secret(i), DEPLOYMENT, vector["campaign_id"], rec, i, n, t)
        for i in range(n)
    ]
    assert [s.hex() for s in shares] == vector["shares"]
    assert protocol.combine_shares(shares[-t:], t) == keys.pledge_key


@pytest.mark.parametrize("vector", VECTORS["tampered_boxes"], ids=lambda v: v["description"])
def test_tampered_box_vector_raises(vector: dict[str, Any]) -> None:
    error = getattr(exceptions, vector["error"])
    for i in range(vector["n"]):
        with pytest.raises(error):
            protocol.open_box(
                custodian_secret(i),
                deployment(vector["deployment"]),
                vector["campaign_id"],
                record(vector["record"]),
                i,
                vector["n"],
                vector["t"],
            )


@pytest.mark.parametrize("vector", VECTORS["shamir"], ids=lambda v: f"{v['t']}-of-{v['n']}")
def test_shamir_vector_any_t_shares_combine(vector: dict[str, Any]) -> None:
    shares = [h(s) for s in vector["shares"]]
    t = vector["t"]
    for subset in itertools.combinations(shares, t):
        assert protocol.combine_shares(list(subset), t).hex() == vector["secret"]
        assert bytes(pyshamir.combine([bytearray(s) for s in subset])).hex() == vector["secret"]
    with pytest.raises(exceptions.InvalidShare):
        protocol.combine_shares(shares[: t - 1], t)


def test_release_vectors_build_and_parse() -> None:
    v = VECTORS["releases"]
    cid, custodian, t = v["campaign_id"], v["custodian_index"], v["t"]
    shares = {int(i): h(s) for i, s in v["shares"].items()}
    public = protocol.build_release(DEPLOYMENT, cid, custodian, 0, shares, t, recipients=None)
    assert [p.hex() for p in public] == v["public"]["parts"]
    parts = [protocol.parse_release(p) for p in public]
    assert {k: s for p in parts for k, s in protocol.release_entries(p.body, t).items()} == shares

    sealed = v["sealed"]
    assert protocol.release_ad(DEPLOYMENT, cid, custodian, sealed["round"]).hex() == sealed["ad"]
    built = protocol.build_release(
        DEPLOYMENT,
        cid,
        custodian,
        sealed["round"],
        shares,
        t,
        recipients={},
        release_key=h(sealed["release_key"]),
        nonces=[h(sealed["nonce"])],
    )
    assert [p.hex() for p in built] == sealed["parts"]
    (part,) = [protocol.parse_release(h(p)) for p in sealed["parts"]]
    assert (part.kind, part.round) == (protocol.KIND_SEALED, sealed["round"])
    key = h(sealed["release_key"])
    assert protocol.open_sealed_shares(part, key, DEPLOYMENT, cid, custodian, t) == shares


def test_key_seal_vector_opens_for_members_only() -> None:
    v = VECTORS["releases"]["key_seals"]
    part = protocol.parse_release(h(v["part"]))
    assert (part.kind, part.round) == (protocol.KIND_KEYS, v["round"])
    for member in v["members"]:
        key = protocol.open_key_seal(part, member["index"], h(member["member_secret"]))
        assert key is not None and key.hex() == v["release_key"]
    assert protocol.open_key_seal(part, 4, h(v["outsider_member_secret"])) is None
    with pytest.raises(exceptions.InvalidRelease):
        protocol.open_key_seal(part, v["members"][0]["index"], h(v["outsider_member_secret"]))


@pytest.mark.parametrize("data", VECTORS["releases"]["malformed"])
def test_malformed_release_vector_raises(data: str) -> None:
    with pytest.raises(exceptions.InvalidRelease):
        protocol.parse_release(h(data))


@pytest.mark.parametrize("mode", ["members_mode", "public_mode"])
def test_roster_vector_reads_expected_roster(mode: str) -> None:
    v = VECTORS["roster"]
    records = [record(r) for r in v["records"]]
    releases = [ReleaseRecord(r["custodian_index"], h(r["data"])) for r in v[mode]["releases"]]
    for expected in v[mode]["expected"]:
        reader = None
        if expected["reader_secret"] is not None:
            reader = protocol.derive_keys(h(expected["reader_secret"]))
        roster = protocol.read_roster(
            DEPLOYMENT,
            v["campaign_id"],
            v["n"],
            v["t"],
            records,
            releases,
            reader=reader,
            reader_index=expected["reader_index"],
        )
        assert roster.problems == []
        members = [
            {
                "index": e.index,
                "account": e.account,
                "name": e.contact.name,
                "contact": e.contact.contact,
                "message": e.contact.message,
            }
            for e in roster.members
        ]
        assert members == expected["members"]
        assert roster.instructions == expected["instructions"]
        assert roster.missing == expected["missing"]
        assert all(m["index"] not in v["withdrawn"] for m in members)
    assert any(e["members"] for e in v[mode]["expected"])


def test_roster_vector_withdrawn_pledge_has_no_release() -> None:
    v = VECTORS["roster"]
    (withdrawn,) = [record(r) for r in v["withdrawn_records"]]
    releases = [
        ReleaseRecord(r["custodian_index"], h(r["data"])) for r in v["public_mode"]["releases"]
    ]
    roster = protocol.read_roster(
        DEPLOYMENT,
        v["campaign_id"],
        v["n"],
        v["t"],
        [*map(record, v["records"]), withdrawn],
        releases,
        reader=None,
        reader_index=None,
    )
    assert roster.missing == [withdrawn.index]


@pytest.mark.parametrize("vector", VECTORS["receipts"]["valid"], ids=lambda v: v["code"])
def test_receipt_vector_round_trips(vector: dict[str, Any]) -> None:
    cid, secret = int(vector["campaign_id"]), h(vector["secret"])
    assert protocol.encode_receipt(cid, secret) == vector["code"]
    for code in [vector["code"], *vector["equivalent"]]:
        assert protocol.decode_receipt(code) == (cid, secret)


@pytest.mark.parametrize("code", VECTORS["receipts"]["invalid"])
def test_receipt_vector_invalid_raises(code: str) -> None:
    with pytest.raises(exceptions.InvalidReceipt):
        protocol.decode_receipt(code)


def test_receipt_vector_v1_code_is_refused_as_v1() -> None:
    (v1,) = [code for code in VECTORS["receipts"]["invalid"] if code.startswith("sp1-")]
    with pytest.raises(exceptions.InvalidReceipt, match="protocol v1"):
        protocol.decode_receipt(v1)


def _struct_hash(primary: str, message: dict[str, Any]) -> bytes:
    fields = VECTORS["eip712"]["types"][primary]
    signature = f"{primary}({','.join(f['type'] + ' ' + f['name'] for f in fields)})"
    types, values = ["bytes32"], [keccak(text=signature)]
    for f in fields:
        value = message[f["name"]]
        if f["type"] == "bytes":
            types.append("bytes32")
            values.append(keccak(h(value)))
        elif f["type"] == "bytes32":
            types.append("bytes32")
            values.append(h(value))
        else:
            types.append(f["type"])
            values.append(value)
    return bytes(keccak(encode(types, values)))


@pytest.mark.parametrize("primary", ["Endorsement", "Pledge", "Withdraw"])
def test_eip712_vector_digest_matches_by_hand_and_by_library(primary: str) -> None:
    v = VECTORS["eip712"]
    message = v[primary]["message"]
    by_hand = keccak(b"\x19\x01" + h(v["domain_separator"]) + _struct_hash(primary, message))
    assert by_hand.hex() == v[primary]["digest"]
    builders = {
        "Endorsement": lambda: protocol.endorsement_typed_data(
            v["chain_id"], v["verifying_contract"], h(message["campaignKey"]), message["expiry"]
        ),
        "Pledge": lambda: protocol.pledge_typed_data(
            v["chain_id"],
            v["verifying_contract"],
            message["campaignId"],
            protocol.Sealed(
                *(h(message[k]) for k in ("memberKey", "ciphertext", "boxes", "commitment"))
            ),
            message["nonce"],
            message["validUntil"],
        ),
        "Withdraw": lambda: protocol.withdraw_typed_data(
            v["chain_id"],
            v["verifying_contract"],
            message["campaignId"],
            message["nonce"],
            message["validUntil"],
        ),
    }
    assert protocol.typed_data_digest(builders[primary]()).hex() == v[primary]["digest"]


# ---------------------------------------------------------------------- gated pledges


@pytest.mark.parametrize("vector", VECTORS["gated"]["scopes"])
def test_gated_scope_vector_matches_by_hand_and_by_library(vector: dict[str, Any]) -> None:
    from spartacus.protocol.groups import membership_scope

    d, campaign_id = deployment(vector), vector["campaign_id"]
    by_hand = keccak(
        encode(["uint256", "address", "uint256"], [d.chain_id, d.registry, campaign_id])
    )
    assert str(int.from_bytes(by_hand, "big")) == vector["scope"]
    assert str(membership_scope(d, campaign_id)) == vector["scope"]


def test_gated_message_vector_binds_the_eip712_pledge_and_its_account() -> None:
    from spartacus.protocol.groups import membership_message

    v, pledge = VECTORS["gated"]["message"], VECTORS["eip712"]["Pledge"]["message"]
    assert v["pledge_digest"] == VECTORS["eip712"]["Pledge"]["digest"]
    assert (v["campaign_id"], v["nonce"], v["valid_until"]) == (
        pledge["campaignId"],
        pledge["nonce"],
        pledge["validUntil"],
    )
    by_hand = keccak(encode(["bytes32", "address"], [h(v["pledge_digest"]), v["account"]]))
    assert str(int.from_bytes(by_hand, "big")) == v["message"]
    sealed = protocol.Sealed(
        *(h(pledge[k]) for k in ("memberKey", "ciphertext", "boxes", "commitment"))
    )
    message = membership_message(
        deployment(v), v["campaign_id"], v["account"], sealed, v["nonce"], v["valid_until"]
    )
    assert str(message) == v["message"]
