"""Primitives (docs/protocol.md): sizes, byte checks, sealed boxes and the key derivation function.

Everything in spartacus.protocol is pure: bytes in, bytes out, and every malformed input
raises a ``CryptoError`` subclass that says what was wrong.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import nacl.bindings as sodium
import nacl.exceptions
from eth_utils import is_address, is_checksum_address, to_canonical_address

from ..exceptions import (
    CryptoError,
    InvalidKey,
    InvalidShare,
)

SECRET_SIZE = 32
KEY_SIZE = 32
NONCE_SIZE = 24
TAG_SIZE = 16
SEAL_OVERHEAD = 48
BINDING_SIZE = 32
PLEDGE_BLOCK = 256
PLEDGE_CIPHERTEXT_SIZE = NONCE_SIZE + PLEDGE_BLOCK + TAG_SIZE
MAX_INSTRUCTION_BLOCKS = 16
MAX_CUSTODIANS = 5
ZERO_ACCOUNT = "0x0000000000000000000000000000000000000000"
COMMITMENT_DOMAIN = b"spartacus/pledge-key/v1"
ACCOUNT_LABEL = b"spartacus/v2/pledge-account"
MEMBER_LABEL = b"spartacus/v2/member-key"
PLEDGE_KEY_LABEL = b"spartacus/v2/pledge-key"
DEPLOYMENT_SIZE = 52

_MAX_UINT256 = 2**256 - 1
_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_CONTACT_FIELDS = ("name", "contact", "message")


# ---------------------------------------------------------------------- sizes and checks


def share_size(custodian_threshold: int) -> int:
    """Bytes in one custodian's share: the key itself for t = 1, a Shamir share otherwise."""
    _check_threshold(custodian_threshold)
    return KEY_SIZE if custodian_threshold == 1 else KEY_SIZE + 1


def box_size(custodian_threshold: int) -> int:
    """Bytes in one custodian box: ``seal(share || binding)``."""
    return share_size(custodian_threshold) + BINDING_SIZE + SEAL_OVERHEAD


def check_custodians(n: int, t: int) -> None:
    """Refuse custodian counts outside 1..5 and thresholds outside 1..n."""
    if not 1 <= n <= MAX_CUSTODIANS:
        raise InvalidShare(f"a campaign has 1 to {MAX_CUSTODIANS} custodians, not {n}")
    if not 1 <= t <= n:
        raise InvalidShare(f"the custodian threshold must be between 1 and {n}, not {t}")


def _check_threshold(t: int) -> None:
    if not 1 <= t <= MAX_CUSTODIANS:
        raise InvalidShare(f"the custodian threshold must be from 1 to {MAX_CUSTODIANS}, not {t}")


def check_bytes(value: object, size: int, what: str, error: type[CryptoError]) -> bytes:
    """``value`` as bytes of exactly ``size`` bytes, or ``error`` naming ``what``."""
    if not isinstance(value, bytes | bytearray):
        raise error(f"{what} must be bytes, not {type(value).__name__}")
    if len(value) != size:
        raise error(f"{what} must be {size} bytes, not {len(value)}")
    return bytes(value)


def cid32(campaign_id: int) -> bytes:
    """The campaign id as 32 bytes big-endian, as ``abi.encode(uint256)``."""
    if not isinstance(campaign_id, int) or not 0 <= campaign_id <= _MAX_UINT256:
        raise CryptoError(f"campaign id {campaign_id!r} is not a uint256")
    return campaign_id.to_bytes(32, "big")


def is_valid_address(text: object) -> bool:
    """A 0x address in all lower or all upper case, or in mixed case with a right checksum.

    eth_utils' is_address accepts any mixed case, so one mistyped letter of a checksummed
    address would name another account (and ether sent there would be lost)."""
    if not isinstance(text, str) or not text.startswith("0x") or not is_address(text):
        return False
    digits = text[2:]
    return digits in (digits.lower(), digits.upper()) or is_checksum_address(text)


def account_bytes(account: str) -> bytes:
    """The 20 raw bytes of an Ethereum address (a mixed-case address must be checksummed)."""
    if not is_valid_address(account):
        raise InvalidKey(f"{account!r} is not an Ethereum address (or its checksum is wrong)")
    return bytes(to_canonical_address(account))


@dataclass(frozen=True)
class Deployment:
    """The registry a campaign lives in: its chain id and address (protocol v2).

    Every byte format that names a campaign starts with ``prefix``, so that nothing sealed
    for one registry (boxes, ciphertexts, releases) is accepted by a copy of it elsewhere.
    """

    chain_id: int
    registry: str

    def __post_init__(self) -> None:
        if (
            isinstance(self.chain_id, bool)
            or not isinstance(self.chain_id, int)
            or not 0 < self.chain_id <= _MAX_UINT256
        ):
            raise CryptoError(f"chain id {self.chain_id!r} is not a positive uint256")
        account_bytes(self.registry)

    @property
    def prefix(self) -> bytes:
        """``chainId (32 bytes big-endian) || registry (20 bytes)``: 52 bytes."""
        return self.chain_id.to_bytes(32, "big") + account_bytes(self.registry)


def check_public_key(key: object, what: str) -> bytes:
    """A 32-byte X25519 public key that is not zero."""
    raw = check_bytes(key, KEY_SIZE, what, InvalidKey)
    if raw == bytes(KEY_SIZE):
        raise InvalidKey(f"{what} is zero")
    return raw


def public_key_of(secret_key: object, what: str) -> tuple[bytes, bytes]:
    """``(secret key, X25519 public key)`` for a 32-byte secret key."""
    raw = check_bytes(secret_key, KEY_SIZE, what, InvalidKey)
    return raw, sodium.crypto_scalarmult_base(raw)


def seal(message: bytes, public_key: bytes, what: str) -> bytes:
    """``crypto_box_seal(message, public_key)``; InvalidKey for an unusable key."""
    key = check_public_key(public_key, what)
    try:
        return sodium.crypto_box_seal(message, key)
    except nacl.exceptions.CryptoError as error:
        raise InvalidKey(f"{what} is not a usable X25519 public key") from error


def seal_open(box: bytes, secret_key: bytes, public_key: bytes) -> bytes | None:
    """``crypto_box_seal_open``, or None when the box does not open."""
    try:
        return sodium.crypto_box_seal_open(box, public_key, secret_key)
    except nacl.exceptions.CryptoError:
        return None


# ---------------------------------------------------------------------- keys


def kdf(secret: bytes, label: bytes) -> bytes:
    """``KDF(s, label)``: keyed BLAKE2b with a 32-byte output."""
    return hashlib.blake2b(label, key=secret, digest_size=32).digest()
