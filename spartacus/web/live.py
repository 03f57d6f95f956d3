"""Live counts for many viewers: one update per campaign and block, fanned out to all.

The index's poller (``index.CampaignIndex``) is the only thing that reads the chain, once
per block whoever watches. ``LiveCounts`` turns the index into server-sent events:

- ``message(campaign_id)`` builds a campaign's update (its summary as one SSE event) once
  per index version and hidden state, and hands the same bytes to every viewer that asks,
  whether a thread of a WSGI server (``api.events``) or the event loop below;
- ``Viewer``s live on an asyncio event loop (``server.py`` runs it under uvicorn): an idle
  viewer is a few objects waiting on an ``asyncio.Event``, no thread. One pump coroutine per
  loop waits for the index to move (a single executor thread blocks on the index's
  condition), builds each watched campaign's update once, and sets every viewer's event.

So neither the RPC calls nor the summaries computed per block grow with the viewers; what
does grow is one write per viewer, on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .index import summary

if TYPE_CHECKING:
    from .state import WebState

HEARTBEAT_COMMENT = b": still here\n\n"
RETRY = b"retry: 3000\n\n"  # how long a browser waits before reconnecting (ms)


@dataclass(eq=False)
class Viewer:
    """One live stream on the event loop: the newest update not yet sent, and a wake-up."""

    campaign_id: int
    latest: bytes | None = None
    woken: asyncio.Event = field(default_factory=asyncio.Event)
    gone: bool = False

    def push(self, message: bytes) -> None:
        self.latest = message  # a slow viewer skips to the newest: counts, not a log
        self.woken.set()

    def leave(self) -> None:
        self.gone = True
        self.woken.set()


class LiveCounts:
    """The site's live-count streams: updates built once, viewers on one event loop."""

    def __init__(self, shared: WebState, limit: int) -> None:
        self.shared = shared
        self.limit = limit  # viewers on the event loop at once; past it pages poll
        self.heartbeat = float(shared.config["HEARTBEAT"])
        self.built = 0  # updates built: flat in the number of viewers (tests check it)
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[tuple[int, bool], bytes]] = {}
        self._viewers: dict[int, set[Viewer]] = {}
        self._count = 0  # viewers on the loop, readable from any thread
        self._pump: asyncio.Task[None] | None = None
        self._closed = False

    # ------------------------------------------------------------ updates

    def message(self, campaign_id: int) -> bytes | None:
        """The campaign's current update as an SSE event, built once per index version and
        hidden state (None before the campaign is read)."""
        shared = self.shared
        index = shared.index
        head = index.head
        hidden = shared.is_hidden(campaign_id)
        key = (head.version, hidden)
        with self._lock:
            cached = self._cache.get(campaign_id)
            if cached is not None and cached[0] == key:
                return cached[1]
            history = index.history(campaign_id)
            if history is None:
                return None
            data = json.dumps(summary(history, head, hidden, index))
            message = f"event: campaign\ndata: {data}\n\n".encode()
            self._cache[campaign_id] = (key, message)
            self.built += 1
            return message

    # ------------------------------------------------------------ viewers (event loop)

    @property
    def viewers(self) -> int:
        return self._count

    def join(self, campaign_id: int) -> Viewer | None:
        """A new viewer of ``campaign_id`` (on the running loop), or None when full."""
        if self._closed or self.viewers >= self.limit:
            return None
        viewer = Viewer(campaign_id)
        self._viewers.setdefault(campaign_id, set()).add(viewer)
        self._count += 1
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._run_pump())
        return viewer

    def drop(self, viewer: Viewer) -> None:
        watching = self._viewers.get(viewer.campaign_id)
        if watching is not None and viewer in watching:
            watching.discard(viewer)
            self._count -= 1
            if not watching:
                del self._viewers[viewer.campaign_id]

    async def stream(self, viewer: Viewer) -> AsyncIterator[bytes]:
        """What one viewer is sent: the update at once, then each change, with a comment
        every ``heartbeat`` seconds of quiet (proxies keep the connection open)."""
        loop = asyncio.get_running_loop()
        try:
            yield RETRY
            first = await loop.run_in_executor(None, self.message, viewer.campaign_id)
            if first is not None:
                yield first
            last = first
            while not viewer.gone and not self._closed:
                try:
                    async with asyncio.timeout(self.heartbeat):
                        await viewer.woken.wait()
                except TimeoutError:
                    yield HEARTBEAT_COMMENT
                    continue
                viewer.woken.clear()
                message, viewer.latest = viewer.latest, None
                if message is not None and message != last and not viewer.gone:
                    yield message
                    last = message
        finally:
            self.drop(viewer)

    def close(self) -> None:
        """End every stream (the server is stopping)."""
        self._closed = True
        for watching in list(self._viewers.values()):
            for viewer in list(watching):
                viewer.leave()

    async def _run_pump(self) -> None:
        """While anyone watches: wait for the index to move (or a heartbeat, for a campaign
        hidden meanwhile), build each watched campaign's update once, wake its viewers."""
        loop = asyncio.get_running_loop()
        index = self.shared.index
        version = index.head.version
        sent: dict[int, bytes] = {}
        while self._viewers and not self._closed and not index.stopped:
            version = await loop.run_in_executor(None, index.wait, version, self.heartbeat)
            watched = list(self._viewers)
            built = await loop.run_in_executor(None, self._messages, watched)
            for campaign_id, message in built.items():
                if message is None or sent.get(campaign_id) == message:
                    continue
                sent[campaign_id] = message
                for viewer in list(self._viewers.get(campaign_id, ())):
                    viewer.push(message)
            for campaign_id in [c for c in sent if c not in self._viewers]:
                del sent[campaign_id]

    def _messages(self, campaign_ids: list[int]) -> dict[int, bytes | None]:
        return {campaign_id: self.message(campaign_id) for campaign_id in campaign_ids}
