"""bench/l2fees.py prices the L1 data fee with the OP-stack formula that the GasPriceOracle
applies: at the stand-in's prices and scalars both give the same fee for the same bytes."""

from __future__ import annotations

import pytest

from bench import l2fees
from tests.chain.op_stack import stand_in_fee


def test_op_stack_formula_matches_the_oracle(monkeypatch: pytest.MonkeyPatch) -> None:
    data = bytes(range(256)) * 3 + bytes(100)  # non-zero and zero bytes
    data_gas = 68 * 16 + sum(4 if b == 0 else 16 for b in data)
    chain = {"l2_base_fee_gwei": 0, "priority_gwei": 0,
             "base_fee_scalar": 1368, "blob_base_fee_scalar": 810949}  # fmt: skip
    prices = {**l2fees.PRICES, "l1_base_fee_gwei": 30, "blob_base_fee_gwei": 2}
    monkeypatch.setattr(l2fees, "PRICES", prices)
    fee_wei = l2fees.op_stack_fee(0, data_gas, chain) * 1e18
    assert abs(fee_wei - stand_in_fee(data)) <= stand_in_fee(data) * 1e-9


def test_every_action_is_priced_on_every_chain() -> None:
    gas = {
        "pledge": {
            "n1_direct": {"gas": 68_518, "calldata_bytes": 708, "components": {"calldata": 8616}},
            "n1_signed": {"gas": 75_000, "calldata_bytes": 900, "components": {"calldata": 10428}},
        },
        "release_per_member": {
            "members": {"gas": 4_769_960, "calldata_bytes": 120_392, "members": 1000}
        },
    }
    costs = l2fees.price(gas)
    assert set(costs) == {"pledge", "relayed pledge", "release per member"}
    for by_chain in costs.values():
        assert set(by_chain) == {"base", "optimism", "arbitrum"}
        assert all(v > 0 for v in by_chain.values())
    assert costs["relayed pledge"]["base"] > costs["pledge"]["base"]  # more calldata and gas


def test_a_gated_pledge_is_priced_from_the_groups_bench() -> None:
    gas = {
        "pledge": {
            "n1_direct": {"gas": 68_518, "calldata_bytes": 708, "components": {"calldata": 8616}},
            "n1_signed": {"gas": 75_643, "calldata_bytes": 900, "components": {"calldata": 10428}},
        },
        "release_per_member": {
            "members": {"gas": 4_769_960, "calldata_bytes": 120_392, "members": 1000}
        },
    }
    groups = {"gated_pledge": {"plain": 75_643, "gated": 370_000, "extra": 294_357}}

    costs = l2fees.price(gas, groups)

    assert list(costs) == ["pledge", "relayed pledge", "gated pledge", "release per member"]
    for chain in ("base", "optimism", "arbitrum"):  # more gas and the proof's 416 bytes
        assert costs["gated pledge"][chain] > costs["relayed pledge"][chain]
    table = l2fees.table(costs)
    assert "gated pledge" in table
    assert "gated pledge" not in l2fees.price(gas)  # no groups figures: no made-up row
