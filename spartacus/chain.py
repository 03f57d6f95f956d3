"""The registry client: web3.py calls in, dataclasses out.

It is handed a ``Web3`` and never builds one. Reads decode the contract's events into
typed records (``spartacus.crypto.PledgeRecord`` and the classes below); writes check
the campaign's state first where that gives a clearer message than a revert, then send a
signed transaction and turn any custom error into a ``ContractRevert`` that says what was
wrong in words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from functools import cached_property
from importlib import resources
from typing import Any

import requests
from eth_abi import decode as abi_decode
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    Web3Exception,
)
from web3.logs import DISCARD

from .crypto import (
    PledgeRecord,
    Sealed,
    endorsement_typed_data,
    pledge_typed_data,
    withdraw_typed_data,
)
from .exceptions import CampaignStateError, ChainError, ContractRevert

ZERO_ACCOUNT = "0x0000000000000000000000000000000000000000"
RECEIPT_TIMEOUT = 120


class Status(IntEnum):
    NONE = 0
    OPEN = 1
    PENDING = 2
    REVEALED = 3
    EXPIRED = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class RosterMode(IntEnum):
    MEMBERS = 0
    PUBLIC = 1

    @property
    def label(self) -> str:
        return self.name.lower()


def load_artifact(name: str = "Spartacus") -> dict[str, Any]:
    """The compiled contract shipped in the package (no compiler needed)."""
    text = (resources.files("spartacus") / "artifacts" / f"{name}.json").read_text()
    artifact: dict[str, Any] = json.loads(text)
    return artifact


def iso(timestamp: int) -> str:
    """A Unix time as an ISO 8601 UTC string, for messages and JSON output."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------- records


@dataclass(frozen=True)
class CampaignInfo:
    """What the registry's storage says about a campaign now."""

    campaign_id: int
    status: Status
    creator: str
    threshold: int
    active: int
    pledges: int
    deadline: int
    grace_period: int
    grace_end: int
    custodian_threshold: int
    roster_mode: RosterMode
    metadata_hash: bytes
    custodians: tuple[str, ...]


@dataclass(frozen=True)
class Terms:
    """The public terms from a ``CampaignCreated`` event."""

    title: str
    description: str
    plan: str
    threshold: int
    deadline: int
    grace_period: int
    custodian_threshold: int
    roster_mode: RosterMode
    creator: str
    metadata_hash: bytes
    block_number: int


@dataclass(frozen=True)
class Custodian:
    index: int
    account: str
    campaign_key: bytes


@dataclass(frozen=True)
class PledgeEvent:
    record: PledgeRecord
    active: int
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class Withdrawal:
    index: int
    account: str
    active: int
    block_number: int


@dataclass(frozen=True)
class Release:
    custodian_index: int
    custodian: str
    data: bytes
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class StatusChange:
    """ThresholdReached, GraceStarted, Reopened or Expired, in log order."""

    event: str
    active: int
    block_number: int
    grace_end: int = 0


@dataclass
class History:
    """Everything the logs say about one campaign, in log order."""

    campaign_id: int
    terms: Terms | None = None
    custodians: list[Custodian] = field(default_factory=list)
    instructions: PledgeRecord | None = None
    pledges: list[PledgeEvent] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    changes: list[StatusChange] = field(default_factory=list)
    # Every decoded record in log order, as (event name, record): what `verify` replays.
    log: list[tuple[str, Any]] = field(default_factory=list)

    def active_records(self) -> list[PledgeRecord]:
        """The pledges not withdrawn, by index."""
        withdrawn = {w.index for w in self.withdrawals}
        return [p.record for p in self.pledges if p.record.index not in withdrawn]

    def revealed_at(self) -> int | None:
        """The block of ``ThresholdReached``, if any."""
        return next((c.block_number for c in self.changes if c.event == "ThresholdReached"), None)


# ---------------------------------------------------------------------- client


