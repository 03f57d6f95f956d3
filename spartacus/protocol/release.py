"""Release data (docs/protocol.md): the parts custodians publish at the reveal, their
header, public and sealed shares, and the key seals addressed to members.
"""

from __future__ import annotations

import secrets
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import nacl.bindings as sodium
import nacl.exceptions

from ..exceptions import InvalidKey, InvalidRelease, InvalidShare
from .primitives import (
    KEY_SIZE,
    NONCE_SIZE,
    SEAL_OVERHEAD,
    TAG_SIZE,
    Deployment,
    check_bytes,
    cid32,
    kdf,
    public_key_of,
    seal,
    seal_open,
    share_size,
)

RELEASE_VERSION = 1
KIND_PUBLIC, KIND_SEALED, KIND_KEYS = 1, 2, 3
MAX_RELEASE_PART = 98_304
RELEASE_AD_LABEL = b"spartacus/v2/release"
RELEASE_KEY_LABEL = b"spartacus/v2/release-key"
HEADER_SIZE = 6
KEY_SEAL_SIZE = 4 + KEY_SIZE + SEAL_OVERHEAD

_HEADER = struct.Struct(">BBI")
_U32 = struct.Struct(">I")
_MAX_U32 = 2**32 - 1
_KINDS = {KIND_PUBLIC: "public shares", KIND_SEALED: "sealed shares", KIND_KEYS: "key seals"}


@dataclass(frozen=True)
class ReleasePart:
    """One ``release`` call's data: ``0x01 || kind || u32(round) || body``."""

    kind: int
    round: int
    body: bytes


def _u32(value: int, what: str) -> bytes:
    if not isinstance(value, int) or not 0 <= value <= _MAX_U32:
        raise InvalidRelease(f"{what} {value!r} does not fit into 32 bits")
    return _U32.pack(value)


def release_ad(deployment: Deployment, campaign_id: int, custodian_index: int, round: int) -> bytes:
    """``"spartacus/v2/release" || chainId || registry || cid32 || custodianIndex (1 byte)
    || u32(round)``: 109 bytes."""
    if not isinstance(custodian_index, int) or not 0 <= custodian_index <= 255:
        raise InvalidRelease(f"custodian index {custodian_index!r} does not fit into a byte")
    return (
        RELEASE_AD_LABEL
        + deployment.prefix
        + cid32(campaign_id)
        + bytes([custodian_index])
        + _u32(round, "round")
    )


def encode_entries(shares: Mapping[int, bytes], t: int) -> list[bytes]:
    """``u32(index) || share`` for each share, by index."""
    size = share_size(t)
    return [
        _u32(index, "pledge index") + check_bytes(share, size, f"share {index}", InvalidShare)
        for index, share in sorted(shares.items())
    ]


def _chunks(items: Sequence[bytes], room: int, item_size: int, kind: int) -> list[list[bytes]]:
    per_part = room // item_size
    if per_part < 1:
        raise InvalidRelease(f"max_part is too small to hold one entry of {_KINDS[kind]}")
    return [list(items[i : i + per_part]) for i in range(0, len(items), per_part)]


def build_release(
    deployment: Deployment,
    campaign_id: int,
    custodian_index: int,
    round: int,
    shares: Mapping[int, bytes],
    t: int,
    *,
    recipients: Mapping[int, bytes] | None,
    max_part: int = MAX_RELEASE_PART,
    release_key: bytes | None = None,
    nonces: Sequence[bytes] | None = None,
) -> list[bytes]:
    """A custodian's release parts for one round, each at most ``max_part`` bytes.

    ``recipients`` None: public mode, the shares in clear (``KIND_PUBLIC`` parts). Otherwise
    members mode: ``KIND_KEYS`` parts sealing the round's release key R to each recipient
    (pledge index -> member key; include index 0, the organiser) followed by ``KIND_SEALED``
    parts. R is fresh unless ``release_key`` is given (to seal an earlier round's key to a
    late member, pass ``shares={}``). ``nonces``, one per sealed part, is for test vectors.
    """
    ad = release_ad(deployment, campaign_id, custodian_index, round)
    entries = encode_entries(shares, t)
    entry_size = 4 + share_size(t)
    room = max_part - HEADER_SIZE
    if recipients is None:
        if release_key is not None or nonces is not None:
            raise InvalidRelease("public releases take no release key or nonces")
        header = _HEADER.pack(RELEASE_VERSION, KIND_PUBLIC, round)
        chunks = _chunks(entries, room, entry_size, KIND_PUBLIC) if entries else []
        return [header + b"".join(chunk) for chunk in chunks]

    key = secrets.token_bytes(KEY_SIZE) if release_key is None else release_key
    key = check_bytes(key, KEY_SIZE, "the release key", InvalidKey)
    seals = [
        _u32(index, "pledge index") + seal(key, member_key, f"the member key of pledge {index}")
        for index, member_key in sorted(recipients.items())
    ]
    parts = [
        _HEADER.pack(RELEASE_VERSION, KIND_KEYS, round) + b"".join(chunk)
        for chunk in (_chunks(seals, room, KEY_SEAL_SIZE, KIND_KEYS) if seals else [])
    ]
    chunks = (
        _chunks(entries, room - NONCE_SIZE - TAG_SIZE, entry_size, KIND_SEALED) if entries else []
    )
    if nonces is not None and len(nonces) != len(chunks):
        raise InvalidRelease(f"{len(nonces)} nonces given for {len(chunks)} sealed parts")
    for number, chunk in enumerate(chunks):
        nonce = secrets.token_bytes(NONCE_SIZE) if nonces is None else nonces[number]
        nonce = check_bytes(nonce, NONCE_SIZE, "a release nonce", InvalidRelease)
        box = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(b"".join(chunk), ad, nonce, key)
        parts.append(_HEADER.pack(RELEASE_VERSION, KIND_SEALED, round) + nonce + box)
    return parts


