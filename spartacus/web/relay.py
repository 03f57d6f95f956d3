"""The relayer: submits signed pledges, withdrawals and campaigns, paying the gas.

A request is read (``bodies``), then checked against the contract's rules
(``spartacus.chain.rules``) before any gas is spent: sizes, the campaign's status and
deadline, the account's active pledge, the EIP-712 signature against the nonce the registry
expects, and finally an ``eth_estimateGas`` that runs the very call. What fails is refused
with the registry's reason in words (its HTTP status from ``errors``); nothing doomed is mined.

Sending, and what its outcome means for the page, is ``submit.Submitter``'s (through
the chain's one sender). Rate limits are per campaign and for everyone together.
No request log is kept, and no client address is read.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes

from .. import protocol
from ..chain import rules
from ..chain.events import decode_receipt
from ..chain.registry import Registry
from ..exceptions import ContractRevert, NotAMember, RequestRefused
from ..protocol.groups import membership_message, membership_scope
from ..ratelimit import RateLimiter
from ..semaphore import Proof
from . import bodies
from .index import CampaignIndex
from .slowdown import NearThreshold
from .submit import Submitter

# The furthest ahead a signed body's validUntil may lie: the clients' default validity
# (one hour) plus ten minutes for a clock ahead of the chain's. A relayer holds nothing that
# could be sent much later, and a page's receipt is spent once its validUntil has passed.
MAX_VALIDITY = protocol.SIGNATURE_VALIDITY + 600


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
        near_fraction: float = 0.0,
        near_per_hour: int = 0,
        is_hidden: Callable[[int], bool],
    ) -> None:
        self.registry = registry
        self.index = index
        self.account = account
        self.min_balance = min_balance
        self.withdraw_reserve = withdraw_reserve
        self.is_hidden = is_hidden
        self._limiter = RateLimiter(per_campaign_per_minute, per_hour)
        self.near = NearThreshold(near_fraction, near_per_hour)  # see ``slowdown``
        self._submitter = Submitter(registry.sender(account))

    @property
    def closed(self) -> bool:
        """Set when the app stops: nothing more is sent."""
        return self._submitter.closed

    @closed.setter
    def closed(self, value: bool) -> None:
        self._submitter.closed = value

    @property
    def address(self) -> str:
        return str(self.account.address)

    def balance(self) -> int:
        return int(self.registry.w3.eth.get_balance(self.account.address))

    # ------------------------------------------------------------ requests

    def pledge(self, body: dict[str, Any]) -> dict[str, Any]:
        campaign_id = bodies.uint(body, "campaignId", 256)
        account = bodies.address(body, "account")
        history = self._campaign(campaign_id)
        if self.is_hidden(campaign_id):
            raise RequestRefused(
                f"campaign {campaign_id} is hidden on this site; this relayer does not take "
                "pledges for it",
                403,
            )
        assert history.terms is not None
        sealed = bodies.sealed(body)
        valid_until = bodies.uint(body, "validUntil", 64)
        signature = bodies.hex_bytes(body, "signature")
        rules.check_sealed_pledge(
            sealed, len(history.custodians), history.terms.custodian_threshold
        )
        rules.check_signature(signature)
        now = self.registry.latest_timestamp()
        rules.check_valid_until(valid_until, now, most=MAX_VALIDITY)
        active, _, nonce = self.registry.pledge_of(campaign_id, account)
        rules.check_pledge(
            campaign_id,
            account,
            status=history.status(now),
            deadline=history.terms.deadline,
            now=now,
            active=active,
            late_joining=history.terms.late_joining,
        )
        typed = protocol.pledge_typed_data(
            self.registry.chain_id, self.registry.address, campaign_id, sealed, nonce, valid_until
        )
        rules.check_signer(typed, signature, account, nonce)
        proof = bodies.membership_proof(body)
        group = history.terms.group
        rules.check_gate(campaign_id, group, proof_given=proof is not None)
        if proof is not None:
            self._check_membership(campaign_id, group, account, sealed, nonce, valid_until, proof)
        self._limit(f"campaign:{campaign_id}")
        if proof is None:
            fn = self.registry.contract.functions.pledgeWithSig(
                campaign_id, account, sealed.as_abi(), valid_until, signature
            )
        else:
            fn = self.registry.contract.functions.pledgeGatedWithSig(
                campaign_id, account, sealed.as_abi(), valid_until, signature, proof.abi()
            )
        with self.near.slot(history, self.index.head.block), self._claim(campaign_id, account):
            receipt = self._submit(fn)
            args = dict(decode_receipt(self.registry, receipt)).get("Pledged", {})
            if args:
                self.near.seen(campaign_id, int(receipt["blockNumber"]), int(args["active"]))
        return {
            "campaignId": campaign_id,
            "txHash": HexBytes(receipt["transactionHash"]).to_0x_hex(),
            "index": int(args.get("index", 0)),
            "active": int(args.get("active", history.active_count())),
        }

    def _check_membership(
        self,
        campaign_id: int,
        group: int,
        account: str,
        sealed: protocol.Sealed,
        nonce: int,
        valid_until: int,
        proof: Proof,
    ) -> None:
        """A gated pledge's proof, before any gas is spent: made for this campaign and this
        signed pledge, by a member holding no active pledge in it, and accepted by the groups
        contract (a call, not a transaction)."""
        deployment = self.registry.deployment
        rules.check_proof_binding(
            proof,
            scope=membership_scope(deployment, campaign_id),
            message=membership_message(
                deployment, campaign_id, account, sealed, nonce, valid_until
            ),
        )
        holder = self.registry.nullifier_holder(campaign_id, proof.nullifier)
        rules.check_nullifier_free(campaign_id, holder)
        try:
            self.registry.groups.verify_membership(group, proof.scope, proof.message, proof)
        except ContractRevert as exc:
            raise NotAMember(f"the membership proof is refused for group {group}: {exc}") from None

    def withdraw(self, body: dict[str, Any]) -> dict[str, Any]:
        # Withdrawals are relayed for hidden campaigns too: leaving must always be possible.
        campaign_id = bodies.uint(body, "campaignId", 256)
        account = bodies.address(body, "account")
        history = self._campaign(campaign_id)
        valid_until = bodies.uint(body, "validUntil", 64)
        signature = bodies.hex_bytes(body, "signature")
        rules.check_signature(signature)
        active, _, nonce = self.registry.pledge_of(campaign_id, account)
        now = self.registry.latest_timestamp()
        rules.check_valid_until(valid_until, now, most=MAX_VALIDITY)
        status = history.status(now)
        rules.check_withdraw(campaign_id, account, status=status, active=active)
        typed = protocol.withdraw_typed_data(
            self.registry.chain_id, self.registry.address, campaign_id, nonce, valid_until
        )
        rules.check_signer(typed, signature, account, nonce)
        # Not rate-limited: a burst of pledges (a Sybil push in the grace period) filling the
        # campaign's or the relayer's budget must not stop members from withdrawing, which
        # is how such a burst is undone. Withdrawals cannot be sent without limit anyway:
        # each needs an active pledge (checked above), one in flight per account.
        fn = self.registry.contract.functions.withdrawWithSig(
            campaign_id, account, valid_until, signature
        )
        with self._claim(campaign_id, account):
            receipt = self._submit(fn, leaving=True)
        withdrawn = dict(decode_receipt(self.registry, receipt)).get("Withdrawn")
        if withdrawn:
            self.near.seen(campaign_id, int(receipt["blockNumber"]), int(withdrawn["active"]))
        return {
            "campaignId": campaign_id,
            "txHash": HexBytes(receipt["transactionHash"]).to_0x_hex(),
            "active": int(withdrawn["active"]) if withdrawn else history.active_count(),
        }

    def check_create(self, body: dict[str, Any]) -> dict[str, Any]:
        """Everything about a new campaign that can be checked before any custodian is asked
        for a key (each key asked for is used up): the terms, the number of custodians the
        creator chose (``custodians``), and that the relayer could send it now."""
        terms = bodies.campaign_terms(body)
        custodians = bodies.uint(body, "custodians", 8)
        self._check_terms(terms, custodians, self.registry.latest_timestamp())
        self._node_up()
        self._funds()
        return {"ok": True}

    def _check_terms(self, terms: dict[str, Any], custodians: int, now: int) -> None:
        rules.check_custodians(custodians, terms["custodian_threshold"])
        rules.check_terms(
            title=terms["title"],
            description=terms["description"],
            plan=terms["plan"],
            threshold=terms["threshold"],
            deadline=terms["deadline"],
            now=now,
        )
        rules.check_deadline_ahead(terms["deadline"], now)  # the CLI's and the form's hour too

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        new = bodies.new_campaign(body)
        n, t = len(new.endorsements), new.custodian_threshold
        now = self.registry.latest_timestamp()
        self._check_terms(bodies.campaign_terms(body), n, now)
        rules.check_instructions(new.instructions, n, t)
        for number, endorsement in enumerate(new.endorsements, start=1):
            rules.check_endorsement(f"endorsement {number}", endorsement.expiry, now)
            rules.check_signature(endorsement.signature, f"the signature of endorsement {number}")
        self._limit("create")
        fn = self.registry.contract.functions.createCampaign(
            new.terms_abi(), new.instructions.as_abi(), [e.as_abi() for e in new.endorsements]
        )
        receipt = self._submit(fn)
        created = dict(decode_receipt(self.registry, receipt)).get("CampaignCreated")
        if created is None:
            raise RequestRefused("the campaign was mined but no CampaignCreated was seen", 502)
        campaign_id = int(created["campaignId"])
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

    def _claim(self, campaign_id: int, account: str) -> AbstractContextManager[None]:
        return self._submitter.claim(campaign_id, account)

    def _submit(self, fn: Any, *, leaving: bool = False) -> Any:
        """Send through the ``Submitter`` (see ``submit``) while the node is up and the
        funds allow. Only a withdrawal (``leaving``) may spend the reserve kept above the
        minimum."""
        self._node_up()
        self._funds(leaving)
        return self._submitter.submit(fn)

    def _funds(self, leaving: bool = False) -> None:
        balance = self.balance()
        if balance < self.min_balance:
            raise RequestRefused("the relayer is out of funds; try later or use a wallet", 503)
        if not leaving and balance < self.min_balance + self.withdraw_reserve:
            raise RequestRefused(
                "the relayer is low on funds and keeps what is left for withdrawals; "
                "try later or use a wallet",
                503,
            )
