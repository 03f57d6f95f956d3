"""The relayer's slow-down near a campaign's threshold (issue #12, "the free Sybil reveal").

Relayed pledges are free for whoever sends them, so without this an employer could push a
campaign from fresh accounts over N within a second and read every real member. Once a
campaign's active count is within the last ``fraction`` of N, this relayer takes at most
``per_hour`` pledges an hour for it; pledges sent with a wallet cost their sender gas and
are not its concern, and withdrawals are never slowed.

The count must not be the web index's alone: the index follows the chain a poll behind,
and requests checked at the same moment all see the same count. So the count used is the
newest of the index's and the relayer's own receipts' (a ``Pledged`` or ``Withdrawn``
event carries the active count after it), plus every pledge of this relayer still on its
way (waiting in the mixer or sent); the check and the claim of a slot happen under one
lock. A restart forgets the budget and the receipts (the index then has them within a
poll).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..chain.records import History
from ..exceptions import RequestRefused
from ..ratelimit import RateLimiter

HOUR = 3600.0


class NearThreshold:
    def __init__(self, fraction: float, per_hour: int) -> None:
        self.fraction = fraction
        self.per_hour = per_hour
        self._budget = RateLimiter(per_hour, 2**31, window=HOUR)
        self._lock = threading.Lock()
        self._on_the_way: dict[int, int] = {}  # campaign -> pledges sent, not yet mined
        self._seen: dict[int, tuple[int, int]] = {}  # campaign -> (block, active) of ours

    def start(self, threshold: int) -> int | None:
        """The active count from which a campaign of ``threshold`` is relayed slowly
        (None: never, the slow-down is off)."""
        if self.fraction <= 0:
            return None
        return max(0, threshold - math.ceil(threshold * self.fraction))

    def seen(self, campaign_id: int, block: int, active: int) -> None:
        """A receipt of this relayer's: the campaign's active count after ``block``."""
        with self._lock:
            if block >= self._seen.get(campaign_id, (-1, 0))[0]:
                self._seen[campaign_id] = (block, active)

    @contextmanager
    def slot(self, history: History, index_block: int) -> Iterator[None]:
        """``take`` as a context: the place is given back when the block ends."""
        give_back = self.take(history, index_block)
        try:
            yield
        finally:
            give_back()

    def take(self, history: History, index_block: int) -> Callable[[], None]:
        """Hold a place for one pledge to ``history``'s campaign while it waits in the
        mixer and is sent; refused (429) when the campaign is near its threshold and the
        hour's budget is spent. Returns the function that gives the place back (once)."""
        assert history.terms is not None
        campaign, threshold = history.campaign_id, history.terms.threshold
        start = self.start(threshold)
        with self._lock:
            block, active = self._seen.get(campaign, (-1, 0))
            count = history.active_count() if index_block >= block else active
            count += self._on_the_way.get(campaign, 0)
            if start is not None and count >= start:
                wait = self._budget.check(f"campaign:{campaign}")
                if wait:
                    raise RequestRefused(
                        f"campaign {campaign} is close to its threshold of {threshold}: so "
                        "that a burst of free pledges cannot force the reveal, this relayer "
                        f"now takes at most {self.per_hour} pledges an hour for it. Try again "
                        f"in {-(-wait // 60)} min, or pledge with a wallet or the command line",
                        429,
                        wait,
                    )
            self._on_the_way[campaign] = self._on_the_way.get(campaign, 0) + 1
        given = threading.Event()

        def give_back() -> None:
            if given.is_set():
                return
            given.set()
            with self._lock:
                self._on_the_way[campaign] -= 1
                if not self._on_the_way[campaign]:
                    del self._on_the_way[campaign]

        return give_back
