"""Sending transactions: build with gas headroom, sign, send, wait for the receipt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
)

from ..exceptions import ChainError
from .reverts import decode_revert, explain_revert

RECEIPT_TIMEOUT = 120

if TYPE_CHECKING:
    from .registry import Registry


# Gas added to every estimate. An estimate is exact for the state it ran on, but a pledge
# or withdrawal can be mined after another transaction of the same campaign and take a
# costlier path: the pledge that reaches N, a withdrawal during the grace period that a
# pledge mined just before started (tests/security/test_front_running.py). Out of gas, it
# would revert and still cost its fee; unused gas is not charged.
GAS_HEADROOM = 30_000


def build_transaction(fn: Any, params: dict[str, Any]) -> dict[str, Any]:
    """``fn.build_transaction(params)`` (which estimates gas, running the call) with
    headroom on the gas limit: a quarter of the estimate, and at least ``GAS_HEADROOM``."""
    tx = dict(fn.build_transaction(params))
    tx["gas"] = int(tx["gas"]) + max(int(tx["gas"]) // 4, GAS_HEADROOM)
    return tx


def _send(w3: Web3, fn: Any, sender: LocalAccount, errors: dict[bytes, Any]) -> Any:
    try:
        tx = build_transaction(
            fn,
            {
                "from": sender.address,
                "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
                "chainId": int(w3.eth.chain_id),
            },
        )
    except ContractCustomError as exc:
        raise decode_revert(errors, exc.data if isinstance(exc.data, str) else "") from None
    except ContractLogicError as exc:
        raise ChainError(f"the registry refused the transaction: {exc}") from None
    signed = sender.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    try:
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT)
    except TimeExhausted as exc:
        raise ChainError(
            f"transaction {tx_hash.to_0x_hex()} was not mined within {RECEIPT_TIMEOUT} s"
        ) from exc
    if receipt["status"] != 1:
        raise ChainError(explain_revert(w3, tx_hash, receipt, errors))
    return receipt


def transfer(w3: Web3, sender: LocalAccount, to: str, wei: int) -> str:
    """Send ``wei`` from ``sender`` to ``to``; returns the mined transaction's hash."""
    tx: dict[str, Any] = {
        "to": to_checksum_address(to),
        "value": wei,
        "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
        "chainId": int(w3.eth.chain_id),
        "gas": 21_000,
        "maxFeePerGas": 2 * int(w3.eth.get_block("latest").get("baseFeePerGas", 0)) + 10**9,
        "maxPriorityFeePerGas": 10**9,
    }
    tx_hash = w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT)
    if receipt["status"] != 1:
        raise ChainError(f"transfer {tx_hash.to_0x_hex()} failed")
    return tx_hash.to_0x_hex()


@dataclass(frozen=True)
class SignedRelease:
    tx_hash: str
    raw: bytes
    nonce: int


def sign_release(
    registry: Registry, sender: LocalAccount, campaign_id: int, data: bytes
) -> SignedRelease:
    """A signed ``release`` transaction, not sent: its hash can be saved first."""
    fn = registry.contract.functions.release(campaign_id, data)
    w3 = registry.w3
    nonce = w3.eth.get_transaction_count(sender.address, "pending")
    try:
        tx = build_transaction(
            fn, {"from": sender.address, "nonce": nonce, "chainId": registry.chain_id}
        )
    except ContractCustomError as exc:
        raise registry.decode_error(exc.data if isinstance(exc.data, str) else "") from None
    except ContractLogicError as exc:
        raise ChainError(f"the registry refused the release: {exc}") from None
    signed = sender.sign_transaction(tx)
    return SignedRelease(HexBytes(signed.hash).to_0x_hex(), bytes(signed.raw_transaction), nonce)
