"""The watcher loop: one pass over every campaign that lists this custodian, again and again.

A pass acts on the *confirmed* block: the block at the ``finalized`` (or ``safe``) tag, or
``latest - confirmations`` on a local chain, that a quorum of RPC sources agree on by number
and hash; each campaign's status and stored state are read there from those sources and
must agree too, and so must the roster before a release (``spartacus.chain.quorum``). A
pass whose block is not agreed, or whose clock jumps, does nothing but log why (``problem``)
and say so in ``/health`` and the saved state; a campaign whose facts are not agreed is left
alone that pass. The campaigns themselves are found from ``CustodianAssigned`` logs that the
quorum reports alike (``Quorum.assignments``): one source's forged assignment could point an
expired campaign at the key of an open one. Then each campaign whose key this custodian
holds gets its step (``campaign_step``: release, finalize, expire, destroy, or refuse).

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
from ..chain.checkpoint import Checkpoints
from ..chain.health import NODE_UNREACHABLE, is_connection_error
from ..chain.quorum import Confirmed, Quorum, check_clock
from ..chain.registry import Registry
from ..chain.sender import Sender
from ..exceptions import ChainError, SpartacusError, Unconfirmed
from .campaign_step import CampaignStep
from .inflight import InFlight
from .keystore import Keystore
from .log import emit, problem
from .mailer import RosterMailer
from .state import WatchState

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
        self.inflight = InFlight(self.sender, lambda: self.state, settings.receipt_timeout)
        self.step = CampaignStep(self)

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

    def sender(self) -> Sender:
        """The one sender of this custodian's transactions (releases, finalize, expire)."""
        return self.registry.sender(self.account)

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
                    self.step.handle(campaign_id, record, confirmed, confirmed_time, latest_time)
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