class Registry:
    """A deployed registry on the chain behind ``w3``."""

    def __init__(self, w3: Web3, address: str, *, from_block: int = 0) -> None:
        artifact = load_artifact()
        self.w3 = w3
        self.address = to_checksum_address(address)
        self.from_block = from_block
        self.contract = w3.eth.contract(address=self.address, abi=artifact["abi"])
        self._created: dict[int, int] = {}  # campaign id -> creation block, once found
        self._errors = {
            keccak(text=_signature(item))[:4]: item
            for item in artifact["abi"]
            if item["type"] == "error"
        }

    @classmethod
    def deploy(cls, w3: Web3, sender: LocalAccount) -> Registry:
        """Deploy a new registry from ``sender``; returns a client bound to it."""
        artifact = load_artifact()
        container = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        receipt = _send(w3, container.constructor(), sender, {})
        if not receipt.get("contractAddress"):
            raise ChainError("the deployment transaction created no contract")
        return cls(w3, receipt["contractAddress"], from_block=receipt["blockNumber"])

    @cached_property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    def has_code(self) -> bool:
        return len(self.w3.eth.get_code(self.address)) > 0

    # ------------------------------------------------------------ views

    def campaign_count(self) -> int:
        return int(self.contract.functions.campaignCount().call())

    def info(self, campaign_id: int) -> CampaignInfo:
        """The campaign's stored state; ``CampaignStateError`` if it does not exist."""
        self._check_id(campaign_id)
        raw = self.contract.functions.campaign(campaign_id).call()
        return CampaignInfo(
            campaign_id=campaign_id,
            status=Status(raw[0]),
            creator=raw[1],
            threshold=raw[2],
            active=raw[3],
            pledges=raw[4],
            deadline=raw[5],
            grace_period=raw[6],
            grace_end=raw[7],
            custodian_threshold=raw[8],
            roster_mode=RosterMode(raw[9]),
            metadata_hash=bytes(raw[10]),
            custodians=tuple(raw[11]),
        )

    def status_of(self, campaign_id: int) -> Status:
        self._check_id(campaign_id)
        return Status(self.contract.functions.statusOf(campaign_id).call())

    def pledge_of(self, campaign_id: int, account: str) -> tuple[bool, int, int]:
        active, index, nonce = self.contract.functions.pledgeOf(campaign_id, account).call()
        return bool(active), int(index), int(nonce)

    def nonce_of(self, campaign_id: int, account: str) -> int:
        return int(self.contract.functions.nonceOf(campaign_id, account).call())

    def latest_timestamp(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def _check_id(self, campaign_id: int) -> None:
        if campaign_id < 1 or campaign_id > self.campaign_count():
            raise CampaignStateError(f"campaign {campaign_id} does not exist on this registry")

    # ------------------------------------------------------------ logs

    def history(self, campaign_id: int, *, to_block: int | None = None) -> History:
        """Every event of one campaign, decoded.

        Logs are read in ranges of ``LOG_CHUNK_BLOCKS`` blocks (one ``eth_getLogs`` call on
        a younger registry), as hosted providers refuse wider queries; a range they still
        refuse is halved until they answer (``raw_logs``).
        """
        self._check_id(campaign_id)
        end = int(self.w3.eth.block_number) if to_block is None else to_block
        topics = [None, "0x" + campaign_id.to_bytes(32, "big").hex()]
        history = History(campaign_id)
        decoders = self._decoders
        first = self.from_block
        if end - first + 1 > BISECT_AFTER_CHUNKS * LOG_CHUNK_BLOCKS:
            first = self.creation_block(campaign_id, end)
        for start in range(first, end + 1, LOG_CHUNK_BLOCKS):
            stop = min(end, start + LOG_CHUNK_BLOCKS - 1)
            for log in self.raw_logs(start, stop, topics):
                decoder = decoders.get(log["topics"][0])
                if decoder is not None:
                    _apply(history, decoder.name, decoder.decode(log), log)
        return history

    def creation_block(self, campaign_id: int, head: int) -> int:
        """The block that created ``campaign_id`` (at or before ``head``), so that its logs
        are read from there rather than from the registry's deployment: ``campaignCount()``
        is bisected over past blocks, about log2(registry age) calls instead of one per
        ``LOG_CHUNK_BLOCKS``. A node that keeps no old state (not an archive node) refuses
        those calls: then the deployment block it is, which is slower but just as right.
        """
        known = self._created.get(campaign_id)
        if known is not None:
            return known
        low, high = self.from_block, head
        try:
            while low < high:
                middle = (low + high) // 2
                if self._count_at(middle) >= campaign_id:
                    high = middle
                else:
                    low = middle + 1
        except (Web3Exception, ValueError):
            return self.from_block
        self._created[campaign_id] = low
        return low

    def _count_at(self, block: int) -> int:
        """``campaignCount()`` as of ``block``; 0 before the registry existed."""
        data = self.contract.functions.campaignCount()._encode_transaction_data()
        raw = self.w3.eth.call({"to": self.address, "data": data}, block_identifier=block)
        return int.from_bytes(raw, "big") if raw else 0

    def raw_logs(
        self, from_block: int, to_block: int, topics: list[Any] | None = None
    ) -> list[Any]:
        """The registry's logs in a block range, straight from ``eth_getLogs``.

        web3's result formatters cost more than the decoding itself on a large campaign
        (docs/performance.md), so the request is sent raw and each log is turned into bytes
        and ints here. Nodes that cap the range or the number of results refuse with an
        error; the range is then halved and fetched in parts.
        """
        if to_block < from_block:
            return []
        params: dict[str, Any] = {
            "address": self.address,
            "fromBlock": hex(from_block),
            "toBlock": hex(to_block),
        }
        if topics is not None:
            params["topics"] = topics
        answer = self.w3.provider.make_request("eth_getLogs", [params])  # type: ignore[arg-type]
        if "error" in answer:
            if to_block == from_block or not _range_refused(answer["error"]):
                raise ChainError(f"eth_getLogs failed: {answer['error']}")
            middle = (from_block + to_block) // 2
            return self.raw_logs(from_block, middle, topics) + self.raw_logs(
                middle + 1, to_block, topics
            )
        return [_plain_log(log) for log in answer["result"]]

    @cached_property
    def _decoders(self) -> dict[bytes, _EventDecoder]:
        return {
            keccak(text=_signature(item)): _EventDecoder.from_abi(item)
            for item in load_artifact()["abi"]
            if item["type"] == "event"
        }

    # ------------------------------------------------------------ EIP-712

    def _sign(self, signer: LocalAccount, typed: dict[str, Any]) -> bytes:
        return bytes(signer.sign_message(encode_typed_data(full_message=typed)).signature)

    def sign_endorsement(self, signer: LocalAccount, campaign_key: bytes, expiry: int) -> bytes:
        typed = endorsement_typed_data(self.chain_id, self.address, campaign_key, expiry)
        return self._sign(signer, typed)

    def sign_pledge(self, signer: LocalAccount, campaign_id: int, sealed: Sealed) -> bytes:
        nonce = self.nonce_of(campaign_id, signer.address)
        typed = pledge_typed_data(self.chain_id, self.address, campaign_id, sealed, nonce)
        return self._sign(signer, typed)

    def sign_withdraw(self, signer: LocalAccount, campaign_id: int) -> bytes:
        nonce = self.nonce_of(campaign_id, signer.address)
        typed = withdraw_typed_data(self.chain_id, self.address, campaign_id, nonce)
        return self._sign(signer, typed)

    # ------------------------------------------------------------ transactions

    def create_campaign(
        self,
        sender: LocalAccount,
        terms: tuple[Any, ...],
        instructions: Sealed,
        endorsements: list[tuple[str, bytes, int, bytes]],
    ) -> int:
        """Send ``createCampaign``; returns the new campaign's id."""
        fn = self.contract.functions.createCampaign(terms, instructions.as_abi(), endorsements)
        receipt = self._send(fn, sender)
        for event in self.contract.events.CampaignCreated().process_receipt(
            receipt, errors=DISCARD
        ):
            return int(event["args"]["campaignId"])
        raise ChainError("createCampaign was mined but emitted no CampaignCreated event")

    def pledge_with_sig(
        self, sender: LocalAccount, campaign_id: int, account: str, sealed: Sealed, sig: bytes
    ) -> int:
        """Send ``pledgeWithSig``; returns the pledge's index."""
        fn = self.contract.functions.pledgeWithSig(campaign_id, account, sealed.as_abi(), sig)
        receipt = self._send(fn, sender)
        for event in self.contract.events.Pledged().process_receipt(receipt, errors=DISCARD):
            return int(event["args"]["index"])
        raise ChainError("pledgeWithSig was mined but emitted no Pledged event")

    def withdraw_with_sig(
        self, sender: LocalAccount, campaign_id: int, account: str, sig: bytes
    ) -> None:
        self._send(self.contract.functions.withdrawWithSig(campaign_id, account, sig), sender)

    def finalize(self, sender: LocalAccount, campaign_id: int) -> None:
        self._send(self.contract.functions.finalize(campaign_id), sender)

    def expire(self, sender: LocalAccount, campaign_id: int) -> None:
        self._send(self.contract.functions.expire(campaign_id), sender)

    def release(self, sender: LocalAccount, campaign_id: int, data: bytes) -> str:
        receipt = self._send(self.contract.functions.release(campaign_id, data), sender)
        return HexBytes(receipt["transactionHash"]).to_0x_hex()

    def _send(self, fn: ContractFunction, sender: LocalAccount) -> Any:
        return _send(self.w3, fn, sender, self._errors)

    def explain_revert(self, tx_hash: bytes, receipt: Any) -> str:
        """Why a mined transaction to the registry reverted (see ``explain_revert``)."""
        return explain_revert(self.w3, tx_hash, receipt, self._errors)

    def decode_error(self, data: str | bytes) -> ContractRevert:
        return _decode_error(self._errors, data)


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


# ---------------------------------------------------------------------- internals


@dataclass(frozen=True)
class _EventDecoder:
    """Decodes one event's logs with eth_abi directly.

    web3's ``process_log`` spent most of a 10,000-member roster read re-validating every
    log (bench/, docs/performance.md); the registry's own ABI is all this needs.
    """

    name: str
    indexed: tuple[tuple[str, str], ...]  # (name, type) of the indexed inputs, in topic order
    data: tuple[tuple[str, str], ...]  # (name, type) of the rest, in data order

    @classmethod
    def from_abi(cls, item: dict[str, Any]) -> _EventDecoder:
        inputs = item["inputs"]
        return cls(
            item["name"],
            tuple((i["name"], _abi_type(i)) for i in inputs if i["indexed"]),
            tuple((i["name"], _abi_type(i)) for i in inputs if not i["indexed"]),
        )

    def decode(self, log: Any) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for (name, kind), topic in zip(self.indexed, log["topics"][1:], strict=True):
            args[name] = _checksummed(kind, abi_decode([kind], bytes(topic))[0])
        values = abi_decode([kind for _, kind in self.data], bytes(log["data"]))
        for (name, kind), value in zip(self.data, values, strict=True):
            args[name] = _checksummed(kind, value)
        return args


# Blocks per eth_getLogs call in Registry.history: the widest range most hosted providers
# accept (narrower caps are met by halving on their refusal).
LOG_CHUNK_BLOCKS = 10_000
# A campaign's history is read from its creation block (found by bisection) once the
# registry is older than this many chunks; younger registries are read from deployment.
BISECT_AFTER_CHUNKS = 8

# What providers say when a log query spans too many blocks or returns too many results.
_RANGE_WORDS = ("range", "too many", "response size", "query returned more")


def _range_refused(error: Any) -> bool:
    text = str(error.get("message", error) if isinstance(error, dict) else error).lower()
    return any(word in text for word in _RANGE_WORDS)


def _plain_log(log: dict[str, Any]) -> dict[str, Any]:
    """A raw JSON-RPC log with bytes and ints where web3 would have put them."""
    return {
        "topics": [bytes.fromhex(t[2:]) for t in log["topics"]],
        "data": bytes.fromhex(log["data"][2:]),
        "blockNumber": int(log["blockNumber"], 16),
        "transactionHash": bytes.fromhex(log["transactionHash"][2:]),
        "logIndex": int(log["logIndex"], 16),
    }


def _checksummed(kind: str, value: Any) -> Any:
    return to_checksum_address(value) if kind == "address" else value


# What public health reports say when the node is unreachable: a connection error names the
# RPC URL, and a hosted node's URL carries its API key (operators' logs keep the whole text).
NODE_UNREACHABLE = "the node cannot be reached"


def is_connection_error(exc: BaseException | None) -> bool:
    """Whether ``exc``, or anything that caused it, means the node could not be reached."""
    while exc is not None:
        if isinstance(exc, requests.exceptions.RequestException | ConnectionError | OSError):
            return True
        if isinstance(exc, ChainError) and "cannot reach the chain" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def describe_failure(exc: BaseException) -> str:
    """A failed node call in words fit for the public (``/health``, ``/api/health``)."""
    if is_connection_error(exc):
        return NODE_UNREACHABLE
    return f"{type(exc).__name__}: {exc}"[:500]


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


def explain_revert(w3: Web3, tx_hash: bytes, receipt: Any, errors: dict[bytes, Any]) -> str:
    """Why a mined transaction reverted, as far as the node can say without tracing.

    The transaction is replayed as a call on the state after its block: the registry's
    custom error then names what changed under it (e.g. the campaign was revealed by a
    pledge mined first). If the replay passes, the gas ran out or the state moved again."""
    tx = w3.eth.get_transaction(HexBytes(tx_hash))
    call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "gas": tx["gas"]}
    prefix = f"transaction {HexBytes(tx_hash).to_0x_hex()} reverted"
    try:
        w3.eth.call(call, block_identifier=receipt["blockNumber"])  # type: ignore[arg-type]
    except ContractCustomError as exc:
        revert = _decode_error(errors, exc.data if isinstance(exc.data, str) else "")
        return f"{prefix}: {revert}"
    except ContractLogicError as exc:
        return f"{prefix}: {exc}"
    if receipt["gasUsed"] >= tx["gas"]:
        return f"{prefix}: out of gas ({receipt['gasUsed']:,} used of {tx['gas']:,})"
    return f"{prefix}; replayed on the state after its block it passes (the state moved)"


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
        raise _decode_error(errors, exc.data if isinstance(exc.data, str) else "") from None
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


