"""The relayer: submits signed pledges, withdrawals and campaigns, paying the gas.

A request is checked against the contract's rules before any gas is spent: sizes, the
campaign's status and deadline, the account's active pledge, the EIP-712 signature against
the nonce the registry expects, and finally an ``eth_estimateGas`` that runs the very call.
What fails is refused with the registry's reason in words; nothing doomed is mined.

Submissions are serialised per relayer account (one nonce sequence); waiting for the
receipt happens outside the lock. Rate limits are per campaign and for everyone together.
No request log is kept, and no client address is read.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TransactionIndexingInProgress,
    TransactionNotFound,
    Web3Exception,
    Web3RPCError,
)
from web3.logs import DISCARD

from .. import protocol
from ..chain.records import RosterMode
from ..chain.registry import Registry
from ..chain.sender import RECEIPT_TIMEOUT, build_transaction
from ..exceptions import RequestRefused
from ..ratelimit import RateLimiter
from .index import CampaignIndex, active_count, status_label

MAX_TITLE = 200
MAX_TEXT = 4000
MAX_INSTRUCTION_BLOCKS = 16
SIGNATURE_SIZE = 65
NONCE_RETRIES = 8
RECEIPT_POLL = 0.1  # seconds between receipt reads while a transaction waits to be mined
RESEND_CHECK = 1.0  # seconds between checks that the node still knows the transaction
# What nodes say when a nonce is already used by a pending or mined transaction.
NONCE_TAKEN = ("nonce", "underpriced", "already known")


class Relayer:
    """The operator's hot wallet, submitting what pledgers and creators signed."""

    def __init__(
        self,
        registry: Registry,
        index: CampaignIndex,
        account: LocalAccount,
        *,
        per_campaign_per_minute: int,
        per_hour: int,
        min_balance: int,
        withdraw_reserve: int = 0,
        is_hidden: Callable[[int], bool],
    ) -> None:
        self.registry = registry
        self.index = index
        self.account = account
        self.min_balance = min_balance
        self.withdraw_reserve = withdraw_reserve
        self.is_hidden = is_hidden
        self._limiter = RateLimiter(per_campaign_per_minute, per_hour)
        self._send_lock = threading.Lock()
        self._in_flight: set[tuple[int, str]] = set()
        self._in_flight_lock = threading.Lock()
        self.closed = False  # set when the app stops: nothing more is sent

    @property
    def address(self) -> str:
        return str(self.account.address)

    def balance(self) -> int:
        return int(self.registry.w3.eth.get_balance(self.account.address))

    # ------------------------------------------------------------ requests

    def pledge(self, body: dict[str, Any]) -> dict[str, Any]:
        campaign_id = _uint(body, "campaignId", 256)
        account = _address(body, "account")
        history = self._campaign(campaign_id)
        if self.is_hidden(campaign_id):
            raise RequestRefused(
                f"campaign {campaign_id} is hidden on this site; this relayer does not take "
                "pledges for it",
                403,
            )
        assert history.terms is not None
        t, n = history.terms.custodian_threshold, len(history.custodians)
        sealed = protocol.Sealed(
            _bytes(body, "memberKey", 32),
            _bytes(body, "ciphertext", protocol.PLEDGE_CIPHERTEXT_SIZE),
            _bytes(body, "boxes", n * protocol.box_size(t)),
            _bytes(body, "commitment", 32),
        )
        signature = _bytes(body, "signature", SIGNATURE_SIZE)
        if sealed.member_key == bytes(32):
            raise RequestRefused("the member key is zero", 400)
        status = status_label(history, self.registry.latest_timestamp())
        if status == "expired":
            raise RequestRefused(f"campaign {campaign_id} has expired; it takes no pledges", 409)
        active, _, nonce = self.registry.pledge_of(campaign_id, account)
        if active:
            raise RequestRefused(
                f"{account} already has an active pledge in campaign {campaign_id}", 409
            )
        typed = protocol.pledge_typed_data(
            self.registry.chain_id, self.registry.address, campaign_id, sealed, nonce
        )
        _check_signer(typed, signature, account, nonce)
        self._limit(f"campaign:{campaign_id}")
        fn = self.registry.contract.functions.pledgeWithSig(
            campaign_id, account, sealed.as_abi(), signature
        )
        with self._claim(campaign_id, account):
            receipt = self._submit(fn)
        events = self.registry.contract.events.Pledged().process_receipt(receipt, errors=DISCARD)
        args = events[0]["args"] if events else {}
        return {
            "campaignId": campaign_id,
            "txHash": HexBytes(receipt["transactionHash"]).to_0x_hex(),
            "index": int(args.get("index", 0)),
            "active": int(args.get("active", active_count(history))),
        }

    def withdraw(self, body: dict[str, Any]) -> dict[str, Any]:
        # Withdrawals are relayed for hidden campaigns too: leaving must always be possible.
        campaign_id = _uint(body, "campaignId", 256)
        account = _address(body, "account")
        history = self._campaign(campaign_id)
        signature = _bytes(body, "signature", SIGNATURE_SIZE)
        status = status_label(history, self.registry.latest_timestamp())
        if status in ("revealed", "expired"):
            raise RequestRefused(
                f"campaign {campaign_id} is {status}; pledges can be withdrawn only before the "
                "reveal",
                409,
            )
        active, _, nonce = self.registry.pledge_of(campaign_id, account)
        if not active:
            raise RequestRefused(f"{account} has no active pledge in campaign {campaign_id}", 409)
        typed = protocol.withdraw_typed_data(
            self.registry.chain_id, self.registry.address, campaign_id, nonce
        )
        _check_signer(typed, signature, account, nonce)
        # Not rate-limited: a burst of pledges (a Sybil push in the grace period) filling the
        # campaign's or the relayer's budget must not stop members from withdrawing, which
        # is how such a burst is undone. Withdrawals cannot be sent without limit anyway:
        # each needs an active pledge (checked above), one in flight per account.
        fn = self.registry.contract.functions.withdrawWithSig(campaign_id, account, signature)
        with self._claim(campaign_id, account):
            receipt = self._submit(fn, leaving=True)
        events = self.registry.contract.events.Withdrawn().process_receipt(receipt, errors=DISCARD)
        return {
            "campaignId": campaign_id,
            "txHash": HexBytes(receipt["transactionHash"]).to_0x_hex(),
            "active": int(events[0]["args"]["active"]) if events else active_count(history),
        }

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        terms = _object(body, "terms")
        endorsements = body.get("endorsements")
        if not isinstance(endorsements, list) or not 1 <= len(endorsements) <= 5:
            raise RequestRefused("endorsements must be a list of 1 to 5 custodian endorsements")
        t = _uint(terms, "custodianThreshold", 8)
        if not 1 <= t <= len(endorsements):
            raise RequestRefused(f"custodianThreshold must be between 1 and {len(endorsements)}")
        title = _text(terms, "title", 1, MAX_TITLE)
        description = _text(terms, "description", 0, MAX_TEXT)
        plan = _text(terms, "plan", 0, MAX_TEXT)
        threshold = _uint(terms, "threshold", 32)
        if threshold < 2:
            raise RequestRefused("threshold must be at least 2")
        deadline = _uint(terms, "deadline", 64)
        now = self.registry.latest_timestamp()
        if deadline <= now:
            raise RequestRefused("the deadline is not in the future")
        grace = _uint(terms, "gracePeriod", 32)
        mode = terms.get("rosterMode", "members")
        if mode not in ("members", "public"):
            raise RequestRefused('rosterMode must be "members" or "public"')
        sealed_body = _object(body, "instructions")
        ciphertext = _bytes(sealed_body, "ciphertext", None)
        blocks, extra = divmod(len(ciphertext) - 40, 256)
        if extra or not 1 <= blocks <= MAX_INSTRUCTION_BLOCKS:
            raise RequestRefused(
                "instructions.ciphertext must be 40 + 256 * k bytes with k from 1 to 16"
            )
        instructions = protocol.Sealed(
            _bytes(sealed_body, "memberKey", 32),
            ciphertext,
            _bytes(sealed_body, "boxes", len(endorsements) * protocol.box_size(t)),
            _bytes(sealed_body, "commitment", 32),
        )
        abi_endorsements = []
        for number, item in enumerate(endorsements, start=1):
            if not isinstance(item, dict):
                raise RequestRefused(f"endorsement {number} is not an object")
            expiry = _uint(item, "expiry", 64)
            if expiry < now:
                raise RequestRefused(f"endorsement {number} has expired; ask for a fresh one")
            abi_endorsements.append(
                (
                    _address(item, "custodian"),
                    _bytes(item, "campaignKey", 32),
                    expiry,
                    _bytes(item, "signature", SIGNATURE_SIZE),
                )
            )
        self._limit("create")
        terms_abi = (
            title,
            description,
            plan,
            threshold,
            deadline,
            grace,
            t,
            int(RosterMode.PUBLIC if mode == "public" else RosterMode.MEMBERS),
        )
        fn = self.registry.contract.functions.createCampaign(
            terms_abi, instructions.as_abi(), abi_endorsements
        )
        receipt = self._submit(fn)
        events = self.registry.contract.events.CampaignCreated().process_receipt(
            receipt, errors=DISCARD
        )
        if not events:
            raise RequestRefused("the campaign was mined but no CampaignCreated was seen", 502)
        campaign_id = int(events[0]["args"]["campaignId"])
        return {
            "campaignId": campaign_id,
            "txHash": HexBytes(receipt["transactionHash"]).to_0x_hex(),
            "url": f"/c/{campaign_id}",
        }

    # ------------------------------------------------------------ internals

    def _campaign(self, campaign_id: int) -> Any:
        self._node_up()
        return self.index.require(campaign_id)

    def _node_up(self) -> None:
        """Refuse at once (503: nothing sent) while the poller's last read failed: a node
        that hangs rather than refusing would otherwise hold every relayed request, and
        the server thread serving it, for its full timeout on each of several calls."""
        if self.index.last_error is not None:
            raise RequestRefused(
                "the node cannot be reached right now; nothing was sent, try again in a moment",
                503,
                5,
            )

    def _limit(self, key: str) -> None:
        wait = self._limiter.check(key)
        if wait:
            raise RequestRefused(
                f"the relayer is busy with this campaign; try again in {wait} s", 429, wait
            )

    def _claim(self, campaign_id: int, account: str) -> _Claim:
        return _Claim(self, (campaign_id, account.lower()))

    def _submit(self, fn: Any, *, leaving: bool = False) -> Any:
        """Estimate (which runs the call: a revert is refused unmined), send, wait.

        Only a withdrawal (``leaving``) may spend the reserve kept above the minimum.
        """
        self._node_up()
        balance = self.balance()
        if balance < self.min_balance:
            raise RequestRefused("the relayer is out of funds; try later or use a wallet", 503)
        if not leaving and balance < self.min_balance + self.withdraw_reserve:
            raise RequestRefused(
                "the relayer is low on funds and keeps what is left for withdrawals; "
                "try later or use a wallet",
                503,
            )
        with self._send_lock:
            if self.closed:
                raise RequestRefused("the relayer is restarting; try again in a moment", 503, 1)
            tx_hash, raw = self._sign_and_send(fn)
        try:
            receipt = self._wait(tx_hash, raw)
        except (requests.RequestException, Web3Exception):
            # The node went away after taking the transaction: it may be mined, or lost
            # with the node's pool. Never 503 here: the page reads 503 as "nothing was
            # recorded" and forgets the receipt code of a pledge that may have landed.
            raise RequestRefused(
                f"transaction {tx_hash.to_0x_hex()} was sent, but the node stopped answering "
                "before it was mined; check the campaign page before trying again",
                504,
            ) from None
        if receipt is None:
            raise RequestRefused(
                f"transaction {tx_hash.to_0x_hex()} was sent but not mined within "
                f"{RECEIPT_TIMEOUT} s; check the campaign page before trying again",
                504,
            )
        if receipt["status"] != 1:
            # Mined and refused: nothing was recorded, so a 409 with the registry's reason
            # (e.g. a withdrawal overtaken by the pledge that revealed the campaign).
            raise RequestRefused(self.registry.explain_revert(tx_hash, receipt), 409)
        return receipt

    def _wait(self, tx_hash: HexBytes, raw: bytes) -> Any:
        """The transaction's receipt, or None after ``RECEIPT_TIMEOUT`` seconds.

        A node that restarted without its pool (or evicted the transaction) no longer knows
        it: then the same signed bytes are sent again. Before, such a pledge was waited for
        until the timeout and answered 504 although it could never be mined. The same bytes
        have the same hash and nonce, so this can never make a second transaction.
        """
        w3 = self.registry.w3
        deadline = time.monotonic() + RECEIPT_TIMEOUT
        check_at = time.monotonic() + RESEND_CHECK
        while time.monotonic() < deadline:
            try:
                return w3.eth.get_transaction_receipt(tx_hash)
            except (TransactionNotFound, TransactionIndexingInProgress):
                pass
            if time.monotonic() >= check_at:
                check_at = time.monotonic() + RESEND_CHECK
                try:
                    w3.eth.get_transaction(tx_hash)
                except TransactionNotFound:
                    self._send_again(tx_hash, raw)
            time.sleep(RECEIPT_POLL)
        return None

    def _send_again(self, tx_hash: HexBytes, raw: bytes) -> None:
        w3 = self.registry.w3
        try:
            w3.eth.send_raw_transaction(raw)
        except Web3RPCError as exc:
            if "nonce too low" not in str(exc).lower():
                return  # "already known" and the like: it is back in the pool
            try:
                w3.eth.get_transaction_receipt(tx_hash)
                return  # mined meanwhile: the next round reads the receipt
            except TransactionNotFound:
                pass
            # Its nonce went to another transaction, so it should never be mined; a node
            # behind a load balancer may still be catching up, so "check" rather than "no".
            raise RequestRefused(
                f"transaction {tx_hash.to_0x_hex()} was dropped by the node and its nonce "
                "was used by another; check the campaign page before trying again",
                504,
            ) from None

    def _sign_and_send(self, fn: Any) -> tuple[HexBytes, bytes]:
        """Build (estimating gas, which runs the call), sign and send; caller holds the lock.

        Returns the hash and the signed bytes (to send again if the node loses them).

        A nonce already taken (another process sharing this wallet, or a restart while a
        transaction was in flight) is retried with the node's fresh count, a few times.
        """
        w3 = self.registry.w3
        for attempt in range(NONCE_RETRIES):
            try:
                tx = build_transaction(
                    fn,
                    {
                        "from": self.account.address,
                        "nonce": w3.eth.get_transaction_count(self.account.address, "pending"),
                        "chainId": self.registry.chain_id,
                    },
                )
            except ContractCustomError as exc:
                revert = self.registry.decode_error(exc.data if isinstance(exc.data, str) else "")
                raise RequestRefused(str(revert), 409) from None
            except ContractLogicError as exc:
                raise RequestRefused(f"the registry refused the call: {exc}", 409) from None
            signed = self.account.sign_transaction(tx)
            try:
                return w3.eth.send_raw_transaction(signed.raw_transaction), signed.raw_transaction
            except Web3RPCError as exc:
                taken = any(word in str(exc).lower() for word in NONCE_TAKEN)
                if not taken or attempt == NONCE_RETRIES - 1:
                    raise RequestRefused(f"the node refused the transaction: {exc}", 502) from None
                time.sleep(0.1 * (attempt + 1) + random.random() * 0.2)
            except requests.RequestException:
                # The connection failed mid-send: the node may have taken it (see _submit).
                raise RequestRefused(
                    f"the node stopped answering while transaction "
                    f"{HexBytes(signed.hash).to_0x_hex()} was being sent; check the campaign "
                    "page before trying again",
                    504,
                ) from None
        raise AssertionError("unreachable")


