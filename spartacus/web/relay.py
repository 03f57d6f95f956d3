"""The relayer: submits signed pledges, withdrawals and campaigns, paying the gas.

A request is read (``bodies``), then checked against the contract's rules
(``spartacus.chain.rules``) before any gas is spent: sizes, the campaign's status and
deadline, the account's active pledge, the EIP-712 signature against the nonce the registry
expects, and finally an ``eth_estimateGas`` that runs the very call. What fails is refused
with the registry's reason in words (its HTTP status from ``errors``); nothing doomed is mined.

Checked pledges and withdrawals are not sent at once: they join the mixer (``mixer``),
which holds them for a random delay, shuffles them and sends each batch in one transaction;
the request is answered once its item's outcome is known. Sending, and what its outcome
means for the page, is ``submit.Submitter``'s (through the chain's one sender). Rate limits
are per campaign and for everyone together. No request log is kept, and no client address
is read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes

from .. import protocol
from ..chain import rules
from ..chain.batches import GATED, PLEDGE, WITHDRAW, BatchKind
from ..chain.events import decode_receipt
from ..chain.registry import Registry
from ..chain.sender import Sender
from ..exceptions import ContractRevert, NotAMember, RequestRefused
from ..protocol.groups import membership_message, membership_scope
from ..ratelimit import RateLimiter
from ..semaphore import Proof
from . import bodies
from .i18n import N_
from .in_flight import Item, Mined
from .index import CampaignIndex
from .mixer import BATCH_MAX, Mixer
from .relay_queue import RelayQueue
from .slowdown import NearThreshold
from .submit import Submitter

# The furthest ahead a signed body's validUntil may lie: the clients' default validity
# (one hour) plus ten minutes for a clock ahead of the chain's. A relayer holds nothing that
# could be sent much later, and a page's receipt is spent once its validUntil has passed.
MAX_VALIDITY = protocol.SIGNATURE_VALIDITY + 600


def pledge_item(body: dict[str, Any]) -> tuple[int, str, tuple[Any, ...], int]:
    """A pledge request's campaign, account, ``pledgeWithSig`` arguments and validUntil."""
    campaign_id = bodies.uint(body, "campaignId", 256)
    account = bodies.address(body, "account")
    valid_until = bodies.uint(body, "validUntil", 64)
    signature = bodies.hex_bytes(body, "signature")
    args = (campaign_id, account, bodies.sealed(body).as_abi(), valid_until, signature)
    return campaign_id, account, args, valid_until


def gated_item(body: dict[str, Any]) -> tuple[int, str, tuple[Any, ...], int]:
    """A gated pledge request's campaign, account, ``pledgeGatedWithSig`` arguments (the
    membership proof last) and validUntil."""
    campaign_id, account, args, valid_until = pledge_item(body)
    proof = bodies.membership_proof(body)
    if proof is None:
        raise RequestRefused("a gated pledge carries a membership proof")
    return campaign_id, account, (*args, proof.abi()), valid_until