def _signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(_abi_type(i) for i in item['inputs'])})"


def _abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return str(param["type"])


def _decode_error(errors: dict[bytes, Any], data: str | bytes) -> ContractRevert:
    raw = bytes(HexBytes(data))
    item = errors.get(raw[:4])
    if item is None:
        return ContractRevert("Unknown", {}, f"the registry refused the call (0x{raw.hex()})")
    types = [_abi_type(i) for i in item["inputs"]]
    values = abi_decode(types, raw[4:])
    args = {
        i["name"]: to_checksum_address(v) if i["type"] == "address" else v
        for i, v in zip(item["inputs"], values, strict=True)
    }
    return ContractRevert(item["name"], args, _explain(item["name"], args))


_FIELDS = ["title", "description", "plan", "ciphertext", "boxes", "signature", "release data"]


def _explain(name: str, a: dict[str, Any]) -> str:
    """Words for each custom error, for people rather than debuggers."""
    cid = a.get("campaignId")
    messages: dict[str, Any] = {
        "UnknownCampaign": lambda: f"campaign {cid} does not exist",
        "ThresholdTooLow": lambda: f"the threshold must be at least 2 (got {a['threshold']})",
        "DeadlineNotInFuture": lambda: f"the deadline {iso(a['deadline'])} is not in the future",
        "BadCustodianCount": lambda: f"a campaign needs 1 to 5 custodians (got {a['count']})",
        "BadCustodianThreshold": lambda: (
            f"the custodian threshold must be between 1 and {a['custodianCount']} "
            f"(got {a['custodianThreshold']})"
        ),
        "DuplicateCustodian": lambda: f"custodian {a['custodian']} is listed twice",
        "EndorsementExpired": lambda: (
            f"endorsement {a['index'] + 1} expired on {iso(a['expiry'])}; "
            "ask the custodian for a new one"
        ),
        "BadEndorsement": lambda: (
            f"endorsement {a['index'] + 1} was not signed by custodian {a['custodian']} "
            f"(signer {a['signer']}); it may be for another registry or chain"
        ),
        "CampaignKeyUsed": lambda: (
            f"campaign key 0x{bytes(a['campaignKey']).hex()} already serves a campaign; "
            "ask the custodian for a fresh endorsement"
        ),
        "ZeroKey": lambda: "a member or campaign key is zero",
        "BadLength": lambda: (
            f"the {_FIELDS[a['field']]} has {a['length']} bytes; expected {a['expected']}"
        ),
        "CampaignClosed": lambda: (
            f"campaign {cid} no longer takes pledges "
            f"({Status(a['status']).label}, deadline {iso(a['deadline'])})"
        ),
        "WrongStatus": lambda: f"campaign {cid} is {Status(a['status']).label}",
        "AlreadyPledged": lambda: f"{a['account']} already has an active pledge in campaign {cid}",
        "NotPledged": lambda: f"{a['account']} has no active pledge in campaign {cid}",
        "BadSignature": lambda: f"the signature is not by {a['account']} (signer {a['signer']})",
        "GraceNotOver": lambda: f"campaign {cid}'s grace period ends at {iso(a['graceEnd'])}",
        "DeadlineNotPassed": lambda: (
            f"campaign {cid}'s deadline {iso(a['deadline'])} has not passed"
        ),
        "NotCustodian": lambda: f"{a['caller']} is not a custodian of campaign {cid}",
    }
    explain = messages.get(name)
    return str(explain()) if explain else f"the registry refused the call: {name}({a})"


