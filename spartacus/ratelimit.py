"""Rate limits, shared by the web app's relayer and endorsements and the custodian's key
issuance: a budget per key (a client, a campaign) and one for everyone together.

The counting is the ``limits`` library's (the engine of Flask-Limiter): moving windows in
its in-memory storage, which forgets a key once its window is empty. Nothing is written to
disk, and no address is kept beyond the window.
"""

from __future__ import annotations

import math
import threading
import time

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

MINUTE = 60.0
HOUR = 3600.0


class RateLimiter:
    """Moving windows: ``per_minute`` per client in ``window`` seconds (a minute unless
    given), ``per_client_hour`` (if given) per client in an hour, and ``per_hour`` in total.

    With ``per_client_hour`` below ``per_hour``, no one client can spend the hour's budget
    for everyone by itself.
    """

    def __init__(
        self,
        per_minute: int,
        per_hour: int,
        per_client_hour: int | None = None,
        *,
        window: float = MINUTE,
    ) -> None:
        self.per_minute = per_minute
        self.per_hour = per_hour
        self.per_client_hour = per_client_hour
        self.window = window
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._client = RateLimitItemPerSecond(per_minute, math.ceil(window))
        self._client_hour = RateLimitItemPerHour(per_client_hour) if per_client_hour else None
        self._all = RateLimitItemPerHour(per_hour)
        self._lock = threading.Lock()  # all of a client's windows are tested, then hit, at once

    def check(self, client: str) -> int:
        """0 if allowed (and counted), else the seconds to wait."""
        budgets: list[tuple[RateLimitItem, tuple[str, ...]]] = [(self._client, ("c", client))]
        if self._client_hour is not None:
            budgets.append((self._client_hour, ("h", client)))
        budgets.append((self._all, ("all",)))
        with self._lock:
            for item, key in budgets:
                if not self._limiter.test(item, *key):
                    reset = self._limiter.get_window_stats(item, *key).reset_time
                    return max(1, math.ceil(reset - time.time()))
            for item, key in budgets:
                self._limiter.hit(item, *key)
            return 0
