"""Shamir combine in GF(256), table-driven: the key at x = 0 from HashiCorp-format shares.

A share is the secret's length of y-bytes followed by one x-byte (docs/protocol.md). The
field is GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1, as in HashiCorp Vault and
``pyshamir``. Lagrange interpolation at 0 is a sum of the shares' y-vectors, each scaled by a
coefficient that depends on the x-bytes only, so a combine is t coefficient computations and
t ``bytes.translate`` calls over a multiplication table: microseconds instead of pyshamir's
per-byte interpolation.
"""

from __future__ import annotations

from collections.abc import Sequence


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