def release_key(campaign_secret: bytes, round: int) -> bytes:
    """R for one (custodian, round): ``KDF(campaign secret, "spartacus/v2/release-key" || u32)``.

    Derived rather than random so that a custodian can, from its campaign key alone, read
    back what it released and seal an earlier round's R to members who joined later.
    """
    secret = check_bytes(campaign_secret, KEY_SIZE, "the campaign secret key", InvalidKey)
    return kdf(secret, RELEASE_KEY_LABEL + _u32(round, "round"))


def key_seal_indices(part: ReleasePart) -> set[int]:
    """The pledge indices a key-seal part addresses (public information)."""
    if part.kind != KIND_KEYS:
        raise InvalidRelease("not a key-seal part")
    return {
        int.from_bytes(part.body[i : i + 4], "big") for i in range(0, len(part.body), KEY_SEAL_SIZE)
    }


def parse_release(data: bytes) -> ReleasePart:
    """Split release data into kind, round and body; InvalidRelease if malformed."""
    if not isinstance(data, bytes | bytearray) or len(data) < HEADER_SIZE:
        raise InvalidRelease("release data is shorter than its 6-byte header")
    version, kind, round = _HEADER.unpack_from(data)
    body = bytes(data[HEADER_SIZE:])
    if version != RELEASE_VERSION:
        raise InvalidRelease(f"release format version {version} is not supported")
    if kind not in _KINDS:
        raise InvalidRelease(f"release kind {kind} is unknown")
    if kind == KIND_KEYS and (not body or len(body) % KEY_SEAL_SIZE):
        raise InvalidRelease(f"key seals are {KEY_SEAL_SIZE} bytes each; got {len(body)} bytes")
    if kind == KIND_SEALED and len(body) < NONCE_SIZE + TAG_SIZE:
        raise InvalidRelease("sealed shares are shorter than their nonce and tag")
    return ReleasePart(kind, round, body)


def release_entries(body: bytes, t: int) -> dict[int, bytes]:
    """Parse ``entry*`` (``u32(index) || share``); InvalidRelease if malformed."""
    size = 4 + share_size(t)
    if len(body) % size:
        raise InvalidRelease(f"release entries are {size} bytes each; got {len(body)} bytes")
    entries: dict[int, bytes] = {}
    for offset in range(0, len(body), size):
        (index,) = _U32.unpack_from(body, offset)
        if index in entries:
            raise InvalidRelease(f"pledge {index} appears twice in one release part")
        entries[index] = bytes(body[offset + 4 : offset + size])
    return entries


def open_key_seal(part: ReleasePart, index: int, member_secret: bytes) -> bytes | None:
    """The release key R sealed to pledge ``index``, or None if the part has no seal for it.

    Raises InvalidRelease if there is a seal for ``index`` but it does not open with
    ``member_secret`` (the reader is not that member).
    """
    if part.kind != KIND_KEYS:
        raise InvalidRelease(f"part holds {_KINDS.get(part.kind, 'unknown data')}, not key seals")
    secret_key, public_key = public_key_of(member_secret, "the member secret key")
    found = False
    for offset in range(0, len(part.body) - KEY_SEAL_SIZE + 1, KEY_SEAL_SIZE):
        if _U32.unpack_from(part.body, offset)[0] != index:
            continue
        found = True
        key = seal_open(part.body[offset + 4 : offset + KEY_SEAL_SIZE], secret_key, public_key)
        if key is not None and len(key) == KEY_SIZE:
            return key
    if found:
        raise InvalidRelease(f"the key seal for pledge {index} does not open with this member key")
    return None


def open_sealed_shares(
    part: ReleasePart,
    release_key: bytes,
    deployment: Deployment,
    campaign_id: int,
    custodian_index: int,
    t: int,
) -> dict[int, bytes]:
    """Decrypt a sealed-shares part with its round's release key; InvalidRelease on failure."""
    if part.kind != KIND_SEALED or len(part.body) < NONCE_SIZE + TAG_SIZE:
        raise InvalidRelease("part does not hold sealed shares")
    key = check_bytes(release_key, KEY_SIZE, "the release key", InvalidKey)
    ad = release_ad(deployment, campaign_id, custodian_index, part.round)
    nonce, box = part.body[:NONCE_SIZE], part.body[NONCE_SIZE:]
    try:
        plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(box, ad, nonce, key)
    except nacl.exceptions.CryptoError as error:
        raise InvalidRelease(
            f"sealed shares of custodian {custodian_index}, round {part.round}, fail "
            "authentication (wrong release key, or altered, or from another campaign, registry "
            "or chain)"
        ) from error
    return release_entries(plain, t)
