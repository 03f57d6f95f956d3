"""Shamir secret sharing over GF(256) in the HashiCorp format (docs/protocol.md).

Splitting uses ``pyshamir``; combining is table-driven here. A share is the secret's length
of y-bytes followed by one x-byte. The field is GF(2^8) with the AES polynomial
x^8 + x^4 + x^3 + x + 1, as in HashiCorp Vault and ``pyshamir``. Lagrange interpolation at 0
is a sum of the shares' y-vectors, each scaled by a coefficient that depends on the x-bytes
only, so a combine is t coefficient computations and t ``bytes.translate`` calls over a
multiplication table: microseconds instead of pyshamir's per-byte interpolation.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyshamir

from ..exceptions import (
    InvalidKey,
    InvalidShare,
)
from .primitives import KEY_SIZE, _check_threshold, check_bytes, check_custodians, share_size

# ---------------------------------------------------------------------- Shamir


def _mul_slow(a: int, b: int) -> int:
    result = 0
    while b:
        if b & 1:
            result ^= a
        a = (a << 1) ^ (0x11B if a & 0x80 else 0)
        b >>= 1
    return result


# MUL[c] maps y -> c * y; as bytes it is a translate table.
MUL: tuple[bytes, ...] = tuple(bytes(_mul_slow(c, y) for y in range(256)) for c in range(256))
INV: bytes = bytes([0] + [next(b for b in range(1, 256) if MUL[a][b] == 1) for a in range(1, 256)])


def mul(a: int, b: int) -> int:
    return MUL[a][b]


def combine(parts: Sequence[bytes | bytearray]) -> bytes:
    """The secret from at least two shares; ValueError for malformed or clashing shares."""
    if len(parts) < 2:
        raise ValueError("Not enough parts to combine")
    size = len(parts[0])
    if size < 2:
        raise ValueError("Part is too short")
    if any(len(part) != size for part in parts):
        raise ValueError("Parts are not the same length")
    xs = [part[-1] for part in parts]
    if len(set(xs)) != len(xs):
        raise ValueError("Duplicate sample")
    if 0 in xs:
        raise ValueError("A share has x-coordinate 0")
    length = size - 1
    secret = 0
    for i, x_i in enumerate(xs):
        # basis_i(0) = prod over j != i of x_j / (x_i + x_j)   (addition is XOR)
        basis = 1
        for j, x_j in enumerate(xs):
            if j != i:
                basis = MUL[MUL[basis][x_j]][INV[x_i ^ x_j]]
        scaled = bytes(parts[i][:length]).translate(MUL[basis])
        secret ^= int.from_bytes(scaled, "big")
    return secret.to_bytes(length, "big")


def split_key(key: bytes, n: int, t: int) -> list[bytes]:
    """n shares of a 32-byte key, any t of which rebuild it (t = 1: the key n times)."""
    raw = check_bytes(key, KEY_SIZE, "a pledge key", InvalidKey)
    check_custodians(n, t)
    if t == 1:
        return [raw] * n
    try:
        return [bytes(part) for part in pyshamir.split(raw, n, t)]
    except ValueError as error:  # pragma: no cover - arguments are checked above
        raise InvalidShare(str(error)) from error


def combine_shares(shares: Sequence[bytes], t: int) -> bytes:
    """Rebuild a key from at least t shares (t = 1: identical copies of the key)."""
    _check_threshold(t)
    size = share_size(t)
    parts = [check_bytes(share, size, "a share", InvalidShare) for share in shares]
    if len(parts) < t or not parts:
        raise InvalidShare(f"{len(parts)} shares given; {t} are needed")
    if t == 1:
        if any(part != parts[0] for part in parts):
            raise InvalidShare("with t = 1 every share is the key itself, but these differ")
        return parts[0]
    xs = [part[-1] for part in parts]
    if 0 in xs or len(set(xs)) != len(xs):
        raise InvalidShare("shares must have distinct, non-zero x-coordinates")
    try:
        # Same field and format as pyshamir (tests/test_gf256.py checks they agree), but
        # table-driven: about 2,000 times faster, which a 10,000-member roster needs.
        return combine(parts)
    except (ValueError, ZeroDivisionError) as error:  # pragma: no cover - checked above
        raise InvalidShare(str(error)) from error
