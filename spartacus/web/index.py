"""One block poller for the whole web app, and the campaign index it keeps (what pages
show of a campaign is read from it by ``spartacus.web.summaries``).

Every page view, API call and live-count stream reads this in-memory index; only the
poller talks to the chain: one ``eth_getBlockByNumber("latest")`` per poll and one
``eth_getLogs`` per new block range, however many people are watching. Streams wait on a
condition that the poller notifies after each new block.

The first read, a read after a reorg and a read after a long outage (more than
``WALK_AFTER_BLOCKS`` new blocks) walk each campaign's events back from its
``lastEventBlock`` instead (``Registry.campaign_logs``): events + 1 calls per campaign,
whatever the node's range cap. With a checkpoint file (``<home>/web/checkpoints.json``) the
index starts from the logs it held at the chain's ``safe`` block, so a restart walks only the
newer events (``spartacus.chain.checkpoint``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from hexbytes import HexBytes

from ..chain.checkpoint import Checkpoints, history_of
from ..chain.directory import CustodianDirectory
from ..chain.events import apply_logs
from ..chain.health import describe_failure
from ..chain.records import History
from ..chain.registry import Registry
from ..exceptions import RequestRefused
from .custodians import CreationEndorsements

log = logging.getLogger("spartacus.web")

KEPT_HEADS = 128  # heads remembered, to tell a lagging node from a reorg
LAG_TOLERANCE = 30.0  # seconds a node may answer with a head the index has passed
WALK_AFTER_BLOCKS = 100  # more new blocks than this are read campaign by campaign, event to event
CHECKPOINT_EVERY = 60.0  # seconds between checkpoint saves


@dataclass(frozen=True)
class Snapshot:
    """The index's head: the newest block it has read, and that block's time."""

    block: int
    timestamp: int
    version: int


class CampaignIndex:
    """Every campaign of one registry, rebuilt from its logs and kept current by a poller."""

    def __init__(
        self,
        registry: Registry,
        *,
        poll_interval: float = 1.0,
        directory: CustodianDirectory | None = None,
        operator: str | None = None,
        checkpoints: Checkpoints | None = None,
    ) -> None:
        self.registry = registry
        self.checkpoints = checkpoints
        self._raw: dict[int, list[Any]] = {}  # each campaign's logs, for the checkpoint
        self._saved_at = time.monotonic()
        self.poll_interval = poll_interval
        self.directory = directory or CustodianDirectory()
        self.operator = operator  # the site operator's account, named when it is a custodian
        self.endorsements = CreationEndorsements(registry)
        self.rpc_calls = 0  # what the poller asked of the node: flat in the number of viewers
        self._histories: dict[int, History] = {}
        self._block = registry.from_block - 1
        self._hash: bytes | None = None  # of block ``_block``, once read
        self._heads: dict[int, bytes] = {}  # the heads read lately, by number
        self._behind_since: float | None = None  # when the node's head fell behind the index
        self.lag_tolerance = LAG_TOLERANCE
        self._timestamp = 0
        self._version = 0
        self._block_times: dict[int, int] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self.ready = False  # True once the logs up to some head have been read

    # ------------------------------------------------------------ polling

    def sync(self) -> bool:
        """Read what is new on the chain; True if the index moved.

        The index remembers the hash of the block it has read up to. A head that no longer
        builds on it (a reorg, at any depth, or a dev chain restarted or reverted) means
        some events it holds may be gone: the campaigns are read again from the deployment
        block into a new index, which replaces the old one at once, so pages never see it
        half-read. That costs one full read, which a reorg on a live chain makes rare.
        A lower head that the index has read before is most likely a node lagging behind
        (providers balance calls over several nodes): it is skipped for ``lag_tolerance``
        seconds, then taken as the chain having gone back.
        """
        w3 = self.registry.w3
        latest = w3.eth.get_block("latest")
        self.rpc_calls += 1
        number, timestamp = int(latest["number"]), int(latest["timestamp"])
        head_hash = bytes(latest["hash"])
        if number == self._block and head_hash == self._hash:
            return False
        if number < self._block and self._heads.get(number) == head_hash:
            # A head the index has already read: a node behind the one that answered
            # before (load-balanced providers do this), or a chain that went back to it.
            # Only time tells them apart: a lagging node catches up.
            now = time.monotonic()
            if self._behind_since is None:
                self._behind_since = now
            if now - self._behind_since < self.lag_tolerance:
                return False
        self._behind_since = None
        if self._hash is None:
            self._resume()
        histories, raw = self._histories, self._raw
        start = self._block + 1
        if self._hash is not None and not self._builds_on_head(latest):
            log.warning(
                "the chain no longer holds block %s as read (now at %s): re-reading",
                self._block,
                number,
            )
            histories, raw, start = {}, {}, self.registry.from_block
        if number - start + 1 > WALK_AFTER_BLOCKS:
            logs = self._walk(start - 1, number)
        else:
            logs = self.registry.raw_logs(start, number)
            self.rpc_calls += 1
        for item in logs:
            if len(item["topics"]) > 1:
                raw.setdefault(int.from_bytes(item["topics"][1], "big"), []).append(item)
        with self._changed:
            apply_logs(self.registry, histories, logs)
            self._raw = raw
            if histories is not self._histories:
                self._histories = histories
                self._block_times = {}
                self._heads = {}
            self._block, self._timestamp, self._hash = number, timestamp, head_hash
            self._heads[number] = head_hash
            for old in [n for n in self._heads if n <= number - KEPT_HEADS]:
                del self._heads[old]
            self._block_times[number] = timestamp
            self._version += 1
            self._changed.notify_all()
        if time.monotonic() - self._saved_at >= CHECKPOINT_EVERY:
            self.save_checkpoint()
        return True

    def _walk(self, after: int, number: int) -> list[Any]:
        """Every campaign's logs in blocks ``after + 1..number``, walked event to event."""
        count = self.registry.contract.functions.campaignCount().call(block_identifier=number)
        self.rpc_calls += 1
        logs: list[Any] = []
        for campaign_id in range(1, int(count) + 1):
            items = self.registry.campaign_logs(campaign_id, to_block=number, after=after)
            self.rpc_calls += 1 + len({item.block for item in items})
            logs += [item.log for item in items]
        return logs

    def _resume(self) -> None:
        """Start from the checkpoint, if one is kept and the chain still holds its block."""
        if self.checkpoints is None or not self.checkpoints.held:
            return
        blocks = {held.block for held in self.checkpoints.held.values()}
        held = [self.checkpoints.trusted(cid) for cid in sorted(self.checkpoints.held)]
        if len(blocks) != 1 or any(h is None for h in held):
            return  # not one consistent checkpoint of the whole registry: read it all
        first = next(h for h in held if h is not None)
        with self._changed:
            self._raw = {cid: list(h.logs) for cid, h in self.checkpoints.held.items()}
            self._histories = {
                cid: history_of(self.registry, cid, logs) for cid, logs in self._raw.items()
            }
            self._block, self._hash = first.block, bytes(HexBytes(first.hash))
        log.info("resuming from the checkpoint at block %s", first.block)

    def save_checkpoint(self) -> None:
        """Keep every campaign's logs up to the chain's ``safe`` block (never above it: a
        reorg there would leave the checkpoint holding events the chain no longer has)."""
        self._saved_at = time.monotonic()
        if self.checkpoints is None or self._hash is None:
            return
        safe = self.registry.w3.eth.get_block("safe")
        self.rpc_calls += 1
        number = min(int(safe["number"]), self._block)
        if number != int(safe["number"]):
            return  # the index is behind the safe block: keep the checkpoint it has
        block_hash = HexBytes(safe["hash"]).to_0x_hex()
        with self._lock:
            raw = {cid: list(logs) for cid, logs in self._raw.items()}
        for cid in self.campaign_ids():
            self.checkpoints.keep(cid, number, block_hash, raw.get(cid, []))
        self.checkpoints.save()

    def _builds_on_head(self, latest: Any) -> bool:
        """Whether ``latest`` is the block the index has read up to, or a descendant of it."""
        number = int(latest["number"])
        if number < self._block:
            return False
        if number == self._block:
            return bytes(latest["hash"]) == self._hash
        if number == self._block + 1:
            return bytes(latest["parentHash"]) == self._hash
        self.rpc_calls += 1
        return bytes(self.registry.w3.eth.get_block(self._block)["hash"]) == self._hash

    def start(self, catch_up_timeout: float = 30.0) -> None:
        """Catch up (so the first page has data), then poll on a daemon thread.

        A node that fails the first reads is retried for ``catch_up_timeout`` seconds;
        after that the poller keeps trying and requests are told the site is not ready.
        """
        if self._thread is not None:
            return
        deadline = time.monotonic() + catch_up_timeout
        while not self._poll_once() and time.monotonic() < deadline:
            time.sleep(min(1.0, self.poll_interval))
        self._thread = threading.Thread(target=self._run, name="spartacus-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        try:
            self.save_checkpoint()
        except Exception as exc:  # noqa: BLE001 - the node may be gone at shutdown
            log.warning("checkpoint not saved: %s", exc)
        with self._changed:
            self._changed.notify_all()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_interval):
            self._poll_once()

    def _poll_once(self) -> bool:
        try:
            self.sync()
            self.last_error = None
            self.ready = True
            return True
        except Exception as exc:  # noqa: BLE001 - a node outage must not kill the poller
            log.warning("poll failed: %s: %s", type(exc).__name__, exc)
            self.last_error = describe_failure(exc)
            return False

    # ------------------------------------------------------------ reading

    @property
    def head(self) -> Snapshot:
        with self._lock:
            return Snapshot(self._block, self._timestamp, self._version)

    def wait(self, version: int, timeout: float) -> int:
        """Block until the index moves past ``version`` (or ``timeout``); the new version."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._version != version or self._stop.is_set(), timeout=timeout
            )
            return self._version

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def history(self, campaign_id: int) -> History | None:
        """The campaign's history if it has been created.

        Its lists only ever grow, except that after a reorg the index holds a new one.
        """
        with self._lock:
            history = self._histories.get(campaign_id)
        return history if history is not None and history.terms is not None else None

    def require(self, campaign_id: int) -> History:
        """The campaign's history, or a refusal that says why there is none."""
        history = self.history(campaign_id)
        if history is not None:
            return history
        if not self.ready:
            raise RequestRefused("the site is still reading the chain; try again shortly", 503, 2)
        if 1 <= campaign_id <= self.registry.campaign_count():
            # Created after the poller's last read: it will be here within a poll.
            raise RequestRefused(f"campaign {campaign_id} is not read yet; try again", 503, 1)
        raise RequestRefused(f"campaign {campaign_id} does not exist", 404)

    def campaign_ids(self) -> list[int]:
        with self._lock:
            return sorted(cid for cid, h in self._histories.items() if h.terms is not None)

    def block_time(self, block: int) -> int:
        """A block's timestamp, fetched once and kept (for the pledge-rate series).

        While the node is unreachable the page is served from the index all the same: a
        block whose time was never fetched gets the time of the nearest later block the
        index knows (at most one poll later), not kept, instead of failing the page.
        """
        known = self._block_times.get(block)
        if known is not None:
            return known
        if self.last_error is None:
            try:
                known = int(self.registry.w3.eth.get_block(block)["timestamp"])
            except Exception as exc:  # noqa: BLE001 - the node went away: estimate below
                self.last_error = describe_failure(exc)  # until the poller's next success
            else:
                self._block_times[block] = known
                return known
        later = [stamp for number, stamp in list(self._block_times.items()) if number >= block]
        return min(later, default=self._timestamp)
