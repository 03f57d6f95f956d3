"""Generate tests/vectors/protocol.json, the cross-language test vectors of docs/protocol.md.

Run from the repository root: ``.venv/bin/python tools/make_vectors.py`` (``--check`` only
compares). Every input is fixed, so the output never changes unless the protocol does;
tests/protocol/test_vectors.py fails if the file and this generator disagree.

Randomised constructions are made deterministic here only, never in the library:

- sealed boxes (``crypto_box_seal``) use a fixed ephemeral secret key: the box is exactly
  what libsodium builds with that ephemeral key, so the vectors test *opening* with the
  fixed recipient secret key given next to them;
- Shamir shares come from fixed polynomial coefficients and x-coordinates, evaluated by
  pyshamir's own GF(256) arithmetic (HashiCorp format);
- AEAD nonces and release keys are fixed inputs.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
from pathlib import Path
from typing import Any

import nacl.bindings as sodium
from pyshamir._utils import Polynomial

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spartacus import protocol  # noqa: E402
from spartacus.protocol import Contact, PledgeKeys, PledgeRecord, ReleaseRecord  # noqa: E402
from spartacus.protocol.payload import contact_json as canonical_contact_json  # noqa: E402

OUTPUT = ROOT / "tests" / "vectors" / "protocol.json"
CHAIN_ID = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
# Every sealed byte format is bound to a registry on a chain (protocol v2): the vectors use
# this one, and the tampered boxes also present a pledge to a copy on another registry/chain.
DEPLOYMENT = protocol.Deployment(CHAIN_ID, REGISTRY)
OTHER_REGISTRY = protocol.Deployment(CHAIN_ID, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")
OTHER_CHAIN = protocol.Deployment(10, REGISTRY)


def fixed(label: str, size: int = 32) -> bytes:
    """Deterministic bytes named by ``label``."""
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"spartacus vectors/{label}/{counter}".encode()).digest()
        counter += 1
    return out[:size]


def fixed_secret(label: str) -> bytes:
    """A fixed pledge secret whose account key is usable."""
    secret = fixed(label)
    protocol.derive_keys(secret)
    return secret


def deterministic_seal(message: bytes, public_key: bytes, label: str) -> bytes:
    """``crypto_box_seal`` with the ephemeral secret key ``fixed(label)``."""
    ephemeral_secret = fixed("ephemeral/" + label)
    ephemeral_public = sodium.crypto_scalarmult_base(ephemeral_secret)
    nonce = hashlib.blake2b(ephemeral_public + public_key, digest_size=24).digest()
    box = ephemeral_public + sodium.crypto_box(message, nonce, public_key, ephemeral_secret)
    return box


def fixed_split(key: bytes, n: int, t: int, label: str) -> list[bytes]:
    """Shamir shares in the HashiCorp format from fixed coefficients and x-coordinates."""
    if t == 1:
        return [key] * n
    coefficients = fixed("coefficients/" + label, len(key) * (t - 1))
    xs = [1 + (x % 255) for x in fixed("xs/" + label, n)]
    for i in range(n):  # distinct x-coordinates
        while xs[i] in xs[:i]:
            xs[i] = 1 + xs[i] % 255
    shares = [bytearray(len(key) + 1) for _ in range(n)]
    for position, byte in enumerate(key):
        polynomial = Polynomial(t - 1)
        polynomial.coefficients[0] = byte
        rest = coefficients[position * (t - 1) : (position + 1) * (t - 1)]
        polynomial.coefficients[1:] = rest
        for share, x in zip(shares, xs, strict=True):
            share[position] = polynomial.evaluate(x)
    for share, x in zip(shares, xs, strict=True):
        share[-1] = x
    return [bytes(share) for share in shares]


def custodian_key(label: str) -> tuple[bytes, bytes]:
    secret = fixed("custodian/" + label)
    return secret, sodium.crypto_scalarmult_base(secret)


def keys_json(keys: PledgeKeys) -> dict[str, str]:
    return {
        "secret": keys.secret.hex(),
        "account_key": keys.account_key.hex(),
        "account": keys.account,
        "member_secret": keys.member_secret.hex(),
        "member_key": keys.member_key.hex(),
        "pledge_key": keys.pledge_key.hex(),
    }


def contact_json(contact: Contact) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": contact.name,
        "contact": contact.contact,
        "message": contact.message,
    }
    if contact.mail:
        fields["mail"] = True
    return fields


def deployment_json(deployment: protocol.Deployment) -> dict[str, Any]:
    return {"chain_id": deployment.chain_id, "registry": deployment.registry}


def record_json(record: PledgeRecord) -> dict[str, Any]:
    return {
        "index": record.index,
        "account": record.account,
        "member_key": record.member_key.hex(),
        "ciphertext": record.ciphertext.hex(),
        "boxes": record.boxes.hex(),
        "commitment": record.commitment.hex(),
    }


# ---------------------------------------------------------------------- sections


def kdf_vectors() -> list[dict[str, str]]:
    secrets_ = [bytes(32), bytes(range(32)), fixed_secret("kdf")]
    return [keys_json(protocol.derive_keys(secret)) for secret in secrets_]


def contact_vectors() -> dict[str, Any]:
    base = len('{"name":"A","contact":"B","message":""}')
    good = [
        Contact("Ana", "ana@example.org"),
        Contact("Zoë Ørsted", "signal: +44 20 7946 0000", 'line one\nline "two" \\ ✊'),
        Contact("ctl\u0001\u001f\u007f", "tab\t\b\f\r/", "\u2028\u2029 😀 </script>"),
        Contact("A", "B", "x" * (255 - base)),
        Contact("Ana", "ana@example.org", mail=True),
        Contact("A", "B", "x" * (255 - base - len(',"mail":true')), mail=True),
    ]
    return {
        "valid": [
            {
                **contact_json(c),
                "json": canonical_contact_json(c).decode(),
                "plain": protocol.encode_contact(c).hex(),
            }
            for c in good
        ],
        "too_large": [
            {**contact_json(c), "json_bytes": len(canonical_contact_json(c))}
            for c in (
                Contact("A", "B", "x" * (256 - base)),
                Contact("Ä" * 100, "B", "é" * 30),
                Contact("A", "B", "x" * (256 - base - len(',"mail":true')), mail=True),
            )
        ],
        "invalid": [contact_json(Contact("", "x")), contact_json(Contact("x", ""))],
        "bad_plaintexts": [
            protocol.pad(b'{"name": "A","contact":"B","message":""}').hex(),
            protocol.pad(b'{"contact":"B","name":"A","message":""}').hex(),
            protocol.pad(b'{"name":"A","contact":"B","message":"","x":""}').hex(),
            protocol.pad(b'{"name":"\\u0041","contact":"B","message":""}').hex(),
            protocol.pad(b'{"name":"A","contact":"B","message":"","mail":false}').hex(),
            protocol.pad(b'{"name":"A","contact":"B","message":"","mail":1}').hex(),
            protocol.pad(b'{"name":"A","contact":"B","message":"","mail":"true"}').hex(),
            protocol.pad(b'{"name":"A","contact":"B","mail":true,"message":""}').hex(),
            protocol.pad(b'{"name":"A","contact":"B","message":"","mail": true}').hex(),
            bytes(256).hex(),
            (b'{"name":"A","contact":"B","message":""}\x80' + bytes(217)).hex(),
        ],
    }


def instruction_vectors() -> list[dict[str, str]]:
    texts = ["", "Meet at the square at noon.", "Ünïcødé " * 40]
    return [{"text": t, "plain": protocol.encode_instructions(t).hex()} for t in texts]


def seal_vector(
    label: str,
    campaign_id: int,
    index: int,
    keys: PledgeKeys,
    plain: bytes,
    custodians: list[tuple[bytes, bytes]],
    t: int,
) -> tuple[dict[str, Any], PledgeRecord]:
    """A pledge (index >= 1) or the instructions (index 0), sealed deterministically."""
    account = protocol.ZERO_ACCOUNT if index == 0 else keys.account
    cid = 0 if index == 0 else campaign_id
    nonce = fixed("nonce/" + label, 24)
    ciphertext = protocol.encrypt_payload(
        keys.pledge_key, DEPLOYMENT, cid, keys.member_key, account, plain, nonce=nonce
    )
    bind = protocol.binding(DEPLOYMENT, cid, keys.member_key, account, ciphertext)
    shares = fixed_split(keys.pledge_key, len(custodians), t, label)
    boxes = [
        deterministic_seal(share + bind, public, f"{label}/box/{i}")
        for i, (share, (_, public)) in enumerate(zip(shares, custodians, strict=True))
    ]
    record = PledgeRecord(
        index,
        account,
        keys.member_key,
        ciphertext,
        b"".join(boxes),
        protocol.commitment(keys.pledge_key),
    )
    vector = {
        "label": label,
        "campaign_id": campaign_id,
        "index": index,
        "n": len(custodians),
        "t": t,
        "keys": keys_json(keys),
        "plain": plain.hex(),
        "nonce": nonce.hex(),
        "ad": protocol.pledge_ad(DEPLOYMENT, cid, keys.member_key, account).hex(),
        "binding": bind.hex(),
        "shares": [share.hex() for share in shares],
        "record": record_json(record),
    }
    return vector, record


def pledge_vectors(
    custodians: list[tuple[bytes, bytes]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    organiser = protocol.derive_keys(fixed_secret("organiser"))
    alice = protocol.derive_keys(fixed_secret("alice"))
    bob = protocol.derive_keys(fixed_secret("bob"))
    cases: list[tuple[str, int, int, PledgeKeys, Contact | str, int, int]] = [
        ("pledge t=1", 7, 1, alice, Contact("Alice", "alice@example.org", "count me in"), 1, 1),
        ("pledge 2-of-3", 7, 2, bob, Contact("Bob", "@bob:matrix.org"), 3, 2),
        ("instructions 2-of-3", 7, 0, organiser, "Meet at the square at noon.", 3, 2),
    ]
    vectors = []
    tampered = []
    for label, cid, index, keys, payload, n, t in cases:
        plain = (
            protocol.encode_instructions(payload)
            if isinstance(payload, str)
            else protocol.encode_contact(payload)
        )
        vector, record = seal_vector(label, cid, index, keys, plain, custodians[:n], t)
        if isinstance(payload, Contact):
            vector["contact"] = contact_json(payload)
        else:
            vector["instructions"] = payload
        vectors.append(vector)
        if index != 0:
            mallory = protocol.derive_keys(fixed_secret("mallory"))
            copied = PledgeRecord(
                index + 10, mallory.account, mallory.member_key, *record_json_bytes(record)
            )
            tampered.append(
                {
                    "description": f"{label}: boxes and ciphertext copied into another account's "
                    "pledge; every custodian must refuse (binding mismatch)",
                    "deployment": deployment_json(DEPLOYMENT),
                    "campaign_id": cid,
                    "n": n,
                    "t": t,
                    "record": record_json(copied),
                    "error": "BindingMismatch",
                }
            )
            as_instructions = PledgeRecord(0, protocol.ZERO_ACCOUNT, *record_tail(record))
            tampered.append(
                {
                    "description": f"{label}: a pledge's boxes presented as the instructions",
                    "deployment": deployment_json(DEPLOYMENT),
                    "campaign_id": cid,
                    "n": n,
                    "t": t,
                    "record": record_json(as_instructions),
                    "error": "BindingMismatch",
                }
            )
            for elsewhere, what in ((OTHER_REGISTRY, "registry"), (OTHER_CHAIN, "chain id")):
                tampered.append(
                    {
                        "description": f"{label}: the whole pledge replayed into campaign {cid} "
                        f"of a registry on another {what}; every custodian must refuse",
                        "deployment": deployment_json(elsewhere),
                        "campaign_id": cid,
                        "n": n,
                        "t": t,
                        "record": record_json(record),
                        "error": "BindingMismatch",
                    }
                )
    return vectors, tampered


def record_json_bytes(record: PledgeRecord) -> tuple[bytes, bytes, bytes]:
    return record.ciphertext, record.boxes, record.commitment


def record_tail(record: PledgeRecord) -> tuple[bytes, bytes, bytes, bytes]:
    return record.member_key, record.ciphertext, record.boxes, record.commitment


def shamir_vectors() -> list[dict[str, Any]]:
    secret = fixed("shamir secret")
    out = []
    for n, t in ((3, 2), (5, 3)):
        shares = fixed_split(secret, n, t, f"shamir {n} {t}")
        out.append({"n": n, "t": t, "secret": secret.hex(), "shares": [s.hex() for s in shares]})
    return out


def _part(kind: int, round: int, body: bytes) -> bytes:
    return struct.pack(">BBI", 1, kind, round) + body


def key_seal_part(
    round: int, release_key: bytes, recipients: dict[int, bytes], label: str
) -> bytes:
    body = b"".join(
        struct.pack(">I", index) + deterministic_seal(release_key, key, f"{label}/{index}")
        for index, key in sorted(recipients.items())
    )
    return _part(protocol.KIND_KEYS, round, body)


def release_vectors() -> dict[str, Any]:
    cid, custodian, t = 7, 1, 2
    shares = {index: fixed(f"release share {index}", 33) for index in (0, 1, 2, 5)}
    public = protocol.build_release(DEPLOYMENT, cid, custodian, 0, shares, t, recipients=None)
    release_key = fixed("release key")
    nonce = fixed("release nonce", 24)
    sealed = protocol.build_release(
        DEPLOYMENT,
        cid,
        custodian,
        3,
        shares,
        t,
        recipients={},
        release_key=release_key,
        nonces=[nonce],
    )
    members = {
        index: protocol.derive_keys(fixed_secret(f"member {index}")) for index in (0, 1, 2, 5)
    }
    keys_part = key_seal_part(
        3, release_key, {i: k.member_key for i, k in members.items()}, "release"
    )
    outsider = protocol.derive_keys(fixed_secret("outsider"))
    return {
        "campaign_id": cid,
        "custodian_index": custodian,
        "t": t,
        "shares": {str(i): s.hex() for i, s in shares.items()},
        "public": {"round": 0, "parts": [p.hex() for p in public]},
        "sealed": {
            "round": 3,
            "release_key": release_key.hex(),
            "nonce": nonce.hex(),
            "ad": protocol.release_ad(DEPLOYMENT, cid, custodian, 3).hex(),
            "parts": [p.hex() for p in sealed],
        },
        "key_seals": {
            "round": 3,
            "release_key": release_key.hex(),
            "members": [
                {
                    "index": i,
                    "member_secret": k.member_secret.hex(),
                    "member_key": k.member_key.hex(),
                }
                for i, k in members.items()
            ],
            "outsider_member_secret": outsider.member_secret.hex(),
            "part": keys_part.hex(),
        },
        "malformed": [
            "",
            "0101000000",
            "020100000000",
            "010400000000",
            "010300000000",
            "010300000000" + "00" * 83,
            "010200000000" + "00" * 39,
        ],
    }


def roster_vectors(custodians: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """A whole 2-of-3 campaign: instructions, two pledges, and releases in both modes."""
    cid, n, t = 11, 3, 2
    organiser = protocol.derive_keys(fixed_secret("roster organiser"))
    pledgers = {i: protocol.derive_keys(fixed_secret(f"roster pledger {i}")) for i in (1, 2, 3)}
    contacts = {
        1: Contact("Ada", "ada@example.org", "ready"),
        2: Contact("Grace", "+1 555 0100"),
        3: Contact("Withdrawn", "gone@example.org"),
    }
    text = "We meet on Friday. Bring a friend."
    records = [
        seal_vector(
            "roster 0", cid, 0, organiser, protocol.encode_instructions(text), custodians, t
        )[1]
    ]
    for index, keys in pledgers.items():
        plain = protocol.encode_contact(contacts[index])
        records.append(seal_vector(f"roster {index}", cid, index, keys, plain, custodians, t)[1])
    active = [r for r in records if r.index != 3]
    recipients = {r.index: r.member_key for r in active}

    members_mode: list[ReleaseRecord] = []
    public_mode: list[ReleaseRecord] = []
    for custodian in (0, 2):
        shares, problems = protocol.custodian_shares(
            custodians[custodian][0], DEPLOYMENT, cid, custodian, n, t, active
        )
        assert not problems, problems
        release_key = fixed(f"roster release key {custodian}")
        nonce = fixed(f"roster release nonce {custodian}", 24)
        members_mode.append(
            ReleaseRecord(
                custodian, key_seal_part(0, release_key, recipients, f"roster {custodian}")
            )
        )
        members_mode += [
            ReleaseRecord(custodian, part)
            for part in protocol.build_release(
                DEPLOYMENT,
                cid,
                custodian,
                0,
                shares,
                t,
                recipients={},
                release_key=release_key,
                nonces=[nonce],
            )
        ]
        public_mode += [
            ReleaseRecord(custodian, part)
            for part in protocol.build_release(
                DEPLOYMENT, cid, custodian, 0, shares, t, recipients=None
            )
        ]

    def expect(releases: list[ReleaseRecord], reader: int | None) -> dict[str, Any]:
        keys = None if reader is None else (organiser if reader == 0 else pledgers[reader])
        roster = protocol.read_roster(
            DEPLOYMENT, cid, n, t, active, releases, reader=keys, reader_index=reader
        )
        assert not roster.problems, roster.problems
        return {
            "reader_index": reader,
            "reader_secret": None if keys is None else keys.secret.hex(),
            "members": [
                {"index": e.index, "account": e.account, **contact_json(e.contact)}
                for e in roster.members
            ],
            "instructions": roster.instructions,
            "missing": roster.missing,
        }

    return {
        "campaign_id": cid,
        "n": n,
        "t": t,
        "custodian_public_keys": [public.hex() for _, public in custodians],
        "withdrawn": [3],
        "records": [record_json(r) for r in active],
        "withdrawn_records": [record_json(r) for r in records if r.index == 3],
        "members_mode": {
            "releases": [
                {"custodian_index": r.custodian_index, "data": r.data.hex()} for r in members_mode
            ],
            "expected": [expect(members_mode, reader) for reader in (0, 1, 2, None)],
        },
        "public_mode": {
            "releases": [
                {"custodian_index": r.custodian_index, "data": r.data.hex()} for r in public_mode
            ],
            "expected": [expect(public_mode, None)],
        },
    }


def receipt_vectors() -> dict[str, Any]:
    cases = [(1, bytes(32)), (7, fixed_secret("alice")), (2**64 + 3, fixed_secret("bob"))]
    valid = []
    for cid, secret in cases:
        code = protocol.encode_receipt(cid, secret)
        body = code.split("-", 2)[2]
        valid.append(
            {
                "campaign_id": str(cid),
                "secret": secret.hex(),
                "code": code,
                "equivalent": [
                    code.lower(),
                    f"  SP2-{cid}-{body.replace('-', ' ')}\n",
                    f"sp2-{cid}-{body.replace('-', '')}",
                ],
            }
        )
    code = protocol.encode_receipt(*cases[1])
    flipped = code[:-1] + ("A" if code[-1] != "A" else "B")
    invalid = [
        flipped,
        code.replace("sp2-7-", "sp2-8-"),
        code.replace("sp2-", "sp3-"),
        code.replace("sp2-", "sp1-"),  # a v1 code: refused, v1 secrets derive other keys
        code.replace("sp2-7-", "sp2-07-"),
        code[:-1],
        code + "A",
        code[:-1] + "0",
    ]
    return {"valid": valid, "invalid": invalid}


def eip712_vectors() -> dict[str, Any]:
    sealed = protocol.Sealed(fixed("P"), fixed("ciphertext", 296), fixed("boxes", 339), fixed("h"))
    cases = [
        (
            "Endorsement",
            protocol.endorsement_typed_data(CHAIN_ID, REGISTRY, fixed("C"), 1_900_000_000),
        ),
        ("Pledge", protocol.pledge_typed_data(CHAIN_ID, REGISTRY, 7, sealed, 2, 1_900_003_600)),
        ("Withdraw", protocol.withdraw_typed_data(CHAIN_ID, REGISTRY, 7, 3, 1_900_007_200)),
    ]
    out: dict[str, Any] = {
        "chain_id": CHAIN_ID,
        "verifying_contract": REGISTRY,
        "name": protocol.DOMAIN_NAME,
        "version": protocol.DOMAIN_VERSION,
        "domain_separator": _domain_separator().hex(),
        "types": {k: v for k, v in protocol.EIP712_TYPES.items() if k != "EIP712Domain"},
    }
    for primary, data in cases:
        message = {k: v.hex() if isinstance(v, bytes) else v for k, v in data["message"].items()}
        out[primary] = {"message": message, "digest": protocol.typed_data_digest(data).hex()}
    return out


def gated_vectors() -> dict[str, Any]:
    """The Semaphore scope and message of a gated pledge (docs/protocol.md, "Gated pledges"),
    by spartacus.protocol.groups: the message binds the eip712 section's Pledge."""
    from spartacus.protocol.groups import membership_message, membership_scope

    sealed = protocol.Sealed(fixed("P"), fixed("ciphertext", 296), fixed("boxes", 339), fixed("h"))
    account = protocol.derive_keys(fixed_secret("gated")).account
    scopes = [
        {**deployment_json(d), "campaign_id": cid, "scope": str(membership_scope(d, cid))}
        for d, cid in [(DEPLOYMENT, 7), (DEPLOYMENT, 8), (OTHER_REGISTRY, 7), (OTHER_CHAIN, 7)]
    ]
    typed = protocol.pledge_typed_data(CHAIN_ID, REGISTRY, 7, sealed, 2, 1_900_003_600)
    message = membership_message(DEPLOYMENT, 7, account, sealed, 2, 1_900_003_600)
    return {
        "scopes": scopes,
        "message": {
            **deployment_json(DEPLOYMENT),
            "campaign_id": 7,
            "account": account,
            "nonce": 2,
            "valid_until": 1_900_003_600,
            "pledge_digest": protocol.typed_data_digest(typed).hex(),
            "message": str(message),
        },
    }


