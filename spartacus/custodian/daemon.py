"""The watcher loop: one pass over every campaign that lists this custodian, again and again.

A pass acts on the *confirmed* block: the block at the ``finalized`` (or ``safe``) tag, or
``latest - confirmations`` on a local chain, that a quorum of RPC sources agree on by number
and hash; each campaign's status and stored state are read there from those sources and
must agree too, and so must the roster before a release (``spartacus.chain.quorum``). A
pass whose block is not agreed, or whose clock jumps, does nothing but log why (``problem``)
and say so in ``/health`` and the saved state; a campaign whose facts are not agreed is left
alone that pass. The campaigns themselves are found from ``CustodianAssigned`` logs that the
quorum reports alike (``Quorum.assignments``): one source's forged assignment could point an
expired campaign at the key of an open one. Then, for each campaign whose key this custodian
holds:

- revealed at the confirmed block: plan and send what it has not released yet (later
  rounds for admitted late pledges come from ``plan_release``); destroy the campaign key as
  soon as no further release can be due: once its releases are final (mined at or before
  the confirmed block, nothing left to send, the roster mailed where asked) and, for a
  campaign taking late pledges, the admission window (deadline + ADMIT_WINDOW) has closed
  at the confirmed block;
- pending with its grace over: call ``finalize`` (anyone may);
- expired (or open past its deadline): call ``expire`` if nobody has, and destroy the key;
- its key issued for another chain or registry (a copycat): nothing at all, one problem line;
- a key not held here (any contract may name any custodian): no transaction, one problem line.

Roster mail (``--smtp``): once a revealed campaign's release is mined, ``RosterMailer``
(``mailer.py``) mails the roster to its e-mail members where the creator asked for it and
this custodian alone can read it (custodian threshold 1).

A release transaction is signed and its hash saved before it is sent (the ``before_send``
hook of ``spartacus.chain.sender``, which also sends the same bytes again if the node loses
them while this pass waits). On the next pass (or after a restart) a saved hash is checked
first (``inflight.py``): mined means done, still in the pool means wait, unknown to the
node means dropped, and the release is planned again from the logs. Failing passes are
retried with capped exponential back-off; the loop never exits on an error unless
``--once`` runs out of attempts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from .. import mail
from ..chain import rules
from ..chain.checkpoint import Checkpoints
from ..chain.health import NODE_UNREACHABLE, is_connection_error
from ..chain.quorum import Confirmed, Quorum, check_clock
from ..chain.records import Status
from ..chain.registry import Registry
from ..chain.sender import Sender, Signed
from ..exceptions import ChainError, KeyNotForThisRegistry, SpartacusError, Unconfirmed
from .inflight import InFlight
from .keystore import Keystore
from .log import emit, problem
from .mailer import RosterMailer
from .release_plan import plan_release
from .state import CampaignRecord, KeyDestroyed, PendingRelease, WatchState

RESCAN_BLOCKS = 64  # campaigns are searched again this far back, in case of a reorg
CHECKPOINTS = "checkpoints.json"  # in <home>/watcher: the logs agreed at the confirmed block


@dataclass
class WatchSettings:
    poll: float = 5.0
    max_backoff: float = 60.0
    once_attempts: int = 5
    receipt_timeout: float = 60.0
    smtp: mail.Server | None = None  # None: never mail
    mail_from: str = mail.DEFAULT_MAIL_FROM
    clock_margin: float | None = None  # seconds the confirmed block may be ahead; None: any


class Watcher:
    """Does the custodian's job for one registry; ``run`` loops, ``run_pass`` does one pass."""

    def __init__(
        self,
        home: Path,
        keystore: Keystore,
        account: LocalAccount,
        quorum_factory: Callable[[], Quorum],
        settings: WatchSettings,
    ) -> None:
        self.home = home
        self.keystore = keystore
        self.account = account
        self.settings = settings
        self._quorum_factory = quorum_factory
        self._quorum: Quorum | None = None
        self._state: WatchState | None = None
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.started = time.time()
        self.last_pass: float | None = None
        self.failures = 0
        self.last_error: str | None = None
        self.public_error: str | None = None
        self.held: str | None = None  # why the last pass did nothing (for /health)
        self.report: dict[str, Any] = {}  # the sources, the block agreed, campaigns held
        self.disputed: set[int] = set()  # campaigns whose assignment the sources dispute
        self.mailer = RosterMailer(  # mails only members the sources agree on
            home, keystore, settings.smtp, settings.mail_from, lambda c: self.quorum.history(c)
        )
        self.inflight = InFlight(self._sender, lambda: self.state, settings.receipt_timeout)

    # ------------------------------------------------------------ loop

    @property
    def quorum(self) -> Quorum:
        with self._lock:  # the HTTP thread may ask first
            if self._quorum is None:
                self._quorum = self._quorum_factory()
                self._quorum.checkpoints = Checkpoints(
                    self._quorum.primary, self.home / "watcher" / CHECKPOINTS
                )
            return self._quorum

    @property
    def registry(self) -> Registry:
        """The primary source's registry: it sends the transactions."""
        return self.quorum.primary

    @property
    def state(self) -> WatchState:
        if self._state is None:
            registry = self.registry
            path = WatchState.file(self.home)
            self._state = WatchState(path, registry.chain_id, registry.address)
        return self._state

    def run(self, once: bool = False) -> bool:
        """Loop until stopped (or one successful pass with ``once``); False if ``once`` failed."""
        failures = 0
        while not self.stopping.is_set():
            try:
                self.run_pass()
            except Exception as exc:  # noqa: BLE001 - the daemon must outlive any one failure
                failures += 1
                self.failures = failures
                self.last_error = f"{type(exc).__name__}: {exc}"[:500]  # for the log
                unreachable = is_connection_error(exc)
                self.public_error = NODE_UNREACHABLE if unreachable else self.last_error
                delay = min(self.settings.max_backoff, self.settings.poll * 2 ** (failures - 1))
                event = "rpc_unavailable" if unreachable else "problem"
                held = isinstance(exc, Unconfirmed)  # sources disagree, too few, clock jump
                if held:
                    self._hold(str(exc))
                emit(
                    event,
                    logging.WARNING,
                    problem="no action this pass" if held else "pass failed",
                    error=self.last_error,
                    failures=failures,
                    retry_in=round(delay, 2),
                )
                if once and failures >= self.settings.once_attempts:
                    return False
                self.stopping.wait(delay)
                continue
            if failures:
                emit("rpc_recovered", after_failures=failures)
            failures = self.failures = 0
            self.last_pass = time.time()
            if once:
                return True
            self.stopping.wait(self.settings.poll)
        return True

    def _hold(self, reason: str) -> None:
        """A pass that does nothing: why goes to ``/health`` and the saved state."""
        self.held = reason
        state = self.state
        since = state.held["since"] if state.held else int(time.time())
        state.held = {"reason": reason, "since": since}
        state.save()

    def run_pass(self) -> None:
        self.held = None
        quorum = self.quorum
        registry = quorum.primary
        state = self.state
        block = quorum.confirm()  # Unconfirmed unless the sources agree on it
        if block is None:
            return  # the registry is younger than the confirmed block
        previous = Confirmed.from_json(self.report["confirmed"]) if self.report else None
        check_clock(block, previous, time.time(), self.settings.clock_margin)
        state.confirmed, state.held = block.to_json(), None
        confirmed, confirmed_time = block.number, block.timestamp
        latest_time = registry.latest_timestamp()

        start = max(registry.from_block, min(state.scanned_to, confirmed) + 1 - RESCAN_BLOCKS)
        found, disputed = quorum.assignments(self.account.address, from_block=start)
        for campaign_id in sorted(disputed - self.disputed):  # once, not every pass
            problem("sources disagree on the campaign's custodian key", campaign=campaign_id)
        self.disputed = disputed
        for assignment in found:
            record, created = state.campaign(
                assignment.campaign_id, assignment.index, assignment.campaign_key
            )
            if created:
                emit(
                    "campaign_found",
                    campaign=assignment.campaign_id,
                    custodian_index=assignment.index,
                    campaign_key=record.campaign_key,
                    block=assignment.block_number,
                )
        state.scanned_to = confirmed

        try:
            for campaign_id, record in list(state.campaigns.items()):
                if record.key_destroyed or self.stopping.is_set():
                    continue
                try:
                    self._handle(campaign_id, record, confirmed, confirmed_time, latest_time)
                    record.held = None
                except Unconfirmed as exc:  # nothing done for it this pass
                    if record.held != str(exc):
                        problem("no action for the campaign", campaign=campaign_id, reason=str(exc))
                    record.held = str(exc)
                except SpartacusError as exc:
                    if isinstance(exc, ChainError) and is_connection_error(exc.__cause__):
                        raise
                    problem("campaign step failed", campaign=campaign_id, error=str(exc)[:500])
        finally:
            state.save()  # sends, receipts and destroyed keys were saved as they happened
            if quorum.checkpoints is not None:
                quorum.checkpoints.save()  # the logs agreed up to the confirmed block
        held = {str(c): r.held for c, r in state.campaigns.items() if r.held}
        self.report = {**quorum.describe(), "confirmed": block.to_json(), "campaignsHeld": held}
        self._sweep_unused_keys(confirmed_time)

    # ------------------------------------------------------------ one campaign

    def _handle(
        self,
        campaign_id: int,
        record: CampaignRecord,
        confirmed: int,
        confirmed_time: int,
        latest_time: int,
    ) -> None:
        registry = self.registry
        public = record.public_key
        if self._refused(campaign_id, record, public):
            return  # its key was issued for another registry: nothing is done with it here
        if not self._resolve_pending(campaign_id, record):
            return  # a release is still in the pool: wait for it
        if public not in set(self.keystore.campaign_keys()):
            # Not a key of ours (any registry may name any custodian) or already gone: no
            # transaction is sent for it, not even the courtesy expire().
            if not record.key_missing:
                record.key_missing = True
                problem(
                    "campaign key not held", campaign=campaign_id, campaign_key="0x" + public.hex()
                )
            return
        facts = self.quorum.campaign(campaign_id)  # at the confirmed block, agreed
        status = facts.status
        record.status = status.label
        record.last_block = confirmed
        if status == Status.EXPIRED:
            self._destroy(campaign_id, record, public, "campaign expired", confirmed)
            try:
                self._expire(campaign_id)
            except SpartacusError as exc:  # a courtesy to everyone; the key is gone already
                problem("expire failed", campaign=campaign_id, error=str(exc)[:500])
            return
        info = facts.info
        if status == Status.PENDING and latest_time >= info.grace_end:
            if registry.status_of(campaign_id) == Status.PENDING:
                registry.finalize(self.account, campaign_id)
                record.finalize_sent.append(confirmed)
                emit("finalize_sent", campaign=campaign_id, grace_end=info.grace_end)
        elif status == Status.REVEALED:
            nothing_left = self._release(campaign_id, record, confirmed)
            self.mailer.mail(
                registry, campaign_id, record, public, info.custodian_threshold, confirmed
            )
            if not (
                nothing_left
                and record.pending is None
                and self.mailer.settled(campaign_id, record, info.custodian_threshold)
                and self._releases_final(campaign_id, confirmed)
            ):
                return
            if not info.late_joining:
                self._destroy(campaign_id, record, public, "release final", confirmed)
            elif confirmed_time > info.deadline + rules.limits().admit_window:
                reason = "release final and the admission window closed"
                self._destroy(campaign_id, record, public, reason, confirmed)

    def _refused(self, campaign_id: int, record: CampaignRecord, public: bytes) -> bool:
        """True if this campaign names a key held here but issued for another chain or
        registry (a copycat replaying a real campaign): it is never used here, for a release,
        a mail, a finalize or an expire, and never destroyed, as it still serves its own."""
        if public not in set(self.keystore.campaign_keys()):
            return False  # not held: nothing to refuse, and "not held" is reported below
        registry = self.registry
        try:
            self.keystore.campaign_key_for(public, registry.chain_id, registry.address)
        except KeyNotForThisRegistry as exc:
            if record.refused != str(exc):
                problem("campaign key refused", campaign=campaign_id, reason=str(exc))
            record.refused = str(exc)
            return True
        record.refused = None
        return False

    def _releases_final(self, campaign_id: int, confirmed: int) -> bool:
        """This custodian released at least once and every release is mined at or before the
        confirmed block (a reorg above it could still undo one)."""
        mine = [
            r.block_number
            for r in self.registry.history(campaign_id).releases
            if r.custodian.lower() == self.account.address.lower()
        ]
        return bool(mine) and max(mine) <= confirmed

    def _release(self, campaign_id: int, record: CampaignRecord, confirmed: int) -> bool:
        """Plan and send this pass's release; True when nothing was left to send."""
        registry = self.registry
        plan = plan_release(
            registry, self.keystore, campaign_id, self.account, confirmed_block=confirmed
        )
        if plan.parts and self.quorum.size > 1:  # plan again from what the sources agree on
            agreed, info = self.quorum.history(campaign_id), self.quorum.campaign(campaign_id).info
            plan = plan_release(
                registry, self.keystore, campaign_id, self.account, agreed=agreed, info=info
            )
        problems = {str(i): why for i, why in sorted(plan.problems.items())}
        for index, why in problems.items():
            if record.problems.get(index) != why:
                problem("pledge not released", campaign=campaign_id, pledge=int(index), reason=why)
        record.problems = problems

        def save(signed: Signed) -> None:
            record.pending = PendingRelease(signed.tx_hash, plan.round, signed.nonce)
            self.state.save()  # the hash is on disk before the transaction leaves

        sender = self._sender()
        for number, part in enumerate(plan.parts, start=1):
            fn = registry.contract.functions.release(campaign_id, part)
            signed = sender.send(fn, before_send=save)
            cost = sender.last_cost  # the most it may cost, L1 data fee included (chain.fees)
            emit(
                "release_sent",
                campaign=campaign_id,
                round=plan.round,
                part=number,
                parts=len(plan.parts),
                tx=signed.tx_hash,
                max_cost_wei=cost.total if cost else None,
                l1_fee_wei=cost.l1_fee if cost else None,
            )
            if not self.inflight.wait(
                campaign_id, record, self.settings.receipt_timeout, signed.raw
            ):
                return False
        return not plan.parts

    def _resolve_pending(self, campaign_id: int, record: CampaignRecord) -> bool:
        """Settle a release saved as sent (``inflight``); True when none is in flight."""
        return self.inflight.resolve(campaign_id, record)

    def _sender(self) -> Sender:
        return self.registry.sender(self.account)

    def _expire(self, campaign_id: int) -> None:
        """Emit ``Expired`` on chain if nobody has yet (anyone may)."""
        if self.registry.history(campaign_id).stored_status() == Status.EXPIRED:
            return
        self.registry.expire(self.account, campaign_id)
        emit("expire_sent", campaign=campaign_id)

    def _destroy(
        self, campaign_id: int, record: CampaignRecord, public: bytes, reason: str, block: int
    ) -> None:
        removed = self.keystore.destroy_campaign_key(public)
        record.key_destroyed = KeyDestroyed(reason, block, int(time.time()))
        self.state.save()
        emit(
            "key_destroyed",
            campaign=campaign_id,
            campaign_key="0x" + public.hex(),
            reason=reason,
            file_removed=removed,
        )

    # ------------------------------------------------------------ unused keys

    def _sweep_unused_keys(self, confirmed_time: int) -> None:
        """Delete keys issued for this registry that no campaign used before they expired."""
        registry = self.registry
        used = {r.campaign_key[2:] for r in self.state.campaigns.values()}
        for public in self.keystore.campaign_keys():
            if public.hex() in used:
                continue
            key = self.keystore.campaign_key(public)
            if not key.serves(registry.chain_id, registry.address) or key.expiry >= confirmed_time:
                continue
            self.keystore.destroy_campaign_key(public)
            self.state.unused_keys_destroyed.append("0x" + public.hex())
            self.state.save()
            emit(
                "key_destroyed",
                campaign_key="0x" + public.hex(),
                reason="endorsement expired unused",
            )
