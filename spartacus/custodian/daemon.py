"""The watcher loop: one pass over every campaign that lists this custodian, again and again.

A pass reads the chain at ``latest - confirmations`` (the *confirmed* block) and, for each
campaign whose key this custodian holds:

- revealed at the confirmed block: plan and send what it has not released yet (later
  rounds for late pledges come from ``plan_release``); once the confirmed block lies past
  the deadline and nothing is left to send, destroy the campaign key;
- pending with its grace over: call ``finalize`` (anyone may);
- expired (or open past its deadline): call ``expire`` if nobody has, and destroy the key.

Roster mail (``--smtp``): once a revealed campaign's release is mined, ``RosterMailer``
(``mailer.py``) mails the roster to its e-mail members where the creator asked for it and
this custodian alone can read it (custodian threshold 1).

A release transaction is signed and its hash saved before it is sent (the ``before_send``
hook of ``spartacus.chain.sender``, which also sends the same bytes again if the node loses
them while this pass waits). On the next pass (or after a restart) a saved hash is checked
first: mined means done, still in the pool means wait, unknown to the node means dropped,
and the release is planned again from the logs. Failing passes are retried with capped
exponential back-off; the loop never exits on an error unless ``--once`` runs out of
attempts.
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
from ..chain.events import custodian_assignments
from ..chain.health import NODE_UNREACHABLE, is_connection_error
from ..chain.records import Status
from ..chain.registry import Registry, status_at
from ..chain.sender import Sender, Signed
from ..exceptions import ChainError, SpartacusError, TransactionDropped
from .keystore import Keystore
from .log import emit, problem
from .mailer import RosterMailer
from .release_plan import plan_release
from .state import CampaignRecord, KeyDestroyed, MinedRelease, PendingRelease, WatchState

RESCAN_BLOCKS = 64  # campaigns are searched again this far back, in case of a reorg


@dataclass
class WatchSettings:
    confirmations: int = 0
    poll: float = 5.0
    max_backoff: float = 60.0
    once_attempts: int = 5
    receipt_timeout: float = 60.0
    smtp: mail.Server | None = None  # None: never mail
    mail_from: str = mail.DEFAULT_MAIL_FROM


class Watcher:
    """Does the custodian's job for one registry; ``run`` loops, ``run_pass`` does one pass."""

    def __init__(
        self,
        home: Path,
        keystore: Keystore,
        account: LocalAccount,
        registry_factory: Callable[[], Registry],
        settings: WatchSettings,
    ) -> None:
        self.home = home
        self.keystore = keystore
        self.account = account
        self.settings = settings
        self._registry_factory = registry_factory
        self._registry: Registry | None = None
        self._state: WatchState | None = None
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.started = time.time()
        self.last_pass: float | None = None
        self.failures = 0
        self.last_error: str | None = None
        self.public_error: str | None = None
        self.mailer = RosterMailer(home, keystore, settings.smtp, settings.mail_from)

    # ------------------------------------------------------------ loop

    @property
    def registry(self) -> Registry:
        with self._lock:  # the HTTP thread may ask first
            if self._registry is None:
                self._registry = self._registry_factory()
            return self._registry

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
                emit(
                    event,
                    logging.WARNING,
                    problem="pass failed",
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

    def health(self) -> dict[str, Any]:
        """For ``GET /health``: ok while the last pass succeeded."""
        return {
            "ok": self.failures < 3
            and (self.last_pass is not None or time.time() - self.started < 60),
            "custodian": self.account.address,
            "lastPass": int(self.last_pass) if self.last_pass else None,
            "failures": self.failures,
            "lastError": self.public_error if self.failures else None,
        }

    def run_pass(self) -> None:
        registry = self.registry
        state = self.state
        w3 = registry.w3
        latest = int(w3.eth.block_number)
        confirmed = latest - self.settings.confirmations
        if confirmed < registry.from_block:
            return
        confirmed_time = int(w3.eth.get_block(confirmed)["timestamp"])
        latest_time = int(w3.eth.get_block(latest)["timestamp"])

        start = max(registry.from_block, min(state.scanned_to, confirmed) + 1 - RESCAN_BLOCKS)
        found = custodian_assignments(
            registry, self.account.address, from_block=start, to_block=confirmed
        )
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
                except SpartacusError as exc:
                    if isinstance(exc, ChainError) and is_connection_error(exc.__cause__):
                        raise
                    problem("campaign step failed", campaign=campaign_id, error=str(exc)[:500])
        finally:
            state.save()  # sends, receipts and destroyed keys were saved as they happened
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
        if not self._resolve_pending(campaign_id, record):
            return  # a release is still in the pool: wait for it
        status = status_at(registry, campaign_id, confirmed)
        record.status = status.label
        record.last_block = confirmed
        if status == Status.EXPIRED:
            self._destroy(campaign_id, record, public, "campaign expired", confirmed)
            try:
                self._expire(campaign_id)
            except SpartacusError as exc:  # a courtesy to everyone; the key is gone already
                problem("expire failed", campaign=campaign_id, error=str(exc)[:500])
            return
        held = public in set(self.keystore.campaign_keys())
        if not held:
            if not record.key_missing:
                record.key_missing = True
                problem(
                    "campaign key not held", campaign=campaign_id, campaign_key="0x" + public.hex()
                )
            return
        info = registry.info(campaign_id)
        if status == Status.PENDING and latest_time >= info.grace_end:
            if registry.status_of(campaign_id) == Status.PENDING:
                registry.finalize(self.account, campaign_id)
                record.finalize_sent.append(confirmed)
                emit("finalize_sent", campaign=campaign_id, grace_end=info.grace_end)
        elif status == Status.REVEALED:
            self._release(campaign_id, record, confirmed)
            self.mailer.mail(
                registry, campaign_id, record, public, info.custodian_threshold, confirmed
            )
            if confirmed_time > info.deadline and record.pending is None:
                self._destroy(
                    campaign_id, record, public, "deadline passed after the reveal", confirmed
                )

    def _release(self, campaign_id: int, record: CampaignRecord, confirmed: int) -> None:
        registry = self.registry
        plan = plan_release(
            registry, self.keystore, campaign_id, self.account, confirmed_block=confirmed
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
            emit(
                "release_sent",
                campaign=campaign_id,
                round=plan.round,
                part=number,
                parts=len(plan.parts),
                tx=signed.tx_hash,
            )
            if not self._wait(campaign_id, record, self.settings.receipt_timeout, signed.raw):
                return

    def _resolve_pending(self, campaign_id: int, record: CampaignRecord) -> bool:
        """Settle a release saved as sent; True when nothing is in flight any more."""
        pending = record.pending
        if pending is None:
            return True
        sender = self._sender()
        if not sender.known(pending.tx):
            receipt = sender.receipt(pending.tx)
            if receipt is None:
                emit("release_dropped", campaign=campaign_id, tx=pending.tx)
                record.pending = None
                return True
            self._mined(campaign_id, record, receipt)
            return True
        return self._wait(campaign_id, record, min(self.settings.receipt_timeout, 5.0))

    def _wait(
        self, campaign_id: int, record: CampaignRecord, timeout: float, raw: bytes | None = None
    ) -> bool:
        """Wait for the pending release; True once mined. With its signed bytes (``raw``,
        not kept on disk), a node that lost it is sent them again."""
        assert record.pending is not None
        tx = record.pending.tx
        try:
            receipt = self._sender().wait(tx, timeout, raw=raw)
        except TransactionDropped:
            return False  # its nonce went to another: the next pass finds it dropped
        if receipt is None:
            emit("release_pending", campaign=campaign_id, tx=tx)
            return False
        self._mined(campaign_id, record, receipt)
        return True

    def _sender(self) -> Sender:
        return self.registry.sender(self.account)

    def _mined(self, campaign_id: int, record: CampaignRecord, receipt: Any) -> None:
        pending = record.pending
        assert pending is not None
        record.pending = None
        if receipt["status"] != 1:
            problem("release reverted", campaign=campaign_id, tx=pending.tx)
        else:
            block = int(receipt["blockNumber"])
            record.releases.append(MinedRelease(pending.round, pending.tx, block))
            emit(
                "release_mined",
                campaign=campaign_id,
                round=pending.round,
                tx=pending.tx,
                block=block,
            )
        self.state.save()

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
            if (
                key.registry.lower() != registry.address.lower()
                or key.chain_id != registry.chain_id
                or key.expiry >= confirmed_time
            ):
                continue
            self.keystore.destroy_campaign_key(public)
            self.state.unused_keys_destroyed.append("0x" + public.hex())
            self.state.save()
            emit(
                "key_destroyed",
                campaign_key="0x" + public.hex(),
                reason="endorsement expired unused",
            )
