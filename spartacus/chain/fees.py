"""What a transaction may pay, and what it will cost: EIP-1559 fees under the user's caps,
and on OP-stack chains the L1 data fee.

``Sender`` (``spartacus.chain.sender``) prices every transaction here:

- ``price``: the fee per gas. The base fee of the latest block, doubled for headroom, plus
  the node's suggested priority fee; both capped by ``FeeCaps`` (``--max-fee-gwei``,
  ``--max-priority-fee-gwei``, or ``SPARTACUS_MAX_FEE_GWEI`` / ``SPARTACUS_MAX_PRIORITY_FEE_GWEI``).
  A base fee above the cap is refused (``FeeAboveCap``): the transaction could not be mined.
- ``cost``: the most the transaction can cost its sender, gas limit x max fee per gas, plus
  on an OP-stack chain the L1 data fee the GasPriceOracle predeploy quotes for its bytes
  (``getL1Fee``), which the chain charges on top. Arbitrum folds its L1 cost into the gas
  estimate, so gas x price is the whole cost there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import rlp
from eth_account._utils.transaction_utils import transaction_rpc_to_rlp_structure
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from ..exceptions import FeeAboveCap, UsageError
from .networks import GAS_PRICE_ORACLE, LOCAL_CHAIN_IDS, FeeModel, network_of

GWEI = 10**9
DEFAULT_PRIORITY_FEE = 10**9  # wei per gas, when the node suggests none
_GET_L1_FEE = keccak(text="getL1Fee(bytes)")[:4]


def gwei(text: str | float | None, option: str) -> int | None:
    """``"1.5"`` gwei as wei (None stays None); ``UsageError`` naming ``option`` otherwise."""
    if text is None or text == "":
        return None
    try:
        value = Decimal(str(text)) * GWEI
    except InvalidOperation:
        raise UsageError(f"{option} {text!r} is not a number of gwei") from None
    if value < 0 or value != value.to_integral_value():
        raise UsageError(f"{option} {text!r} must be a positive number of gwei (9 decimals)")
    return int(value)


def in_gwei(wei: int) -> str:
    return f"{Decimal(wei) / GWEI:f} gwei"


def in_eth(wei: int) -> str:
    return f"{Decimal(wei) / 10**18:f} ETH"


@dataclass(frozen=True)
class FeeCaps:
    """The most the user lets a transaction pay per gas, in wei (None: no cap)."""

    max_fee: int | None = None
    max_priority_fee: int | None = None

    @classmethod
    def from_gwei(cls, max_fee: str | float | None, max_priority: str | float | None) -> FeeCaps:
        return cls(gwei(max_fee, "--max-fee-gwei"), gwei(max_priority, "--max-priority-fee-gwei"))


@dataclass(frozen=True)
class Cost:
    """The most a transaction can cost: ``gas`` x ``max_fee`` on L2 (or L1), plus ``l1_fee``."""

    gas: int
    max_fee: int  # wei per gas
    l1_fee: int  # wei; 0 off OP-stack chains

    @property
    def total(self) -> int:
        return self.gas * self.max_fee + self.l1_fee

    def describe(self) -> str:
        text = f"{in_eth(self.total)} ({self.gas} gas at up to {in_gwei(self.max_fee)}"
        if self.l1_fee:
            text += f", plus an L1 data fee of {in_eth(self.l1_fee)}"
        return text + ")"


def price(w3: Web3, caps: FeeCaps) -> tuple[int, int]:
    """``(maxFeePerGas, maxPriorityFeePerGas)`` for a transaction sent now, under ``caps``.

    ``FeeAboveCap`` when the latest block's base fee already exceeds the cap."""
    base_fee = int(w3.eth.get_block("latest").get("baseFeePerGas", 0))
    if caps.max_fee is not None and base_fee > caps.max_fee:
        raise FeeAboveCap(
            f"the network's base fee is {in_gwei(base_fee)}, above your cap of "
            f"{in_gwei(caps.max_fee)} (--max-fee-gwei / SPARTACUS_MAX_FEE_GWEI); nothing was "
            "sent: wait for fees to fall, or raise the cap"
        )
    try:
        priority = int(w3.eth.max_priority_fee)
    except Exception:  # noqa: BLE001 - nodes without eth_maxPriorityFeePerGas
        priority = DEFAULT_PRIORITY_FEE
    if caps.max_priority_fee is not None:
        priority = min(priority, caps.max_priority_fee)
    max_fee = 2 * base_fee + priority
    if caps.max_fee is not None:
        max_fee = min(max_fee, caps.max_fee)
    return max_fee, min(priority, max_fee)


def fee_model(w3: Web3) -> FeeModel:
    """The chain's fee model: its named network's, or on a local chain (anvil, possibly run
    with ``--optimism``) op-stack when the GasPriceOracle predeploy has code there."""
    chain_id = int(w3.eth.chain_id)
    network = network_of(chain_id)
    if network is not None and chain_id not in LOCAL_CHAIN_IDS:
        return network.fee_model
    if network is None and chain_id not in LOCAL_CHAIN_IDS:
        return "eip1559"
    return "op-stack" if len(w3.eth.get_code(to_checksum_address(GAS_PRICE_ORACLE))) else "eip1559"


def unsigned_bytes(tx: dict[str, Any]) -> bytes:
    """The typed transaction ``tx`` RLP-encoded without its signature: what the
    GasPriceOracle's ``getL1Fee`` prices (it adds the signature's bytes itself)."""
    fields = {k: v for k, v in tx.items() if k != "from"}
    typed: Any = TypedTransaction.from_dict(fields).transaction
    structured = transaction_rpc_to_rlp_structure(typed.dictionary)
    serializer = type(typed)._unsigned_transaction_serializer
    return bytes([typed.transaction_type]) + rlp.encode(serializer.from_dict(structured))


def l1_data_fee(w3: Web3, tx: dict[str, Any]) -> int:
    """The L1 data fee an OP-stack chain charges for ``tx`` now (GasPriceOracle.getL1Fee)."""
    data = unsigned_bytes(tx)
    call = _GET_L1_FEE + (32).to_bytes(32, "big") + len(data).to_bytes(32, "big")
    call += data + b"\0" * (-len(data) % 32)
    raw = w3.eth.call({"to": to_checksum_address(GAS_PRICE_ORACLE), "data": Web3.to_hex(call)})
    return int.from_bytes(bytes(raw)[:32], "big")


def cost(w3: Web3, tx: dict[str, Any], model: FeeModel) -> Cost:
    """The most ``tx`` (built, with gas and maxFeePerGas) can cost on a chain of ``model``."""
    l1_fee = l1_data_fee(w3, tx) if model == "op-stack" else 0
    return Cost(int(tx["gas"]), int(tx["maxFeePerGas"]), l1_fee)
