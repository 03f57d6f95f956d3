"""The pledge secret and what derives from it (docs/protocol.md): the pledge account, the
member key pair and the pledge key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import nacl.bindings as sodium
from eth_keys import keys as eth_keys

from ..exceptions import (
    InvalidSecret,
)
from .primitives import (
    _SECP256K1_ORDER,
    ACCOUNT_LABEL,
    MEMBER_LABEL,
    PLEDGE_KEY_LABEL,
    SECRET_SIZE,
    check_bytes,
    kdf,
)


@dataclass(frozen=True)
class PledgeKeys:
    """Everything derived from one pledge secret (or the organiser's instructions secret)."""

    secret: bytes = field(repr=False)
    account_key: bytes = field(repr=False)
    account: str
    member_secret: bytes = field(repr=False)
    member_key: bytes
    pledge_key: bytes = field(repr=False)


def derive_keys(secret: bytes) -> PledgeKeys:
    """Derive the pledge account, member key pair and pledge key from a 32-byte secret."""
    raw = check_bytes(secret, SECRET_SIZE, "a pledge secret", InvalidSecret)
    account_key = kdf(raw, ACCOUNT_LABEL)
    if not 0 < int.from_bytes(account_key, "big") < _SECP256K1_ORDER:
        raise InvalidSecret("this secret derives an unusable account key; draw a new secret")
    account = eth_keys.PrivateKey(account_key).public_key.to_checksum_address()
    member_secret = kdf(raw, MEMBER_LABEL)
    return PledgeKeys(
        secret=raw,
        account_key=account_key,
        account=account,
        member_secret=member_secret,
        member_key=sodium.crypto_scalarmult_base(member_secret),
        pledge_key=kdf(raw, PLEDGE_KEY_LABEL),
    )


def new_secret() -> bytes:
    """A fresh random pledge secret whose derived account key is usable."""
    while True:
        candidate = secrets.token_bytes(SECRET_SIZE)
        try:
            derive_keys(candidate)
        except InvalidSecret:  # pragma: no cover - probability about 2**-128
            continue
        return candidate
