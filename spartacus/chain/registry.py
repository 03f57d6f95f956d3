"""The registry client: web3.py calls in, typed records out.

It is handed a ``Web3`` and never builds one. Reads (views, events decoded into typed
records) are ``spartacus.chain.registry_reader``, which ``Registry`` extends with the write
side kept here: deployment, EIP-712 signatures and transactions. Writes go through
``spartacus.chain.sender``
and any custom error becomes a ``ContractRevert`` that says what was wrong in words.
Writes send what they are given: a caller that can say more than a revert would (the
campaign closed on a date, the account has no active pledge) checks first with
``spartacus.chain.rules``, as the CLI, the ape script and the relayer do.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction

from ..exceptions import ChainError
from ..protocol import (
    SIGNATURE_VALIDITY,
    Sealed,
    endorsement_typed_data,
    pledge_typed_data,
    withdraw_typed_data,
)
from ..protocol.groups import membership_message, membership_scope
from ..semaphore import Proof
from .artifact import load_artifact
from .batches import GATED, PLEDGE, WITHDRAW, BatchOutcome, batch_call, outcomes
from .events import decode_receipt
from .fees import FeeCaps
from .groups import Groups
from .registry_reader import RegistryReader
from .sender import Sender

# ---------------------------------------------------------------------- signed messages


class SignedMessage(NamedTuple):
    """An EIP-712 pledge or withdrawal signature and the ``validUntil`` it signs."""

    valid_until: int
    signature: bytes


# ---------------------------------------------------------------------- client


class Registry(RegistryReader):
    """A deployed registry on the chain behind ``w3``: read (``RegistryReader``), signed
    for and sent to."""

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