def withdraw_item(body: dict[str, Any]) -> tuple[int, str, tuple[Any, ...], int]:
    """A withdrawal request's campaign, account, ``withdrawWithSig`` arguments and
    validUntil."""
    campaign_id = bodies.uint(body, "campaignId", 256)
    account = bodies.address(body, "account")
    valid_until = bodies.uint(body, "validUntil", 64)
    signature = bodies.hex_bytes(body, "signature")
    return campaign_id, account, (campaign_id, account, valid_until, signature), valid_until


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
        queue: RelayQueue,
        mix_seconds: float,
        batch_max: int = BATCH_MAX,
        mix_seed: int | None = None,
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
        self.mixer = Mixer(
            registry,
            self._submitter,
            queue,
            {PLEDGE.name: pledge_item, GATED.name: gated_item, WITHDRAW.name: withdraw_item},
            window=mix_seconds,
            batch_max=batch_max,
            seed=mix_seed,
            funds=lambda leaving: self._funds(leaving),
            on_mined=self._mined,
        )

    def start(self) -> None:
        """Start mixing (what a previous run left queued goes first)."""
        self.mixer.start()

    @property
    def closed(self) -> bool:
        """Set when the app stops: the mixer stops (its queue kept for the next run), and
        nothing more is sent."""
        return self._submitter.closed

    @closed.setter
    def closed(self, value: bool) -> None:
        if value:
            self.mixer.stop()
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
        _, _, _, valid_until = pledge_item(body)
        item = self.mixer.join(campaign_id, account, body)  # the same request again
        if item is None:
            sealed = bodies.sealed(body)
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
                self.registry.chain_id, self.registry.address, campaign_id, sealed, nonce,
                valid_until,
            )  # fmt: skip
            rules.check_signer(typed, signature, account, nonce)
            proof = bodies.membership_proof(body)
            group = history.terms.group
            rules.check_gate(campaign_id, group, proof_given=proof is not None)
            if proof is not None:
                self._check_membership(
                    campaign_id, group, account, sealed, nonce, valid_until, proof
                )
            self.limit(f"campaign:{campaign_id}")
            self.node_up()
            self._funds()
            give_back = self.near.take(history, self.index.head.block)
            try:
                kind = PLEDGE if proof is None else GATED
                item = self.mixer.add(kind, body, on_settled=lambda _: give_back())
            except BaseException:
                give_back()
                raise
        mined = self.mixer.wait(item)
        return {
            "campaignId": campaign_id,
            "txHash": mined.tx_hash,
            "index": int(mined.event.get("index", 0)),
            "active": int(mined.event.get("active", 0)),
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
        _, _, _, valid_until = withdraw_item(body)
        item = self.mixer.join(campaign_id, account, body)
        if item is None:
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
            # Not rate-limited: a burst of pledges (a Sybil push in the grace period) filling
            # the campaign's or the relayer's budget must not stop members from withdrawing,
            # which is how such a burst is undone. Withdrawals cannot be sent without limit
            # anyway: each needs an active pledge (checked above), one in flight per account.
            self.node_up()
            self._funds(leaving=True)
            item = self.mixer.add(WITHDRAW, body)
        mined = self.mixer.wait(item)
        return {
            "campaignId": campaign_id,
            "txHash": mined.tx_hash,
            "active": int(mined.event.get("active", 0)),
        }

    def _mined(self, kind: BatchKind, item: Item, mined: Mined) -> None:
        """A relayed item was mined: its event's active count feeds the slow-down."""
        if "active" in mined.event:
            self.near.seen(item.campaign_id, mined.block, int(mined.event["active"]))

    def check_create(self, body: dict[str, Any]) -> dict[str, Any]:
        """Everything about a new campaign that can be checked before any custodian is asked
        for a key (each key asked for is used up): the terms, the number of custodians the
        creator chose (``custodians``), and that the relayer could send it now."""
        terms = bodies.campaign_terms(body)
        custodians = bodies.uint(body, "custodians", 8)
        self._check_terms(terms, custodians, self.registry.latest_timestamp())
        self.node_up()
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
        self.limit("create")
        fn = self.registry.contract.functions.createCampaign(
            new.terms_abi(), new.instructions.as_abi(), [e.as_abi() for e in new.endorsements]
        )
        receipt = self.submit(fn)
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
        self.node_up()
        return self.index.require(campaign_id)

    def node_up(self) -> None:
        """Refuse at once (503: nothing sent) while the poller's last read failed: a node
        that hangs rather than refusing would otherwise hold every relayed request, and
        the server thread serving it, for its full timeout on each of several calls."""
        if self.index.last_error is not None:
            raise RequestRefused(
                N_("the node cannot be reached right now; nothing was sent, try again in a moment"),
                503,
                5,
            )

    def limit(self, key: str, what: str = "campaign") -> None:
        wait = self._limiter.check(key)
        if wait:
            raise RequestRefused(
                f"the relayer is busy with this {what}; try again in {wait} s", 429, wait
            )

    def submit(self, fn: Any, *, sender: Sender | None = None) -> Any:
        """Send a new campaign (or, with this wallet's ``sender`` for the groups contract, an
        invitation redemption: ``group_relay``) through the ``Submitter`` while the node is up
        and the funds allow."""
        self.node_up()
        self._funds()
        return self._submitter.submit(fn, sender=sender)

    def _funds(self, leaving: bool = False) -> None:
        balance = self.balance()
        if balance < self.min_balance:
            raise RequestRefused(N_("the relayer is out of funds; try later or use a wallet"), 503)
        if not leaving and balance < self.min_balance + self.withdraw_reserve:
            raise RequestRefused(
                N_(
                    "the relayer is low on funds and keeps what is left for withdrawals; "
                    "try later or use a wallet"
                ),
                503,
            )
