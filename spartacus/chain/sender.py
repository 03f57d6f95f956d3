"""The one transaction sender: build with gas headroom, sign, send, wait for the receipt.

Every transaction the package sends goes through ``Sender``: the registry client's writes
(``Registry.sender``), the custodian daemon's releases and the web relayer's submissions.
Callers keep their own policy (the daemon saves a hash before it leaves, the relayer
answers in HTTP statuses); how a transaction is built, signed, sent, sent again and waited
for lives here only.

Every transaction is priced by ``spartacus.chain.fees``: EIP-1559 under the user's caps
(``FeeAboveCap`` when the base fee is above them), and refused with ``InsufficientFunds``
when the account cannot pay the most it may cost (on OP-stack chains, L1 data fee
included). Both are ``TransactionRefused``: nothing was sent.

What can go wrong, and what is raised (all ``ChainError``s, from ``spartacus.exceptions``):

- the call reverts when its gas is estimated: ``ContractRevert``, nothing was sent;
- the node refuses the signed transaction: ``TransactionRefused``, nothing was sent
  (a nonce already taken is first retried with a fresh count);
- the connection breaks while it is sent: ``SendInterrupted``, it may have arrived;
- the node lost it and its nonce went to another: ``TransactionDropped``;
- it was not mined in time or it reverted: ``transact`` says so with a ``ChainError``.

A connection failure before anything was signed is not wrapped: nothing was sent.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TransactionIndexingInProgress,
    TransactionNotFound,
    Web3RPCError,
)

from ..exceptions import (
    ChainError,
    ContractRevert,
    InsufficientFunds,
    SendInterrupted,
    TransactionDropped,
    TransactionRefused,
)
from .fees import Cost, FeeCaps, cost, fee_model, in_eth, price
from .networks import FeeModel
from .reverts import decode_revert, explain_revert

RECEIPT_TIMEOUT = 120  # seconds a sent transaction is waited for by default
RECEIPT_POLL = 0.1  # seconds between receipt reads while a transaction waits to be mined
RESEND_CHECK = 1.0  # seconds between checks that the node still knows the transaction
NONCE_RETRIES = 8
# What nodes say when a nonce is already used by a pending or mined transaction.
NONCE_TAKEN = ("nonce", "underpriced", "already known")

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


@dataclass(frozen=True)
class Signed:
    """A signed transaction: its hash can be saved before it leaves, its bytes sent again."""

    tx_hash: str  # 0x-prefixed
    raw: bytes
    nonce: int


class Sender:
    """Sends ``account``'s transactions on the chain behind ``w3``.

    ``errors`` maps 4-byte selectors to the ABI of the custom errors of the contract
    called (the registry's, from ``Registry.sender``), so that a revert is told in words.
    One ``Sender`` is not meant for concurrent ``send`` calls: they would race for a nonce
    (the relayer holds a lock around it); ``wait`` may run in any number of threads.
    """

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        errors: dict[bytes, Any] | None = None,
        *,
        caps: FeeCaps | None = None,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.errors = errors or {}
        self.caps = caps or FeeCaps()
        self.last_cost: Cost | None = None  # the most the last built transaction may cost

    @cached_property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    @cached_property
    def fee_model(self) -> FeeModel:
        return fee_model(self.w3)

    # ------------------------------------------------------------ fees

    def priced(self, tx: dict[str, Any]) -> dict[str, Any]:
        """``tx`` with EIP-1559 fees under the caps (``FeeAboveCap`` if the base fee is
        above them), after checking that the account can pay the most it may cost:
        gas x max fee, plus the L1 data fee on an OP-stack chain (``InsufficientFunds``)."""
        if "maxFeePerGas" not in tx:
            max_fee, priority = price(self.w3, self.caps)
            tx = {**tx, "maxFeePerGas": max_fee, "maxPriorityFeePerGas": priority}
        tx.pop("gasPrice", None)
        tx.setdefault("type", 2)
        self.last_cost = most = self.estimate(tx)
        value = int(tx.get("value", 0))
        balance = int(self.w3.eth.get_balance(self.account.address))
        if balance < most.total + value:
            sends = f" and sends {in_eth(value)}" if value else ""
            raise InsufficientFunds(
                f"account {self.account.address} holds {in_eth(balance)}, and this "
                f"transaction may cost {most.describe()}{sends}; nothing was sent: fund the "
                "account"
            )
        return tx

    def estimate(self, tx: dict[str, Any]) -> Cost:
        """The most ``tx`` (with gas and fees) may cost on this chain (``fees.cost``)."""
        return cost(self.w3, tx, self.fee_model)

    # ------------------------------------------------------------ sending

    def send(self, fn: Any, *, before_send: Callable[[Signed], None] | None = None) -> Signed:
        """Build ``fn`` (a contract function or constructor, gas estimated with headroom),
        sign it with the account's next nonce and send it; returns it signed.

        ``before_send`` is called with each signed transaction just before it leaves (the
        daemon saves its hash there). A nonce the node says is taken (another process
        sharing the account, a restart while a transaction was in flight) is retried with
        the node's fresh count, up to ``NONCE_RETRIES`` times, each retry signed anew.
        """
        return self._send(lambda nonce: self.build(fn, nonce), before_send)

    def build(self, fn: Any, nonce: int) -> dict[str, Any]:
        """``fn`` as a transaction from the account; ``ContractRevert`` if the call reverts."""
        max_fee, priority = price(self.w3, self.caps)
        params = {
            "from": self.account.address,
            "nonce": nonce,
            "chainId": self.chain_id,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": priority,
        }
        try:
            return self.priced(build_transaction(fn, params))
        except ContractCustomError as exc:
            raise self.decode_revert(exc.data if isinstance(exc.data, str) else "") from None
        except ContractLogicError as exc:
            message = f"the registry refused the call: {exc}"
            raise ContractRevert("Unknown", {}, message) from None

    def transact(self, fn: Any, *, timeout: float = RECEIPT_TIMEOUT) -> Any:
        """Send ``fn`` and wait until it is mined; returns the receipt. A transaction not
        mined within ``timeout`` seconds, or mined and reverted, is a ``ChainError`` that
        says why (the registry's reason for a revert, where the node can tell)."""
        signed = self.send(fn)
        receipt = self._mined(signed, timeout)
        if receipt["status"] != 1:
            raise ChainError(self.explain(signed.tx_hash, receipt))
        return receipt

    def transfer(self, to: str, wei: int) -> str:
        """Send ``wei`` to ``to`` and wait until it is mined; returns the hash."""

        def build(nonce: int) -> dict[str, Any]:
            tx = {
                "to": to_checksum_address(to),
                "value": wei,
                "nonce": nonce,
                "chainId": self.chain_id,
                "gas": 21_000,
            }
            return self.priced(tx)

        signed = self._send(build, None)
        if self._mined(signed, RECEIPT_TIMEOUT)["status"] != 1:
            raise ChainError(f"transfer {signed.tx_hash} failed")
        return signed.tx_hash

    def _send(
        self, build: Callable[[int], dict[str, Any]], before_send: Callable[[Signed], None] | None
    ) -> Signed:
        address = self.account.address
        for attempt in range(NONCE_RETRIES):
            nonce = self.w3.eth.get_transaction_count(address, "pending")
            raw_signed = self.account.sign_transaction(build(nonce))
            signed = Signed(
                HexBytes(raw_signed.hash).to_0x_hex(), bytes(raw_signed.raw_transaction), nonce
            )
            if before_send is not None:
                before_send(signed)
            try:
                self.w3.eth.send_raw_transaction(signed.raw)
                return signed
            except Web3RPCError as exc:
                taken = any(word in str(exc).lower() for word in NONCE_TAKEN)
                if not taken or attempt == NONCE_RETRIES - 1:
                    raise TransactionRefused(f"the node refused the transaction: {exc}") from None
                time.sleep(0.1 * (attempt + 1) + random.random() * 0.2)
            except requests.RequestException as exc:
                raise SendInterrupted(
                    f"the node stopped answering while transaction {signed.tx_hash} was being "
                    "sent; check whether it was mined before sending again",
                    signed.tx_hash,
                ) from exc
        raise AssertionError("unreachable")

    def _mined(self, signed: Signed, timeout: float) -> Any:
        receipt = self.wait(signed.tx_hash, timeout, raw=signed.raw)
        if receipt is None:
            raise ChainError(
                f"transaction {signed.tx_hash} was not mined within {timeout:g} s; "
                "check whether it was mined before sending again"
            )
        return receipt

    # ------------------------------------------------------------ waiting

    def wait(self, tx_hash: str, timeout: float, *, raw: bytes | None = None) -> Any | None:
        """The transaction's receipt, or None once ``timeout`` seconds have passed.

        With ``raw`` (its signed bytes), a node that restarted without its pool or evicted
        the transaction, and so no longer knows it, is sent the same bytes again rather than
        waited on for a transaction it can never mine. The same bytes have the same hash
        and nonce, so this can never make a second transaction. ``TransactionDropped`` if
        the node refuses them because their nonce went to another transaction. Failures to
        reach the node are not caught: the caller decides what they mean.
        """
        deadline = time.monotonic() + timeout
        check_at = time.monotonic() + RESEND_CHECK
        while True:
            try:
                receipt = self.receipt(tx_hash)
            except TransactionIndexingInProgress:
                receipt = None
            if receipt is not None:
                return receipt
            if raw is not None and time.monotonic() >= check_at:
                check_at = time.monotonic() + RESEND_CHECK
                if not self.known(tx_hash):
                    self._send_again(tx_hash, raw)
            if time.monotonic() >= deadline:
                return None
            time.sleep(RECEIPT_POLL)

    def receipt(self, tx_hash: str) -> Any | None:
        """The receipt of a mined transaction; None while it is not mined (or unknown)."""
        try:
            return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except TransactionNotFound:
            return None

    def known(self, tx_hash: str) -> bool:
        """Whether the node has the transaction, in its pool or mined."""
        try:
            self.w3.eth.get_transaction(HexBytes(tx_hash))
        except TransactionNotFound:
            return False
        return True

    def _send_again(self, tx_hash: str, raw: bytes) -> None:
        try:
            self.w3.eth.send_raw_transaction(raw)
        except Web3RPCError as exc:
            if "nonce too low" not in str(exc).lower():
                return  # "already known" and the like: it is back in the pool
            if self.receipt(tx_hash) is not None:
                return  # mined meanwhile: the next round reads the receipt
            # Its nonce went to another transaction, so it should never be mined; a node
            # behind a load balancer may still be catching up, so "check" rather than "no".
            raise TransactionDropped(
                f"transaction {tx_hash} was dropped by the node and its nonce was used by "
                "another; check whether it was mined before sending again",
                tx_hash,
            ) from None

    # ------------------------------------------------------------ reverts

    def explain(self, tx_hash: str | bytes, receipt: Any) -> str:
        """Why a mined transaction reverted (see ``reverts.explain_revert``)."""
        return explain_revert(self.w3, HexBytes(tx_hash), receipt, self.errors)

    def decode_revert(self, data: str | bytes) -> ContractRevert:
        return decode_revert(self.errors, data)


def transfer(w3: Web3, sender: LocalAccount, to: str, wei: int, caps: FeeCaps | None = None) -> str:
    """Send ``wei`` from ``sender`` to ``to``; returns the mined transaction's hash."""
    return Sender(w3, sender, caps=caps).transfer(to, wei)
