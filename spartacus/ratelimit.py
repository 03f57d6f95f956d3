"""Sliding-window rate limits, shared by the web app's relayer and the custodian's key
issuance: a budget per key (a client, a campaign) and one for everyone together."""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    """Sliding windows: ``per_minute`` per client and ``per_hour`` in total."""

    def __init__(self, per_minute: int, per_hour: int) -> None:
        self.per_minute = per_minute
        self.per_hour = per_hour
        self._clients: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> int:
        """0 if allowed (and counted), else the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            mine = self._clients.setdefault(client, deque())
            for window, span in ((mine, 60.0), (self._all, 3600.0)):
                while window and window[0] <= now - span:
                    window.popleft()
            if len(mine) >= self.per_minute:
                return int(mine[0] + 60 - now) + 1
            if len(self._all) >= self.per_hour:
                return int(self._all[0] + 3600 - now) + 1
            mine.append(now)
            self._all.append(now)
            return 0