class _Claim:
    """Marks (campaign, account) as in flight, so a duplicate is refused, not mined to revert."""

    def __init__(self, relayer: Relayer, key: tuple[int, str]) -> None:
        self.relayer, self.key = relayer, key

    def __enter__(self) -> None:
        with self.relayer._in_flight_lock:
            if self.key in self.relayer._in_flight:
                raise RequestRefused(
                    f"a request for {self.key[1]} in campaign {self.key[0]} is already on its way",
                    409,
                )
            self.relayer._in_flight.add(self.key)

    def __exit__(self, *_: object) -> None:
        with self.relayer._in_flight_lock:
            self.relayer._in_flight.discard(self.key)


def _check_signer(typed: dict[str, Any], signature: bytes, account: str, nonce: int) -> None:
    try:
        signer = Account.recover_message(encode_typed_data(full_message=typed), signature=signature)
    except Exception:  # noqa: BLE001 - eth_account raises several types for a bad signature
        raise RequestRefused("the signature is malformed", 400) from None
    if signer.lower() != account.lower():
        raise RequestRefused(
            f"the signature is not by {account} for nonce {nonce} (signed by {signer}); "
            "it may be for another campaign, an old nonce, or already used",
            409,
        )


# ---------------------------------------------------------------------- body parsing


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if not isinstance(value, dict):
        raise RequestRefused(f"{key} must be a JSON object")
    return value


