"""The table-driven GF(256) combine agrees with pyshamir on random shares."""

from __future__ import annotations

import random

import pyshamir
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spartacus.protocol import shamir


@settings(max_examples=200, deadline=None)
@given(
    secret=st.binary(min_size=1, max_size=64),
    n=st.integers(min_value=2, max_value=5),
    data=st.data(),
)
def test_combine_agrees_with_pyshamir_on_random_shares(secret: bytes, n: int, data) -> None:
    t = data.draw(st.integers(min_value=2, max_value=n))
    shares = pyshamir.split(secret, n, t)
    picks = data.draw(st.permutations(range(n)))[: data.draw(st.integers(t, n))]
    chosen = [shares[i] for i in picks]
    expected = bytes(pyshamir.combine(chosen))
    assert expected == secret
    assert shamir.combine(chosen) == expected


@settings(max_examples=100, deadline=None)
@given(
    ys=st.lists(st.binary(min_size=8, max_size=8), min_size=2, max_size=4),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_combine_agrees_with_pyshamir_on_arbitrary_points(ys: list[bytes], seed: int) -> None:
    xs = random.Random(seed).sample(range(1, 256), len(ys))
    parts = [bytearray(y + bytes([x])) for y, x in zip(ys, xs, strict=True)]
    assert shamir.combine(parts) == bytes(pyshamir.combine(parts))


def test_mul_table_matches_pyshamir_field() -> None:
    from pyshamir._utils import mul

    rng = random.Random(7)
    for _ in range(2_000):
        a, b = rng.randrange(256), rng.randrange(256)
        assert shamir.mul(a, b) == mul(a, b)


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([b"\x01\x02"], "Not enough parts"),
        ([b"\x01", b"\x02"], "too short"),
        ([b"\x01\x02", b"\x01\x02\x03"], "same length"),
        ([b"\x01\x02", b"\x03\x02"], "Duplicate"),
        ([b"\x01\x00", b"\x03\x02"], "x-coordinate 0"),
    ],
)
def test_combine_refuses_malformed_shares(parts: list[bytes], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        shamir.combine(parts)
