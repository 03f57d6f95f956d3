"""The registry client's read side: its views, its events as typed records, its errors.

It is handed a ``Web3`` and never builds one. Views are ``eth_call``s of the contract;
events are read event to event (``spartacus.chain.walk``) or by block range
(``raw_logs``) and decoded into typed records (``spartacus.chain.records``). The write side
(signatures and transactions) is ``spartacus.chain.registry.Registry``, which extends this.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import requests
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.types import BlockIdentifier

from ..exceptions import CampaignStateError, ChainError, ResultCapped, StateRefused
from ..protocol import Deployment
from .artifact import abi_signature, load_artifact
from .events import EventDecoder, apply_log, plain_log
from .fees import FeeCaps
from .groups import Groups
from .records import CampaignInfo, History, RosterMode, Status
from .walk import CampaignLog, last_event_block, scan, scan_fallback, unanswered, walk


class RegistryReader:
    """A deployed registry on the chain behind ``w3``, read: views, logs, errors."""

    def __init__(self, w3: Web3, address: str, *, from_block: int = 0) -> None:
        artifact = load_artifact()
        self.w3 = w3
        self.address = to_checksum_address(address)
        self.from_block = from_block
        self.caps = FeeCaps()  # the user's fee caps, for every transaction sent to it
        self.contract = w3.eth.contract(address=self.address, abi=artifact["abi"])
        # A gated pledge's proof refused by the groups contract reverts with its error, so
        # both contracts' errors are decoded (UnknownGroup is the same in both).
        self.errors = {  # 4-byte selector -> the ABI of a custom error
            keccak(text=abi_signature(item))[:4]: item
            for item in [*load_artifact("SpartacusGroups")["abi"], *artifact["abi"]]
            if item["type"] == "error"
        }

    @cached_property
    def groups_address(self) -> str:
        """The groups contract this registry's gated campaigns name their groups in."""
        return str(to_checksum_address(self.contract.functions.groups().call()))

    @cached_property
    def groups(self) -> Groups:
        """A client for ``groups_address`` (its logs read from this registry's deployment)."""
        return Groups(self.w3, self.groups_address, from_block=0)

    @cached_property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    @property
    def deployment(self) -> Deployment:
        """This registry and its chain, as every sealed byte format is bound to them."""
        return Deployment(self.chain_id, self.address)

    def has_code(self) -> bool:
        return len(self.w3.eth.get_code(self.address)) > 0

    # ------------------------------------------------------------ views

    def campaign_count(self) -> int:
        return int(self.contract.functions.campaignCount().call())

    def info(self, campaign_id: int, *, block: BlockIdentifier | None = None) -> CampaignInfo:
        """The campaign's stored state (now, or as of ``block``); ``CampaignStateError`` if it
        does not exist now (as of ``block``, the registry's ``UnknownCampaign`` revert)."""
        if block is None:
            self._check_id(campaign_id)
        raw = self.contract.functions.campaign(campaign_id).call(block_identifier=block)
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
            late_joining=bool(raw[11]),
            reveal_pledges=int(raw[12]),
            custodians=tuple(raw[13]),
            group=int(raw[14]),
            last_event_block=int(raw[15]),
        )

    def status_of(self, campaign_id: int) -> Status:
        self._check_id(campaign_id)
        return Status(self.contract.functions.statusOf(campaign_id).call())

    def pledge_of(self, campaign_id: int, account: str) -> tuple[bool, int, int]:
        active, index, nonce = self.contract.functions.pledgeOf(campaign_id, account).call()
        return bool(active), int(index), int(nonce)

    def nonce_of(self, campaign_id: int, account: str) -> int:
        return int(self.contract.functions.nonceOf(campaign_id, account).call())

    def admitted(self, campaign_id: int, index: int) -> bool:
        return bool(self.contract.functions.admitted(campaign_id, index).call())

    def nullifier_holder(self, campaign_id: int, nullifier: int) -> int:
        """The index of the active pledge that holds ``nullifier`` in the campaign, 0 if none."""
        return int(self.contract.functions.nullifierHolder(campaign_id, nullifier).call())

    def latest_timestamp(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def _check_id(self, campaign_id: int) -> None:
        if campaign_id < 1 or campaign_id > self.campaign_count():
            raise CampaignStateError(f"campaign {campaign_id} does not exist on this registry")

    # ------------------------------------------------------------ logs

    def history(self, campaign_id: int, *, to_block: int | None = None) -> History:
        """Every event of one campaign (up to ``to_block``), decoded: read event to event
        (``campaign_logs``)."""
        history = History(campaign_id)
        for item in self.campaign_logs(campaign_id, to_block=to_block):
            apply_log(history, item.decoder.name, item.args, item.log)
        return history

    def campaign_logs(
        self, campaign_id: int, *, to_block: int | None = None, after: int = -1
    ) -> list[CampaignLog]:
        """The campaign's logs in blocks ``after + 1`` to ``to_block`` (default: the latest),
        oldest first: ``lastEventBlock`` as of ``to_block``, then one ``eth_getLogs`` per
        block holding its events, back along their ``previousBlock`` (``spartacus.chain.walk``).

        Only a node that refuses the state at ``to_block`` makes it scan block ranges instead
        (``_scan``), which it says in a log line. ``CampaignStateError`` if the campaign does
        not exist now; no logs if it did not exist yet at ``to_block``.
        """
        try:
            start = last_event_block(self, campaign_id, "latest" if to_block is None else to_block)
        except ContractLogicError:  # UnknownCampaign
            if to_block is None:
                raise CampaignStateError(
                    f"campaign {campaign_id} does not exist on this registry"
                ) from None
            return []
        except StateRefused as refused:
            self._check_id(campaign_id)
            end = int(self.w3.eth.block_number) if to_block is None else to_block
            first = max(after + 1, self.from_block)
            scan_fallback(refused, campaign_id, first, end)
            return scan(self, campaign_id, first, end)
        return walk(self, campaign_id, start, after=after)

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
        call = f"eth_getLogs of blocks {from_block} to {to_block}"
        try:
            answer = self.w3.provider.make_request("eth_getLogs", [params])  # type: ignore[arg-type]
        except requests.RequestException as exc:  # after web3's own retries
            raise unanswered(call, exc) from exc
        if "error" in answer:
            if to_block == from_block and range_refused(answer["error"]):
                raise ResultCapped(f"eth_getLogs failed: {answer['error']}")
            if to_block == from_block or not range_refused(answer["error"]):
                raise ChainError(
                    f"eth_getLogs failed: {answer['error']} ({call}); nothing was read. "
                    "Try again later, or use another node (--rpc / SPARTACUS_RPC)"
                )
            middle = (from_block + to_block) // 2
            return self.raw_logs(from_block, middle, topics) + self.raw_logs(
                middle + 1, to_block, topics
            )
        return [plain_log(log) for log in answer["result"]]

    @cached_property
    def _decoders(self) -> dict[bytes, EventDecoder]:
        return {
            keccak(text=abi_signature(item)): EventDecoder.from_abi(item)
            for item in load_artifact()["abi"]
            if item["type"] == "event"
        }

    def error_name(self, selector: bytes) -> str:
        """The name of the registry's custom error with this selector (else its hex)."""
        error = self.errors.get(bytes(selector))
        return str(error["name"]) if error else "0x" + bytes(selector).hex()


# What providers say when a log query spans too many blocks or returns too many results.
_RANGE_WORDS = ("range", "too many", "response size", "query returned more")


def range_refused(error: Any) -> bool:
    text = str(error.get("message", error) if isinstance(error, dict) else error).lower()
    return any(word in text for word in _RANGE_WORDS)


def status_at(registry: RegistryReader, campaign_id: int, block: int) -> Status:
    """``statusOf`` as of ``block`` (``Status.NONE`` if the campaign did not exist yet)."""
    raw = registry.contract.functions.statusOf(campaign_id).call(block_identifier=block)
    return Status(int(raw or 0))
