"""Many live-count viewers of one campaign, on `spartacus serve` as operators run it.

600 viewers (more than the 480 threads the old server could give them) watch one campaign
over real sockets while pledges land on anvil. Every viewer must get each update, and what
the app asks of the node for a block, and the updates it builds, must not grow with the
viewers: every RPC call goes through a counting pass-through in front of anvil. No timing
is asserted: waits are bounded only so that a broken server fails instead of hanging.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.cli.conftest import Spartacus, pledge
from tests.rpc_proxy import RpcProxy

from .conftest import RELAYER

SCRIPT = str(Path(sys.executable).parent / "spartacus")
VIEWERS = 600


class CountingProxy(RpcProxy):
    """Counts the JSON-RPC methods the app calls; the head polls apart (they run on a
    timer, blocks or not)."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()

    def forward(self, body: bytes) -> tuple[int, bytes] | None:
        sent = json.loads(body)
        with self.lock:
            for call in sent if isinstance(sent, list) else [sent]:
                latest = call["method"] == "eth_getBlockByNumber" and call["params"][0] == "latest"
                self.calls["head poll" if latest else call["method"]] += 1
        return super().forward(body)

    def per_block(self) -> Counter[str]:
        with self.lock:
            return Counter({k: v for k, v in self.calls.items() if k != "head poll"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def node(spartacus: Spartacus) -> Iterator[CountingProxy]:
    proxy = CountingProxy(spartacus.rpc)
    yield proxy
    proxy.close()


def start_serve(
    spartacus: Spartacus, rpc: str, home: Path, *extra: str
) -> tuple[subprocess.Popen[bytes], str]:
    """`spartacus serve` in its own process, reading the chain at ``rpc``."""
    port = free_port()
    app = subprocess.Popen(
        [SCRIPT, "--rpc", rpc, "--registry", spartacus.registry, "--home", str(home),
         "--dev-account", str(RELAYER), "serve", "--port", str(port), *extra],
        env=dict(os.environ, SPARTACUS_PRIVATE_KEY=""),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if app.poll() is not None:
            raise AssertionError(f"serve exited: {app.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if requests.get(f"{url}/api/health", timeout=2).status_code < 500:
                break
        except requests.RequestException:
            time.sleep(0.1)
    return app, url


@pytest.fixture
def served(spartacus: Spartacus, node: CountingProxy, tmp_path: Path) -> Iterator[str]:
    app, url = start_serve(spartacus, node.url, tmp_path / "web")
    try:
        yield url
    finally:
        app.terminate()
        app.wait(timeout=30)


def read_by(url: str, campaign: int) -> None:
    """Until the app's poller has read ``campaign``."""
    for _ in range(300):
        if requests.get(f"{url}/api/campaigns/{campaign}", timeout=10).ok:
            return
        time.sleep(0.1)


class Viewers:
    """``count`` raw SSE connections, read by this thread: each one's latest summary."""

    def __init__(self, url: str, campaign_id: int, count: int) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.selector = selectors.DefaultSelector()
        self.latest: dict[int, dict[str, Any]] = {}
        self.status: dict[int, bytes] = {}
        self.buffers: dict[int, bytes] = {}
        request = (
            f"GET /api/campaigns/{campaign_id}/events HTTP/1.1\r\nHost: {host}\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
        for number in range(count):
            sock = socket.create_connection((host, int(port)), timeout=10)
            sock.sendall(request)
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, number)
            self.buffers[number] = b""

    def until(self, done: Any, seconds: float = 120) -> None:
        """Read until ``done(self)`` holds (or ``seconds`` pass: the assertions then fail)."""
        deadline = time.monotonic() + seconds
        while not done(self) and self.selector.get_map() and time.monotonic() < deadline:
            for key, _ in self.selector.select(timeout=0.2):
                try:
                    chunk = key.fileobj.recv(65536)  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                if not chunk:
                    self.selector.unregister(key.fileobj)
                    continue
                self._read(key.data, self.buffers[key.data] + chunk)

    def _read(self, viewer: int, data: bytes) -> None:
        if viewer not in self.status:
            self.status[viewer] = data.split(b" ", 2)[1]
        *events, self.buffers[viewer] = data.split(b"\n\n")
        for event in events:
            for line in event.split(b"\n"):
                if line.startswith(b"data: "):
                    self.latest[viewer] = json.loads(line[6:])

    def seeing(self, active: int) -> int:
        return sum(1 for s in self.latest.values() if s.get("active") == active)

    def close(self) -> None:
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]


def health(url: str) -> dict[str, Any]:
    return dict(requests.get(f"{url}/api/health", timeout=10).json())


def update(
    spartacus: Spartacus, node: CountingProxy, url: str, viewers: Viewers, campaign: int, n: int
) -> tuple[Counter[str], int]:
    """A pledge lands; once every viewer has seen it: the RPC calls and updates built."""
    calls, built = node.per_block(), health(url)["liveUpdates"]
    pledge(spartacus, campaign, f"Pledger{n}", dev=n)
    viewers.until(lambda v: v.seeing(n) == len(v.buffers))
    assert viewers.seeing(n) == len(viewers.buffers)
    return node.per_block() - calls, health(url)["liveUpdates"] - built


def test_600_viewers_all_get_the_update_with_rpc_calls_flat_in_viewers(
    spartacus: Spartacus, node: CountingProxy, served: str, create_campaign: Any
) -> None:
    campaign, _ = create_campaign(threshold=10)
    read_by(served, campaign)
    one = Viewers(served, campaign, 1)
    one.until(lambda v: v.seeing(0) == 1)
    alone = update(spartacus, node, served, one, campaign, 1)

    many = Viewers(served, campaign, VIEWERS)
    many.until(lambda v: v.seeing(1) + sum(s != b"200" for s in v.status.values()) == VIEWERS)
    refused = [s for s in many.status.values() if s != b"200"]
    assert refused == [] and many.seeing(1) == VIEWERS
    assert health(served)["liveViewers"] == VIEWERS + 1

    crowd = update(spartacus, node, served, many, campaign, 2)
    one.until(lambda v: v.seeing(2) == 1)
    assert one.seeing(2) == 1
    # What the app asked of the node, and built, for one block: the same with 601 viewers
    # as with one (an eth_getLogs for the block, and one update for the campaign).
    assert crowd == alone
    assert alone[0]["eth_getLogs"] == 1 and alone[1] == 1
    one.close()
    many.close()


def test_viewers_past_the_cap_are_told_to_poll_and_one_who_leaves_frees_a_slot(
    spartacus: Spartacus, create_campaign: Any, tmp_path: Path
) -> None:
    campaign, _ = create_campaign(threshold=10)
    app, url = start_serve(spartacus, spartacus.rpc, tmp_path / "web", "--max-viewers", "2")
    try:
        read_by(url, campaign)
        first, second = Viewers(url, campaign, 1), Viewers(url, campaign, 1)
        for viewer in (first, second):
            viewer.until(lambda v: v.seeing(0) == 1)
            assert viewer.status == {0: b"200"}
        third = requests.get(f"{url}/api/campaigns/{campaign}/events", timeout=30)
        assert third.status_code == 503 and "poll" in third.json()["error"]
        assert third.headers["Content-Security-Policy"].startswith("default-src 'none'")

        first.close()  # the server reads the disconnect; the slot is free by the next beat
        for _ in range(300):
            if health(url)["liveViewers"] == 1:
                break
            time.sleep(0.1)
        again = Viewers(url, campaign, 1)
        again.until(lambda v: v.seeing(0) == 1)
        assert again.status == {0: b"200"} and again.seeing(0) == 1
    finally:
        # Open streams do not hold the server up: it ends them when asked to stop.
        app.terminate()
        assert app.wait(timeout=60) is not None
