"""Live counts for many viewers: one update per campaign and block, fanned out to all.

The index's poller (``index.CampaignIndex``) is the only thing that reads the chain, once
per block whoever watches. ``LiveCounts`` turns the index into server-sent events:

- ``message(campaign_id)`` builds a campaign's update (its summary as one SSE event) once
  per index version and hidden state, and hands the same bytes to every viewer that asks,
  whether a thread of a WSGI server (``api.events``) or the event loop below;
- ``Viewer``s live on an asyncio event loop (``server.py`` runs it under uvicorn): an idle
  viewer is a coroutine awaiting its campaign's ``Channel`` future, no thread and no timer.
  One pump coroutine per loop waits for the index to move (a single executor thread blocks
  on the index's condition), builds each watched campaign's update once, and resolves the
  campaign's future: one call per campaign, and the loop wakes the viewers.

So neither the RPC calls nor the summaries computed per block grow with the viewers; what
does grow is one write per viewer, on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .summaries import summary

log = logging.getLogger("spartacus.web")

if TYPE_CHECKING:
    from .state import WebState

HEARTBEAT_COMMENT = b": still here\n\n"
RETRY = b"retry: 3000\n\n"  # how long a browser waits before reconnecting (ms)


@dataclass(eq=False)
class Viewer:
    """One live stream on the event loop."""

    campaign_id: int
    gone: bool = False  # the client left: the stream ends at its next wake-up

    def leave(self) -> None:
        self.gone = True


class Channel:
    """A campaign's viewers' meeting point: its newest update, and one future that the pump
    resolves with the next update or heartbeat. Every viewer awaits that same future, so a
    block costs the pump one ``set_result`` per campaign, however many watch."""

    def __init__(self) -> None:
        self.message: bytes | None = None  # the newest update sent out
        self.next: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self.viewers = 0

    def send(self, message: bytes | None) -> None:
        """Wake every viewer with ``message`` (None: the stream ends)."""
        if message is not None and message is not HEARTBEAT_COMMENT:
            self.message = message
        woken, self.next = self.next, asyncio.get_running_loop().create_future()
        if not woken.done():  # cancelled if a viewer awaiting it was: see ``stream``
            woken.set_result(message)


class LiveCounts:
    """The site's live-count streams: updates built once, viewers on one event loop."""

    def __init__(self, shared: WebState, limit: int) -> None:
        self.shared = shared
        self.limit = limit  # viewers on the event loop at once; past it pages poll
        self.heartbeat = float(shared.config["HEARTBEAT"])
        self.built = 0  # updates built: flat in the number of viewers (tests check it)
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[tuple[int, bool], bytes]] = {}
        self._channels: dict[int, Channel] = {}
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
        if self._closed or self._count >= self.limit:
            return None
        channel = self._channels.get(campaign_id)
        if channel is None:
            channel = self._channels[campaign_id] = Channel()
        channel.viewers += 1
        self._count += 1
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._run_pump())
        return Viewer(campaign_id)

    def _drop(self, viewer: Viewer) -> None:
        channel = self._channels[viewer.campaign_id]
        channel.viewers -= 1
        self._count -= 1
        if not channel.viewers:
            del self._channels[viewer.campaign_id]

    async def stream(self, viewer: Viewer, write: Callable[[bytes], Awaitable[None]]) -> None:
        """What one viewer is sent: the update at once, then each change, and a comment
        after ``heartbeat`` seconds without a block (proxies keep the connection open).
        A viewer still writing when an update comes sends the newest one next: counts, not
        a log. ``write`` sends bytes to the viewer (a plain coroutine, not an async
        generator: a block wakes every viewer, so each step per viewer counts)."""
        loop = asyncio.get_running_loop()
        channel = self._channels[viewer.campaign_id]
        try:
            await write(RETRY)
            # The channel's newest update if it has one (never older than what others saw).
            last = channel.message or await loop.run_in_executor(
                None, self.message, viewer.campaign_id
            )
            if last is not None:
                await write(last)
            while not viewer.gone and not self._closed:
                newest = channel.message
                if newest is not None and newest != last:
                    await write(newest)
                    last = newest
                    continue
                try:
                    woken = await channel.next
                except asyncio.CancelledError:
                    task = asyncio.current_task()
                    if task is not None and task.cancelling():
                        raise  # this viewer is cancelled (the server is stopping)
                    # Another viewer's cancellation cancelled the shared future: a new one.
                    if channel.next.cancelled():
                        channel.next = loop.create_future()
                    continue
                if woken is HEARTBEAT_COMMENT and not viewer.gone:
                    await write(woken)
        finally:
            self._drop(viewer)

    def close(self) -> None:
        """End every stream (the server is stopping)."""
        self._closed = True
        for channel in self._channels.values():
            channel.send(None)

    async def _run_pump(self) -> None:
        """While anyone watches: wait for the index to move, build each watched campaign's
        update once, and wake its viewers; after ``heartbeat`` seconds without a block, look
        again (a campaign may have been hidden) and send a comment to everyone: no timer
        per viewer."""
        loop = asyncio.get_running_loop()
        index = self.shared.index
        version = index.head.version
        while self._channels and not self._closed and not index.stopped:
            moved = await loop.run_in_executor(None, index.wait, version, self.heartbeat)
            watched = list(self._channels)
            try:
                built = await loop.run_in_executor(None, self._messages, watched)
            except Exception:  # noqa: BLE001 - the pump must outlive a bad update
                log.exception("building live updates failed; viewers get a heartbeat")
                built = {}
            for campaign_id in watched:
                channel = self._channels.get(campaign_id)
                if channel is None:
                    continue  # its last viewer left meanwhile
                message = built.get(campaign_id)
                if message is not None and message != channel.message:
                    channel.send(message)
                elif moved == version:
                    channel.send(HEARTBEAT_COMMENT)  # a quiet spell: one comment to each
            version = moved

    def _messages(self, campaign_ids: list[int]) -> dict[int, bytes | None]:
        return {campaign_id: self.message(campaign_id) for campaign_id in campaign_ids}
