"""Sliding-window rate limits, shared by the web app's relayer and endorsements and the
custodian's key issuance: a budget per key (a client, a campaign) and one for everyone
together. Everything is in memory; a key is forgotten once its windows are empty."""

from __future__ import annotations

import threading
import time
from collections import deque

MINUTE = 60.0
HOUR = 3600.0


class RateLimiter:
    """Sliding windows: ``per_minute`` per client in ``window`` seconds (a minute unless
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
        self._span = max(window, HOUR if per_client_hour is not None else 0.0)  # kept per client
        self._clients: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._swept = 0.0
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> int:
        """0 if allowed (and counted), else the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._sweep(now)
            mine = self._clients.setdefault(client, deque())
            for window, span in ((mine, self._span), (self._all, HOUR)):
                while window and window[0] <= now - span:
                    window.popleft()
            recent = [t for t in mine if t > now - self.window]
            if len(recent) >= self.per_minute:
                return int(recent[0] + self.window - now) + 1
            if self.per_client_hour is not None and len(mine) >= self.per_client_hour:
                return int(mine[0] + HOUR - now) + 1
            if len(self._all) >= self.per_hour:
                return int(self._all[0] + HOUR - now) + 1
            mine.append(now)
            self._all.append(now)
            return 0

    def _sweep(self, now: float) -> None:
        """Forget clients with nothing left in their window (at most once a minute)."""
        if now - self._swept < MINUTE:
            return
        self._swept = now
        for client in [c for c, times in self._clients.items() if not times or
                       times[-1] <= now - self._span]:  # fmt: skip
            del self._clients[client]

    def __len__(self) -> int:
        """Clients remembered now (each until its windows are empty)."""
        return len(self._clients)
