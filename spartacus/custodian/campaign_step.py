"""One campaign in one watcher pass: release, finalize, expire, destroy its key, or refuse.

The watcher (``daemon``) finds the campaigns and agrees on the confirmed block with its
sources; this decides, for one of them, what the custodian does in that pass.

For each campaign whose key this custodian holds, at the watcher's confirmed block:

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
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..chain import rules
from ..chain.records import History, Status
from ..chain.sender import Signed
from ..exceptions import KeyNotForThisRegistry, SpartacusError
from .log import emit, problem
from .release_plan import plan_release
from .state import CampaignRecord, KeyDestroyed, PendingRelease

if TYPE_CHECKING:
    from .daemon import Watcher


class CampaignStep:
    """Does the watcher's work on one campaign at a time (``handle``)."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def handle(
        self,
        campaign_id: int,
        record: CampaignRecord,
        confirmed: int,
        confirmed_time: int,
        latest_time: int,
    ) -> None:
        registry = self.watcher.registry
        public = record.public_key
        if self._refused(campaign_id, record, public):
            return  # its key was issued for another registry: nothing is done with it here
        if not self._resolve_pending(campaign_id, record):
            return  # a release is still in the pool: wait for it
        if public not in set(self.watcher.keystore.campaign_keys()):
            # Not a key of ours (any registry may name any custodian) or already gone: no
            # transaction is sent for it, not even the courtesy expire().
            if not record.key_missing:
                record.key_missing = True
                problem(
                    "campaign key not held", campaign=campaign_id, campaign_key="0x" + public.hex()
                )
            return
        facts = self.watcher.quorum.campaign(campaign_id)  # at the confirmed block, agreed
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
                registry.finalize(self.watcher.account, campaign_id)
                record.finalize_sent.append(confirmed)
                emit("finalize_sent", campaign=campaign_id, grace_end=info.grace_end)
        elif status == Status.REVEALED:
            nothing_left = self._release(campaign_id, record, confirmed)
            self.watcher.mailer.mail(
                registry, campaign_id, record, public, info.custodian_threshold, confirmed
            )
            if not (
                nothing_left
                and record.pending is None
                and self.watcher.mailer.settled(campaign_id, record, info.custodian_threshold)
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
        if public not in set(self.watcher.keystore.campaign_keys()):
            return False  # not held: nothing to refuse, and "not held" is reported below
        registry = self.watcher.registry
        try:
            self.watcher.keystore.campaign_key_for(public, registry.chain_id, registry.address)
        except KeyNotForThisRegistry as exc:
            if record.refused != str(exc):
                problem("campaign key refused", campaign=campaign_id, reason=str(exc))
            record.refused = str(exc)
            return True
        record.refused = None
        return False

    def _releases_final(self, campaign_id: int, confirmed: int) -> bool:
        """This custodian released at least once and every release is mined at or before the
        confirmed block (a reorg above it could still undo one). Read from the checkpoint,
        whose block is checked against the chain again each pass (``Checkpoints.new_pass``)."""
        mine = [
            r.block_number
            for r in self._history(campaign_id).releases
            if r.custodian.lower() == self.watcher.account.address.lower()
        ]
        return bool(mine) and max(mine) <= confirmed

    def _release(self, campaign_id: int, record: CampaignRecord, confirmed: int) -> bool:
        """Plan and send this pass's release; True when nothing was left to send."""
        watcher = self.watcher
        registry, keystore, account, quorum = (
            watcher.registry,
            watcher.keystore,
            watcher.account,
            watcher.quorum,
        )
        # Planned from what the sources agree on at the confirmed block, which also moves the
        # checkpoint there; what this custodian released after it is read from the checkpoint
        # on: a pass reads the events since the last one, not the campaign from its creation.
        agreed, info = quorum.history(campaign_id), quorum.campaign(campaign_id).info
        plan = plan_release(
            registry, keystore, campaign_id, account,
            agreed=agreed, info=info, latest=self._history(campaign_id),
        )  # fmt: skip
        problems = {str(i): why for i, why in sorted(plan.problems.items())}
        for index, why in problems.items():
            if record.problems.get(index) != why:
                problem("pledge not released", campaign=campaign_id, pledge=int(index), reason=why)
        record.problems = problems

        def save(signed: Signed) -> None:
            record.pending = PendingRelease(signed.tx_hash, plan.round, signed.nonce)
            self.watcher.state.save()  # the hash is on disk before the transaction leaves

        sender = self.watcher.sender()
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
            if not self.watcher.inflight.wait(
                campaign_id, record, self.watcher.settings.receipt_timeout, signed.raw
            ):
                return False
        return not plan.parts

    def _history(self, campaign_id: int) -> History:
        """The campaign's history up to the latest block, read from the daemon's checkpoint on
        (``spartacus.chain.checkpoint``), so a pass costs the events since the last one."""
        checkpoints = self.watcher.quorum.checkpoints
        if checkpoints is None:
            return self.watcher.registry.history(campaign_id)
        return checkpoints.history(campaign_id, None, self.watcher.registry)

    def _resolve_pending(self, campaign_id: int, record: CampaignRecord) -> bool:
        """Settle a release saved as sent (``inflight``); True when none is in flight."""
        return self.watcher.inflight.resolve(campaign_id, record)

    def _expire(self, campaign_id: int) -> None:
        """Emit ``Expired`` on chain if nobody has yet (anyone may)."""
        if self._history(campaign_id).stored_status() == Status.EXPIRED:
            return
        self.watcher.registry.expire(self.watcher.account, campaign_id)
        emit("expire_sent", campaign=campaign_id)

    def _destroy(
        self, campaign_id: int, record: CampaignRecord, public: bytes, reason: str, block: int
    ) -> None:
        removed = self.watcher.keystore.destroy_campaign_key(public)
        record.key_destroyed = KeyDestroyed(reason, block, int(time.time()))
        self.watcher.state.save()
        emit(
            "key_destroyed",
            campaign=campaign_id,
            campaign_key="0x" + public.hex(),
            reason=reason,
            file_removed=removed,
        )
