"""Web figures: page latency under load, live-count fan-out, RPC calls per block.

``python -m bench.web`` starts its own anvil, a registry with a campaign, and the web app
as ``spartacus serve`` runs it (waitress, in its own process), then measures from this
process over loopback:

- latency of the campaign page and its JSON under concurrent clients (p50, p99);
- VIEWERS live-count streams (server-sent events) open at once: how long after a block
  is mined each viewer receives the update naming it;
- the web app's RPC calls per block (its /api/health counter) with 0, 100 and VIEWERS
  viewers connected: flat, because one poller serves them all.

Every loop is bounded in count and time; nothing is asserted.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from .node import Node, anvil, free_port
from .world import World

VIEWERS = 500
CLIENTS = 16
REQUESTS_PER_CLIENT = 100
BLOCKS = 5
HEARTBEAT = 5  # the web app's default SSE heartbeat (spartacus.web.config)
SCRIPT = str(Path(sys.executable).parent / "spartacus")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class WebApp:
    """`spartacus serve` in a subprocess against the bench's anvil."""

    def __init__(self, node: Node, registry: str, home: str, viewers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, SPARTACUS_PRIVATE_KEY="")
        self.process = subprocess.Popen(
            [SCRIPT, "--rpc", node.rpc, "--registry", registry, "--home", home,
             "--dev-account", "8", "serve", "--port", str(self.port),
             "--max-viewers", str(viewers + 20)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/api/health", timeout=2).ok:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the web app did not start")

    def rpc_calls(self) -> int:
        return int(requests.get(f"{self.url}/api/health", timeout=10).json()["rpcCalls"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def page_latency(url: str, path: str, quick: bool = False) -> dict[str, float]:
    """CLIENTS concurrent sessions, REQUESTS_PER_CLIENT requests each."""

    def client(_: int) -> list[float]:
        times = []
        with requests.Session() as session:
            for _ in range(REQUESTS_PER_CLIENT // (10 if quick else 1)):
                start = time.perf_counter()
                response = session.get(url + path, timeout=30)
                times.append(time.perf_counter() - start)
                response.raise_for_status()
        return times

    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        times = [t for batch in pool.map(client, range(CLIENTS)) for t in batch]
    wall = time.perf_counter() - start
    return {
        "requests": len(times),
        "p50_ms": 1000 * statistics.median(times),
        "p99_ms": 1000 * percentile(times, 99),
        "per_second": len(times) / wall,
    }


class Viewers:
    """``count`` raw SSE connections read by one thread; records when each sees a block."""

    def __init__(self, port: int, campaign: int, count: int) -> None:
        self.selector = selectors.DefaultSelector()
        self.seen: dict[int, dict[int, float]] = {}  # block -> viewer -> first time seen
        self.buffers: dict[int, bytes] = {}
        self.refused = 0
        request = (
            f"GET /api/campaigns/{campaign}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
        for number in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(request)
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, number)
            self.buffers[number] = b""
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            for key, _ in self.selector.select(timeout=0.2):
                now = time.monotonic()
                try:
                    chunk = key.fileobj.recv(65536)  # type: ignore[union-attr]
                except (BlockingIOError, ConnectionError):
                    continue
                if not chunk:
                    self.selector.unregister(key.fileobj)
                    continue
                if b" 503 " in chunk[:20]:
                    self.refused += 1
                self._parse(key.data, self.buffers[key.data] + chunk, now)

    def _parse(self, viewer: int, data: bytes, now: float) -> None:
        *events, rest = data.split(b"\n\n")
        self.buffers[viewer] = rest
        for event in events:
            for line in event.split(b"\n"):
                if line.startswith(b"data: "):
                    block = int(json.loads(line[6:])["block"])
                    self.seen.setdefault(block, {}).setdefault(viewer, now)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]


def fan_out(node: Node, app: WebApp, campaign: int, count: int) -> dict[str, Any]:
    """Open ``count`` viewers, mine BLOCKS blocks, time each viewer's update per block."""
    viewers = Viewers(app.port, campaign, count)
    time.sleep(3)  # let every stream receive its first event
    latencies: list[float] = []
    missed = 0
    calls_before = app.rpc_calls()
    for _ in range(BLOCKS):
        mined_at = time.monotonic()
        node.call("evm_mine", [])
        block = int(node.w3.eth.block_number)
        time.sleep(2.5)
        seen = viewers.seen.get(block, {})
        latencies += [t - mined_at for t in seen.values()]
        missed += count - viewers.refused - len(seen)
    calls = app.rpc_calls() - calls_before - 1  # the health call itself is not an RPC call
    viewers.close()
    within = sum(1 for t in latencies if t <= 1.0)
    return {
        "viewers": count,
        "refused": viewers.refused,
        "updates": len(latencies),
        "missed": missed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
        "p99_ms": 1000 * percentile(latencies, 99) if latencies else None,
        "max_ms": 1000 * max(latencies) if latencies else None,
        "within_1s": within / len(latencies) if latencies else 0.0,
        "rpc_calls_per_block": calls / BLOCKS,
    }


def measure(viewers: int = VIEWERS, *, quick: bool = False) -> dict[str, Any]:
    """All web figures, against a fresh anvil and `spartacus serve`."""
    results: dict[str, Any] = {}
    with anvil() as node, tempfile.TemporaryDirectory(prefix="spartacus-web-") as home:
        world = World.build(node)
        campaign = world.create(threshold=50)
        app = WebApp(node, world.registry.address, home, viewers)
        try:
            results["page"] = page_latency(app.url, f"/c/{campaign.id}", quick)
            results["api"] = page_latency(app.url, f"/api/campaigns/{campaign.id}", quick)
            steps = (0, viewers) if quick else (0, 100, viewers)
            results["fan_out"] = []
            for count in steps:
                results["fan_out"].append(fan_out(node, app, campaign.id, count))
                time.sleep(2 * HEARTBEAT + 1)  # at worst a gone viewer's slot is freed by then
        finally:
            app.stop()
            world.close()
    return results


def main() -> int:
    viewers = int(sys.argv[1]) if len(sys.argv) > 1 else VIEWERS
    print(json.dumps(measure(viewers), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