def _domain_separator() -> bytes:
    from eth_abi import encode
    from eth_utils import keccak

    type_hash = keccak(
        b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    DOMAIN_VERSION_BYTES = protocol.DOMAIN_VERSION.encode()  # noqa: N806
    return bytes(
        keccak(
            encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [type_hash, keccak(b"Spartacus"), keccak(DOMAIN_VERSION_BYTES), CHAIN_ID, REGISTRY],
            )
        )
    )


def build_vectors() -> dict[str, Any]:
    """Every vector, from fixed inputs only."""
    custodians = [custodian_key(str(i)) for i in range(3)]
    pledges, tampered = pledge_vectors(custodians)
    return {
        "about": "Spartacus protocol test vectors (docs/protocol.md); generated by "
        "tools/make_vectors.py. Bytes are lower-case hex without 0x; addresses are EIP-55. "
        "Custodian indices are 0-based. Sealed boxes were made with fixed ephemeral keys: "
        "test by opening them with the custodian or member secret keys given here.",
        "version": 1,
        "custodians": [
            {"index": i, "secret_key": secret.hex(), "public_key": public.hex()}
            for i, (secret, public) in enumerate(custodians)
        ],
        "deployment": deployment_json(DEPLOYMENT),
        "kdf": kdf_vectors(),
        "pad": [
            {"data": data.hex(), "padded": protocol.pad(data).hex()}
            for data in (b"", b"\x80", b"x" * 255, b"y" * 256)
        ],
        "contacts": contact_vectors(),
        "instructions": instruction_vectors(),
        "pledges": pledges,
        "tampered_boxes": tampered,
        "shamir": shamir_vectors(),
        "releases": release_vectors(),
        "roster": roster_vectors(custodians),
        "receipts": receipt_vectors(),
        "eip712": eip712_vectors(),
        "gated": gated_vectors(),
    }


def render() -> str:
    return json.dumps(build_vectors(), indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is out of date: run tools/make_vectors.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
