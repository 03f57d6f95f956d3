"""What a pledge, a relayed pledge, a gated (relayed) pledge and a release cost per member
on Base, Optimism and Arbitrum, in ETH, from measured gas and calldata sizes and each
chain's published formula.

``python -m bench.l2fees`` prices the figures of bench/results.json; ``make bench`` prints
this table after measuring. Prices are stated, not read live: change ``PRICES`` to today's.

Formulas and the source of each parameter:

- OP-stack, Ecotone (Base, Optimism; docs.optimism.io "Transaction fees"):
  fee = gas x (L2 base fee + priority fee)
      + tx_data_gas x (16 x baseFeeScalar x L1 base fee + blobBaseFeeScalar x blob base fee) / 16e6
  where tx_data_gas = 4 per zero byte + 16 per other byte of the signed transaction (the
  calldata figure measured on anvil, plus a ~110-byte envelope of non-zero bytes).
  baseFeeScalar and blobBaseFeeScalar are each chain's (GasPriceOracle.baseFeeScalar() and
  blobBaseFeeScalar() on the predeploy 0x420...0F). Fjord replaces tx_data_gas by a
  FastLZ-compressed size estimate; pledges are ciphertext and barely compress, so Ecotone's
  count is the fair (slightly high) figure.
- Arbitrum Nitro (docs.arbitrum.io "Gas and fees"):
  fee = gas x L2 base fee + L1 price per unit x 16 x compressed size in bytes
  where the L1 price per unit is ArbGasInfo.getL1BaseFeeEstimate() (0x...6C) and the size
  is the brotli-compressed signed transaction (ciphertext: taken as uncompressed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

GWEI = 10**9
ENVELOPE_BYTES = 110  # nonce, fees, gas, to, value, chain id, signature of a type-2 tx
# A gated pledge is a relayed pledge plus its Semaphore proof, inline in the calldata:
# (merkleTreeDepth, merkleTreeRoot, nullifier, message, scope, points[8]) = 13 words. The
# depth word is 31 zero bytes and one small one; the rest are field elements (non-zero).
PROOF_BYTES = 13 * 32
PROOF_DATA_GAS = 31 * 4 + (PROOF_BYTES - 31) * 16

PRICES: dict[str, Any] = {
    "l1_base_fee_gwei": 5.0,  # Ethereum L1 base fee
    "blob_base_fee_gwei": 0.001,  # EIP-4844 blob base fee
    "base": {"l2_base_fee_gwei": 0.005, "priority_gwei": 0.001,
             "base_fee_scalar": 2269, "blob_base_fee_scalar": 1055762},
    "optimism": {"l2_base_fee_gwei": 0.001, "priority_gwei": 0.001,
                 "base_fee_scalar": 5227, "blob_base_fee_scalar": 1014213},
    "arbitrum": {"l2_base_fee_gwei": 0.01, "l1_price_per_unit_gwei": 0.05},
}  # fmt: skip


def op_stack_fee(gas: int, data_gas: int, chain: dict[str, Any]) -> float:
    l2 = gas * (chain["l2_base_fee_gwei"] + chain["priority_gwei"]) * GWEI
    per_data_gas = (
        16 * chain["base_fee_scalar"] * PRICES["l1_base_fee_gwei"] * GWEI
        + chain["blob_base_fee_scalar"] * PRICES["blob_base_fee_gwei"] * GWEI
    )
    return (l2 + data_gas * per_data_gas / 16e6) / 1e18


def arbitrum_fee(gas: int, size: int, chain: dict[str, Any]) -> float:
    l2 = gas * chain["l2_base_fee_gwei"] * GWEI
    l1 = chain["l1_price_per_unit_gwei"] * GWEI * 16 * size
    return (l2 + l1) / 1e18


def price(gas: dict[str, Any], groups: dict[str, Any] | None = None) -> dict[str, dict[str, float]]:
    """ETH per action and chain, from bench.gas figures (gas, calldata bytes and gas) and, for
    the gated pledge, bench.groups figures (its gas as mined; row left out without them)."""
    direct, signed = gas["pledge"]["n1_direct"], gas["pledge"]["n1_signed"]
    release = gas["release_per_member"]["members"]
    actions = {
        # (gas, calldata gas, bytes), per action
        "pledge": (direct["gas"], direct["components"]["calldata"], direct["calldata_bytes"]),
        "relayed pledge": (signed["gas"], signed["components"]["calldata"],
                           signed["calldata_bytes"]),
    }  # fmt: skip
    if groups and "gated_pledge" in groups:
        actions["gated pledge"] = (
            groups["gated_pledge"]["gated"],
            signed["components"]["calldata"] + PROOF_DATA_GAS,
            signed["calldata_bytes"] + PROOF_BYTES,
        )
    actions |= {
        "release per member": (release["gas"] / release["members"],
                               16 * release["calldata_bytes"] / release["members"],
                               release["calldata_bytes"] / release["members"]),
    }  # fmt: skip
    out: dict[str, dict[str, float]] = {}
    for action, (g, data_gas, size) in actions.items():
        per_tx = action != "release per member"
        envelope_gas = 16 * ENVELOPE_BYTES if per_tx else 0
        envelope = ENVELOPE_BYTES if per_tx else 0
        out[action] = {
            "base": op_stack_fee(int(g), int(data_gas + envelope_gas), PRICES["base"]),
            "optimism": op_stack_fee(int(g), int(data_gas + envelope_gas), PRICES["optimism"]),
            "arbitrum": arbitrum_fee(int(g), int(size + envelope), PRICES["arbitrum"]),
        }
    return out


def table(costs: dict[str, dict[str, float]]) -> str:
    lines = [
        "L2 cost in ETH (stated prices: L1 base fee "
        f"{PRICES['l1_base_fee_gwei']} gwei, blob base fee {PRICES['blob_base_fee_gwei']} gwei; "
        f"L2 base fee Base {PRICES['base']['l2_base_fee_gwei']}, Optimism "
        f"{PRICES['optimism']['l2_base_fee_gwei']}, Arbitrum "
        f"{PRICES['arbitrum']['l2_base_fee_gwei']} gwei; see bench/l2fees.py)",
        f"{'action':<20}{'Base':>14}{'Optimism':>14}{'Arbitrum':>14}",
    ]
    for action, by_chain in costs.items():
        lines.append(
            f"{action:<20}"
            + "".join(f"{by_chain[c]:>14.8f}" for c in ("base", "optimism", "arbitrum"))
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path(__file__).resolve().parent / "results.json"
    results = json.loads(path.read_text())
    print(table(price(results["gas"], results.get("groups"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
