"""The registry client: web3.py calls in, typed records out.

It is handed a ``Web3`` and never builds one. Reads decode the contract's events into
typed records (``spartacus.chain.records``); writes go through ``spartacus.chain.sender``
and any custom error becomes a ``ContractRevert`` that says what was wrong in words.
Writes send what they are given: a caller that can say more than a revert would (the
campaign closed on a date, the account has no active pledge) checks first with
``spartacus.chain.rules``, as the CLI, the ape script and the relayer do.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, NamedTuple

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import (
    ContractLogicError,
)
from web3.types import BlockIdentifier

from ..exceptions import CampaignStateError, ChainError, ResultCapped, StateRefused
from ..protocol import (
    SIGNATURE_VALIDITY,
    Deployment,
    Sealed,
    endorsement_typed_data,
    pledge_typed_data,
    withdraw_typed_data,
)
from ..protocol.groups import membership_message, membership_scope
from ..semaphore import Proof
from .artifact import abi_signature, load_artifact
from .batches import GATED, PLEDGE, WITHDRAW, BatchOutcome, batch_call, outcomes
from .events import EventDecoder, apply_log, decode_receipt, plain_log
from .fees import FeeCaps
from .groups import Groups
from .records import CampaignInfo, History, RosterMode, Status
from .sender import Sender
from .walk import (
    CampaignLog,
    last_event_block,
    scan,
    scan_fallback,
    walk,
)

# ---------------------------------------------------------------------- signed messages


class SignedMessage(NamedTuple):
    """An EIP-712 pledge or withdrawal signature and the ``validUntil`` it signs."""

    valid_until: int
    signature: bytes


# ---------------------------------------------------------------------- client


class Registry:
    """A deployed registry on the chain behind ``w3``."""

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

    @classmethod
    def deploy(
        cls,
        w3: Web3,
        sender: LocalAccount,
        caps: FeeCaps | None = None,
        *,
        groups: str | None = None,
    ) -> Registry:
        """Deploy a new registry from ``sender``; returns a client bound to it. Gated campaigns
        name groups of the SpartacusGroups contract at ``groups``, fixed for good; without it
        one is deployed first (``Groups.deploy``)."""
        if groups is None:
            groups = Groups.deploy(w3, sender).address
        artifact = load_artifact()
        container = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        receipt = Sender(w3, sender, caps=caps).transact(
            container.constructor(to_checksum_address(groups))
        )
        if not receipt.get("contractAddress"):
            raise ChainError("the deployment transaction created no contract")
        return cls(w3, receipt["contractAddress"], from_block=receipt["blockNumber"])

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
        answer = self.w3.provider.make_request("eth_getLogs", [params])  # type: ignore[arg-type]
        if "error" in answer:
            if to_block == from_block and range_refused(answer["error"]):
                raise ResultCapped(f"eth_getLogs failed: {answer['error']}")
            if to_block == from_block or not range_refused(answer["error"]):
                raise ChainError(f"eth_getLogs failed: {answer['error']}")
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

    # ------------------------------------------------------------ EIP-712

    def _sign(self, signer: LocalAccount, typed: dict[str, Any]) -> bytes:
        return bytes(signer.sign_message(encode_typed_data(full_message=typed)).signature)

    def sign_endorsement(self, signer: LocalAccount, campaign_key: bytes, expiry: int) -> bytes:
        typed = endorsement_typed_data(self.chain_id, self.address, campaign_key, expiry)
        return self._sign(signer, typed)

    def default_valid_until(self) -> int:
        """The chain's latest block time plus ``SIGNATURE_VALIDITY`` (one hour)."""
        return self.latest_timestamp() + SIGNATURE_VALIDITY

    def sign_pledge(
        self,
        signer: LocalAccount,
        campaign_id: int,
        sealed: Sealed,
        *,
        valid_until: int | None = None,
        nonce: int | None = None,
    ) -> SignedMessage:
        """Sign ``Pledge`` with the account's current nonce (or ``nonce``), valid until
        ``valid_until`` (default: ``default_valid_until()``)."""
        nonce = self.nonce_of(campaign_id, signer.address) if nonce is None else nonce
        until = self.default_valid_until() if valid_until is None else valid_until
        typed = pledge_typed_data(self.chain_id, self.address, campaign_id, sealed, nonce, until)
        return SignedMessage(until, self._sign(signer, typed))

    def sign_withdraw(
        self, signer: LocalAccount, campaign_id: int, *, valid_until: int | None = None
    ) -> SignedMessage:
        nonce = self.nonce_of(campaign_id, signer.address)
        until = self.default_valid_until() if valid_until is None else valid_until
        typed = withdraw_typed_data(self.chain_id, self.address, campaign_id, nonce, until)
        return SignedMessage(until, self._sign(signer, typed))

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
        for name, args in decode_receipt(self, receipt):
            if name == "CampaignCreated":
                return int(args["campaignId"])
        raise ChainError("createCampaign was mined but emitted no CampaignCreated event")

    def pledge_with_sig(
        self,
        sender: LocalAccount,
        campaign_id: int,
        account: str,
        sealed: Sealed,
        signed: SignedMessage,
    ) -> int:
        """Send ``pledgeWithSig``; returns the pledge's index."""
        fn = self.contract.functions.pledgeWithSig(
            campaign_id, account, sealed.as_abi(), signed.valid_until, signed.signature
        )
        receipt = self._send(fn, sender)
        for name, args in decode_receipt(self, receipt):
            if name == "Pledged":
                return int(args["index"])
        raise ChainError("pledgeWithSig was mined but emitted no Pledged event")

    def pledge_with_sig_batch(
        self,
        sender: LocalAccount,
        items: list[tuple[int, str, Sealed, SignedMessage]],
        proofs: list[Proof] | None = None,
    ) -> list[BatchOutcome]:
        """Send ``pledgeWithSigBatch`` for ``(campaign id, account, sealed, signed)`` items, or
        ``pledgeGatedWithSigBatch`` with ``proofs`` (one per item); returns each item's
        outcome, in order. The registry skips a failing item (``BatchItemRefused``) rather
        than reverting the batch (``spartacus.chain.batches``)."""
        args: list[tuple[Any, ...]] = [
            (cid, account, sealed.as_abi(), signed.valid_until, signed.signature)
            for cid, account, sealed, signed in items
        ]
        kind = PLEDGE
        if proofs is not None:
            kind = GATED
            args = [(*a, p.abi()) for a, p in zip(args, proofs, strict=True)]
        receipt = self._send(batch_call(self, kind, args), sender)
        return outcomes(self, kind, receipt, len(items))

    def withdraw_with_sig_batch(
        self, sender: LocalAccount, items: list[tuple[int, str, SignedMessage]]
    ) -> list[BatchOutcome]:
        """Send ``withdrawWithSigBatch`` for ``(campaign id, account, signed)`` items;
        returns each item's outcome, in order (as ``pledge_with_sig_batch``)."""
        args = [(cid, account, s.valid_until, s.signature) for cid, account, s in items]
        receipt = self._send(batch_call(self, WITHDRAW, args), sender)
        return outcomes(self, WITHDRAW, receipt, len(items))

    def error_name(self, selector: bytes) -> str:
        """The name of the registry's custom error with this selector (else its hex)."""
        error = self.errors.get(bytes(selector))
        return str(error["name"]) if error else "0x" + bytes(selector).hex()

    # ------------------------------------------------------------ gated pledges

    def membership_scope(self, campaign_id: int) -> int:
        """The scope of the campaign's membership proofs (docs/protocol.md)."""
        return membership_scope(self.deployment, campaign_id)

    def membership_message(
        self, campaign_id: int, account: str, sealed: Sealed, signed: SignedMessage, nonce: int
    ) -> int:
        """The message a gated pledge's proof carries: it binds the pledge signed in ``signed``
        (its bytes, ``account``, ``nonce`` and ``validUntil``)."""
        return membership_message(
            self.deployment, campaign_id, account, sealed, nonce, signed.valid_until
        )

    def pledge_gated_with_sig(
        self,
        sender: LocalAccount,
        campaign_id: int,
        account: str,
        sealed: Sealed,
        signed: SignedMessage,
        proof: Proof,
    ) -> int:
        """Send ``pledgeGatedWithSig``; returns the pledge's index."""
        fn = self.contract.functions.pledgeGatedWithSig(
            campaign_id, account, sealed.as_abi(), signed.valid_until, signed.signature,
            proof.abi(),
        )  # fmt: skip
        receipt = self._send(fn, sender)
        for name, args in decode_receipt(self, receipt):
            if name == "Pledged":
                return int(args["index"])
        raise ChainError("pledgeGatedWithSig was mined but emitted no Pledged event")

    def withdraw_with_sig(
        self, sender: LocalAccount, campaign_id: int, account: str, signed: SignedMessage
    ) -> None:
        fn = self.contract.functions.withdrawWithSig(
            campaign_id, account, signed.valid_until, signed.signature
        )
        self._send(fn, sender)

    def admit(self, sender: LocalAccount, campaign_id: int, indices: list[int]) -> list[int]:
        """Send ``admit`` (the creator only); returns the indices admitted."""
        receipt = self._send(self.contract.functions.admit(campaign_id, indices), sender)
        return [int(a["index"]) for n, a in decode_receipt(self, receipt) if n == "Admitted"]

    def finalize(self, sender: LocalAccount, campaign_id: int) -> None:
        self._send(self.contract.functions.finalize(campaign_id), sender)

    def expire(self, sender: LocalAccount, campaign_id: int) -> None:
        self._send(self.contract.functions.expire(campaign_id), sender)

    def release(self, sender: LocalAccount, campaign_id: int, data: bytes) -> str:
        receipt = self._send(self.contract.functions.release(campaign_id, data), sender)
        return HexBytes(receipt["transactionHash"]).to_0x_hex()

    def sender(self, account: LocalAccount) -> Sender:
        """The one sender (``spartacus.chain.sender``) for ``account``'s transactions to this
        registry: its reverts are decoded with the registry's custom errors."""
        return Sender(self.w3, account, self.errors, caps=self.caps)

    def _send(self, fn: ContractFunction, sender: LocalAccount) -> Any:
        return self.sender(sender).transact(fn)


# What providers say when a log query spans too many blocks or returns too many results.
_RANGE_WORDS = ("range", "too many", "response size", "query returned more")


def range_refused(error: Any) -> bool:
    text = str(error.get("message", error) if isinstance(error, dict) else error).lower()
    return any(word in text for word in _RANGE_WORDS)


def status_at(registry: Registry, campaign_id: int, block: int) -> Status:
    """``statusOf`` as of ``block`` (``Status.NONE`` if the campaign did not exist yet)."""
    raw = registry.contract.functions.statusOf(campaign_id).call(block_identifier=block)
    return Status(int(raw or 0))