def _uint(body: dict[str, Any], key: str, bits: int) -> int:
    value = body.get(key)
    # ASCII digits only, and no longer than 2^256 can be: int() refuses other "digits" such
    # as '²', and Python caps the length of numbers it parses from text.
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 78:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**bits:
        raise RequestRefused(f"{key} must be a whole number from 0 to 2^{bits} - 1")
    return value


def _address(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or len(value) != 42 or not value.startswith("0x"):
        raise RequestRefused(f"{key} must be a 0x-prefixed 20-byte address")
    try:
        return str(to_checksum_address(value))
    except ValueError:
        raise RequestRefused(f"{key} must be a 0x-prefixed 20-byte address") from None


def _bytes(body: dict[str, Any], key: str, size: int | None) -> bytes:
    value = body.get(key)
    if not isinstance(value, str) or not value.startswith("0x"):
        raise RequestRefused(f"{key} must be 0x-prefixed hex")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise RequestRefused(f"{key} must be 0x-prefixed hex") from None
    if size is not None and len(raw) != size:
        raise RequestRefused(f"{key} has {len(raw)} bytes; expected {size}")
    return raw


def _text(body: dict[str, Any], key: str, low: int, high: int) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise RequestRefused(f"{key} must be text")
    size = len(value.encode())
    if not low <= size <= high:
        raise RequestRefused(f"{key} has {size} bytes; it must have {low} to {high}")
    return value
