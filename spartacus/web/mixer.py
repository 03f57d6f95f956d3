"""The relayer's mixer: relayed items wait a random time, then go on-chain shuffled, in batches.

Sent one by one at once, a relayed pledge lands seconds after its page was visited: whoever
sees the site's traffic (a network observer, a proxy's log) and the chain can pair them.
Here every item (a signed pledge or withdrawal, or any ``batches.BatchKind``) is first
written to the durable queue (``relay_queue``), then waits: when an item arrives to an
empty queue, the next batch is due after a random delay between half the window and the
window (``RELAY_MIX_SECONDS``), and whatever arrived meanwhile goes with it. The items are
shuffled (``secrets``), split by kind (withdrawals first, so leaving is never overtaken by
the pledges of the same round) and into batches of at most ``RELAY_BATCH_MAX``, and each
batch is one transaction through the registry's batch entry point.

Each batch is sent, and its items answered, by ``batch_sender``: every item is checked
again, alone, just before, and what the registry still refuses in the batch (an item
overtaken by another of the same batch) is answered 409 with the reason in words.

The requester's HTTP request is held until its item's outcome is known (``in_flight``): 200
with the transaction, 409 refused (nothing recorded), 503 nothing sent (the node, fees,
funds; the item is dropped), or 504 when no outcome came within the window plus the
receipt timeout: the item may still be sent, so the page keeps the receipt code. An
identical request (a retry after a broken connection) waits for the same item; another
request for the same (campaign, account) is refused while one is in flight.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from ..chain.batches import (
    KINDS,
    WITHDRAW,
    BatchKind,
)
from ..chain.registry import Registry
from ..chain.sender import RECEIPT_TIMEOUT
from ..exceptions import RequestRefused
from .batch_sender import BatchSender
from .i18n import N_
from .in_flight import InFlight, Item, Mined
from .relay_queue import RelayQueue
from .submit import CHECK_FIRST, Submitter

log = logging.getLogger(__name__)

# The window on a public network: see docs/web.md, "Mixing". On a local chain (``make
# up``, the tests) a short one keeps pages quick; RELAY_MIX_SECONDS overrides both.
DEFAULT_WINDOW = 120.0
LOCAL_WINDOW = 2.0
# Items per transaction: half the registry's MAX_BATCH, about 5 M gas of pledges.
BATCH_MAX = 50
# Seconds between attempts to learn the fate of a batch whose node went away.
RETRY = 5.0

Parser = Callable[[dict[str, Any]], tuple[int, str, tuple[Any, ...], int]]


class Mixer:
    """Collects, shuffles and batches one relayer's items, on one thread of its own."""

    def __init__(
        self,
        registry: Registry,
        submitter: Submitter,
        queue: RelayQueue,
        parsers: dict[str, Parser],
        *,
        window: float,
        batch_max: int = BATCH_MAX,
        seed: int | None = None,
        funds: Callable[[bool], None] = lambda leaving: None,
        on_mined: Callable[[BatchKind, Item, Mined], None] = lambda kind, item, mined: None,
    ) -> None:
        self.queue = queue
        self.parsers = parsers
        self.window = max(0.0, window)
        self.batch_max = max(1, min(batch_max, 100))
        # A seed makes the delays and the order predictable: tests only (never from env).
        self.rng: random.Random = secrets.SystemRandom() if seed is None else random.Random(seed)
        self.in_flight = InFlight()
        self._cond = self.in_flight.cond  # one lock: the mixer wakes when an item is added
        self._queued: list[Item] = []
        self._due: float | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.sender = BatchSender(
            registry,
            submitter,
            queue,
            self.in_flight,
            funds=funds,
            on_mined=on_mined,
            requeue=self._requeue,
            stopping=lambda: self._stopping,
        )

    @property
    def batches_sent(self) -> int:
        """Transactions sent (for /api/health and the tests)."""
        return self.sender.batches_sent

    @property
    def hold(self) -> float:
        """Seconds a request is held for its item's outcome before a 504."""
        return self.window + RECEIPT_TIMEOUT + 30

    # ------------------------------------------------------------ life

    def start(self) -> None:
        """Reload what a previous run left in the queue, then start mixing."""
        with self._cond:
            if self._thread is not None:
                return
            for stored in self.queue.items():
                try:
                    item = self._item(KINDS[stored.kind], stored.id, stored.body)
                except Exception:  # noqa: BLE001 - a row this version cannot read: dropped
                    log.warning("relay queue: dropping unreadable item %s", stored.id)
                    self.queue.remove([stored.id])
                    continue
                self.in_flight.register(item)
                if stored.batch is None:
                    self._enqueue(item)
            self._thread = threading.Thread(target=self._run, name="relay-mixer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the current step. What is queued stays in the file for the next run;
        requests still held are told so (504: it may yet be sent)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        restarting = RequestRefused(
            "the relayer is restarting; your request is kept and will be sent when it is "
            f"back: {CHECK_FIRST}",
            504,
        )
        self.in_flight.tell_all(restarting)

    # ------------------------------------------------------------ requests

    def join(self, campaign_id: int, account: str, body: dict[str, Any]) -> Item | None:
        """The item in flight for (campaign, account), to be waited for, if ``body`` is the
        very request it was made from (a retry); else None: the request is checked as new,
        and ``add`` refuses it (409) while another for the account is in flight."""
        with self._cond:
            return None if self._stopping else self.in_flight.join(campaign_id, account, body)

    def add(
        self,
        kind: BatchKind,
        body: dict[str, Any],
        on_settled: Callable[[Item], None] | None = None,
    ) -> Item:
        """Queue a checked request (written to the file first); the caller then ``wait``s."""
        with self._cond:
            if self._stopping:
                raise RequestRefused(N_("the relayer is restarting; try again in a moment"), 503, 1)
            item = self._item(kind, 0, body)
            self.in_flight.check_free(item)
            item.id = self.queue.add(kind.name, body)
            item.waiting = 1
            if on_settled is not None:
                item.on_settled.append(on_settled)
            self.in_flight.register(item)
            self._enqueue(item)
            return item

    def wait(self, item: Item) -> Mined:
        """Hold the request until ``item`` is settled (``InFlight.wait``)."""
        return self.in_flight.wait(item, self.hold)

    def queued(self) -> int:
        """Items in flight: waiting, or in a batch not yet settled."""
        return len(self.in_flight)

    def _item(self, kind: BatchKind, item_id: int, body: dict[str, Any]) -> Item:
        campaign_id, account, args, valid_until = self.parsers[kind.name](body)
        return Item(item_id, kind, campaign_id, account, body, args, valid_until)

    def _enqueue(self, item: Item, delay: float | None = None) -> None:
        """(Under the lock.) The next batch is due a random delay after the first item."""
        self._queued.append(item)
        now = time.monotonic()
        if delay is not None:
            self._due = min(self._due or now + delay, now + delay)
        elif self._due is None:
            self._due = now + self.rng.uniform(self.window / 2, self.window)
        if len(self._queued) >= self.batch_max:
            self._due = now
        self._cond.notify_all()

    def _requeue(self, items: list[Item], later: bool) -> None:
        """Items the sender gives back: sent again in the next batch, or (``later``, after a
        failed attempt nobody waits for) not before a window has passed."""
        with self._cond:
            for item in items:
                self._enqueue(item, delay=max(self.window, RETRY) if later else None)

    # ------------------------------------------------------------ the mixing thread

    def _run(self) -> None:
        retry_at = 0.0 if self.queue.batches() else None
        while True:
            with self._cond:
                while not self._stopping:
                    now = time.monotonic()
                    wake = [t for t in (self._due, retry_at) if t is not None]
                    if wake and min(wake) <= now:
                        break
                    self._cond.wait(min(wake) - now if wake else None)
                if self._stopping:
                    return
            try:
                if not self.sender.resolve_all():
                    retry_at = time.monotonic() + RETRY
                    continue
                self._round()
                # A batch sent but not known mined (its node went away) is looked up again.
                retry_at = time.monotonic() + RETRY if self.queue.batches() else None
            except Exception:  # noqa: BLE001 - the thread must outlive any one failure
                log.exception("relay mixer: round failed; trying again")
                retry_at = time.monotonic() + RETRY

    def _round(self) -> None:
        with self._cond:
            items, self._queued, self._due = self._queued, [], None
        self.rng.shuffle(items)
        for kind in (WITHDRAW, *(k for k in KINDS.values() if k is not WITHDRAW)):
            group = [item for item in items if item.kind is kind]
            for start in range(0, len(group), self.batch_max):
                if self._stopping:  # the rest waits in the file for the next run
                    return
                self.sender.send(kind, group[start : start + self.batch_max])
