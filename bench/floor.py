"""The gas floor of a transaction, computed from its own calldata and receipt.

floor = 21,000 (intrinsic) + calldata (EIP-2028: 4 per zero byte, 16 per other byte)
      + logs (per log: 375 + 375 per topic + 8 per data byte)
      + the storage accesses the rules cannot avoid (given by the caller, itemised)
      + precompiles the rules cannot avoid (ecrecover for a signature: 3,000).

EIP-7623 (Prague) adds a second, calldata-only floor: 21,000 + 10 per calldata token, where
tokens = zero bytes + 4 x other bytes. A transaction pays the larger of its normal gas and
that floor; ``Floor.eip7623_binds`` says whether it did, and ``Floor.total`` is the larger of
the two floors (release data is calldata-heavy enough for EIP-7623 to decide its price).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TX_BASE = 21_000
ZERO_BYTE, NONZERO_BYTE = 4, 16
LOG_BASE, LOG_TOPIC, LOG_DATA_BYTE = 375, 375, 8
FLOOR_PER_TOKEN = 10  # EIP-7623
COLD_SLOAD = 2_100  # EIP-2929: first access to a slot in a transaction
SSTORE_SET = 20_000  # zero -> non-zero
SSTORE_RESET = 2_900  # non-zero -> other non-zero (5,000 minus the cold charge)
ECRECOVER = 3_000

# A pledge creates its (campaign, account) slot and rewrites the campaign's packed slot.
PLEDGE_STORAGE = {
    "pledge slot: cold access + zero -> non-zero": COLD_SLOAD + SSTORE_SET,
    "campaign slot: cold access + non-zero -> non-zero": COLD_SLOAD + SSTORE_RESET,
}
# A release writes nothing; it must read the campaign's status and one custodian slot.
RELEASE_STORAGE = {
    "campaign slot: cold read (status)": COLD_SLOAD,
    "custodian slot: cold read (caller check)": COLD_SLOAD,
}
# An ERC-20 transfer debits the sender's balance slot and credits a fresh recipient's slot.
ERC20_STORAGE = {
    "recipient balance: cold access + zero -> non-zero": COLD_SLOAD + SSTORE_SET,
    "sender balance: cold access + non-zero -> non-zero": COLD_SLOAD + SSTORE_RESET,
}


def calldata_cost(data: bytes) -> int:
    zeros = data.count(0)
    return ZERO_BYTE * zeros + NONZERO_BYTE * (len(data) - zeros)


def calldata_tokens(data: bytes) -> int:
    zeros = data.count(0)
    return zeros + 4 * (len(data) - zeros)


def log_cost(logs: Sequence[Mapping[str, Any]]) -> int:
    return sum(
        LOG_BASE + LOG_TOPIC * len(log["topics"]) + LOG_DATA_BYTE * len(bytes(log["data"]))
        for log in logs
    )


@dataclass(frozen=True)
class Floor:
    gas_used: int
    calldata_bytes: int
    components: dict[str, int] = field(default_factory=dict)
    eip7623_floor: int = 0
    eip7623_active: bool = True

    @property
    def total(self) -> int:
        """The larger of the itemised floor and, where it applies, the EIP-7623 floor."""
        itemised = sum(self.components.values())
        return max(itemised, self.eip7623_floor) if self.eip7623_active else itemised

    @property
    def ratio(self) -> float:
        return self.gas_used / self.total

    @property
    def eip7623_binds(self) -> bool:
        return self.eip7623_active and self.gas_used == self.eip7623_floor

    def as_dict(self) -> dict[str, Any]:
        return {
            "gas": self.gas_used,
            "floor": self.total,
            "itemised_floor": sum(self.components.values()),
            "ratio": round(self.ratio, 4),
            "calldata_bytes": self.calldata_bytes,
            "components": self.components,
            "eip7623_floor": self.eip7623_floor,
            "eip7623_binds": self.eip7623_binds,
        }


def floor_of(
    data: bytes,
    receipt: Mapping[str, Any],
    storage: Mapping[str, int],
    *,
    ecrecover: bool = False,
    eip7623: bool = True,
) -> Floor:
    """The floor of one mined transaction from its calldata and its receipt's logs."""
    components = {
        "intrinsic": TX_BASE,
        "calldata": calldata_cost(data),
        "logs": log_cost(receipt["logs"]),
        **storage,
    }
    if ecrecover:
        components["ecrecover precompile"] = ECRECOVER
    return Floor(
        gas_used=int(receipt["gasUsed"]),
        calldata_bytes=len(data),
        components=components,
        eip7623_floor=TX_BASE + FLOOR_PER_TOKEN * calldata_tokens(data),
        eip7623_active=eip7623,
    )