def _get(value: Any, key: str, position: int) -> Any:
    """A field of a decoded tuple, whether web3 gave it as a mapping or a sequence."""
    return value[key] if hasattr(value, "keys") else value[position]


def _apply(history: History, name: str, args: Any, log: Any) -> None:
    _record(history, name, args, log)
    latest: dict[str, Any] = {
        "CampaignCreated": lambda: history.terms,
        "CustodianAssigned": lambda: history.custodians[-1],
        "InstructionsSealed": lambda: history.instructions,
        "Pledged": lambda: history.pledges[-1],
        "Withdrawn": lambda: history.withdrawals[-1],
        "Released": lambda: history.releases[-1],
    }
    record = latest[name]() if name in latest else history.changes[-1]
    history.log.append((name, record))


def _record(history: History, name: str, args: Any, log: Any) -> None:
    block = int(log["blockNumber"])
    if name == "CampaignCreated":
        t = args["terms"]
        history.terms = Terms(
            title=_get(t, "title", 0),
            description=_get(t, "description", 1),
            plan=_get(t, "plan", 2),
            threshold=_get(t, "threshold", 3),
            deadline=_get(t, "deadline", 4),
            grace_period=_get(t, "gracePeriod", 5),
            custodian_threshold=_get(t, "custodianThreshold", 6),
            roster_mode=RosterMode(_get(t, "rosterMode", 7)),
            creator=args["creator"],
            metadata_hash=bytes(args["metadataHash"]),
            block_number=block,
        )
    elif name == "CustodianAssigned":
        history.custodians.append(
            Custodian(int(args["index"]), args["custodian"], bytes(args["campaignKey"]))
        )
    elif name == "InstructionsSealed":
        s = args["instructions"]
        names = ("memberKey", "ciphertext", "boxes", "commitment")
        values = [_get(s, key, i) for i, key in enumerate(names)]
        history.instructions = PledgeRecord(
            0, ZERO_ACCOUNT, bytes(values[0]), bytes(values[1]), bytes(values[2]), bytes(values[3])
        )
    elif name == "Pledged":
        record = PledgeRecord(
            int(args["index"]),
            args["account"],
            bytes(args["memberKey"]),
            bytes(args["ciphertext"]),
            bytes(args["boxes"]),
            bytes(args["commitment"]),
        )
        tx = HexBytes(log["transactionHash"]).to_0x_hex()
        history.pledges.append(PledgeEvent(record, int(args["active"]), block, tx))
    elif name == "Withdrawn":
        history.withdrawals.append(
            Withdrawal(int(args["index"]), args["account"], int(args["active"]), block)
        )
    elif name == "Released":
        tx = HexBytes(log["transactionHash"]).to_0x_hex()
        history.releases.append(
            Release(int(args["index"]), args["custodian"], bytes(args["data"]), block, tx)
        )
    elif name in ("ThresholdReached", "Reopened", "Expired"):
        history.changes.append(StatusChange(name, int(args["active"]), block))
    elif name == "GraceStarted":
        history.changes.append(
            StatusChange(name, int(args["active"]), block, int(args["graceEnd"]))
        )


# ---------------------------------------------------------------------- watcher support
# Small read and send helpers the custodian watcher (spartacus/watcher/) needs: which
# campaigns name a custodian, a campaign's status at a confirmed block, and a release
# transaction signed but not yet sent, so that its hash is saved before it leaves.


@dataclass(frozen=True)
class Assignment:
    """One ``CustodianAssigned`` log naming a given custodian."""

    campaign_id: int
    index: int
    campaign_key: bytes
    block_number: int


@dataclass(frozen=True)
class SignedRelease:
    tx_hash: str
    raw: bytes
    nonce: int


def custodian_assignments(
    registry: Registry, custodian: str, *, from_block: int, to_block: int
) -> list[Assignment]:
    """The campaigns that list ``custodian``, from the logs filtered by its indexed topic."""
    if to_block < from_block:
        return []
    event = registry.contract.events.CustodianAssigned
    topic0 = "0x" + keccak(text="CustodianAssigned(uint256,address,uint8,bytes32)").hex()
    topic2 = "0x" + bytes(HexBytes(to_checksum_address(custodian))).rjust(32, b"\0").hex()
    logs = registry.w3.eth.get_logs(
        {
            "address": registry.address,
            "fromBlock": from_block,
            "toBlock": to_block,
            "topics": [topic0, None, topic2],
        }
    )
    out = []
    for log in logs:
        args = event().process_log(log)["args"]
        out.append(
            Assignment(
                int(args["campaignId"]),
                int(args["index"]),
                bytes(args["campaignKey"]),
                int(log["blockNumber"]),
            )
        )
    return out


def status_at(registry: Registry, campaign_id: int, block: int) -> Status:
    """``statusOf`` as of ``block`` (``Status.NONE`` if the campaign did not exist yet)."""
    raw = registry.contract.functions.statusOf(campaign_id).call(block_identifier=block)
    return Status(int(raw or 0))


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


# ---------------------------------------------------------------------- indexing support


def apply_logs(registry: Registry, histories: dict[int, History], logs: Any) -> set[int]:
    """Decode registry logs of any campaigns into ``histories``; returns the ids touched.

    The web app's poller reads every campaign's logs of a block range in one call and
    keeps one ``History`` per campaign, as ``Registry.history`` builds for one.
    """
    touched: set[int] = set()
    decoders = registry._decoders
    for log in logs:
        topics = log["topics"]
        decoder = decoders.get(bytes(HexBytes(topics[0]))) if topics else None
        if decoder is None or len(topics) < 2:
            continue
        campaign_id = int.from_bytes(bytes(HexBytes(topics[1])), "big")
        history = histories.setdefault(campaign_id, History(campaign_id))
        _apply(history, decoder.name, decoder.decode(log), log)
        touched.add(campaign_id)
    return touched
