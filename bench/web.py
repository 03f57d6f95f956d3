"""Web figures: page latency under load, live-count fan-out, RPC calls per block.

``python -m bench.web [VIEWERS]`` starts its own anvil, a registry with a campaign, and the
web app as ``spartacus serve`` runs it (uvicorn, in its own process), then measures from this
process over loopback:

- latency of the campaign page and its JSON under concurrent clients (p50, p99);
- VIEWERS (10,000 unless told) live-count streams (server-sent events) open at once on one
  campaign: a block with a pledge is mined, and the time until each viewer receives the
  update naming that block (p50, p99, max over every viewer and block);
- the web app's RPC calls per block (its /api/health counter) with 0, 100 and VIEWERS
  viewers connected: flat, because one poller serves them all;
- the server's memory (resident set) with no viewer and with VIEWERS.

The viewers are raw sockets read by one thread with a selector; a batch of ready sockets
is stamped when ``select`` returns, before any of it is parsed, so the client's own work
is not counted as the server's. This process and the server each hold VIEWERS sockets:
the soft open-file limit is raised to the hard one (``ulimit -Hn``) if needed.
Every loop is bounded in count and time; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
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
from eth_account import Account

from .node import Node, anvil, free_port
from .world import Campaign, World

VIEWERS = 10_000
CLIENTS = 16
REQUESTS_PER_CLIENT = 100
BLOCKS = 5
UPDATE_TIMEOUT = 30.0  # seconds to wait for every viewer to see a block (then: missed)
BLOCK_SECONDS = 2.0  # at least this long between blocks, so RPC calls per block compare
BLOCK_FIELD = re.compile(rb'"block": ([0-9]+)')  # as json.dumps writes an update's block
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

    def health(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.url}/api/health", timeout=30).json())

    def rpc_calls(self) -> int:
        return int(self.health()["rpcCalls"])

    def cpu_seconds(self) -> float:
        """CPU time the server has used (Linux: /proc), user and system."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_mb(self) -> float:
        """The server's resident memory (Linux: /proc)."""
        with open(f"/proc/{self.process.pid}/status") as status:
            kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        return kb / 1024

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
        self.refused = 0
        request = (
            f"GET /api/campaigns/{campaign}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
        self.count = count
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        for number in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(request)
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, number)
        self.thread.start()

    def wait(self, block: int, timeout: float) -> None:
        """Until every viewer not refused has seen ``block`` (or ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.seen.get(block, {})) >= self.count - self.refused:
                return
            time.sleep(0.05)

    def _read(self) -> None:
        while not self._stop.is_set():
            ready = self.selector.select(timeout=0.2)
            now = time.monotonic()  # when this batch was there: before parsing any of it
            for key, _ in ready:
                try:
                    chunk = key.fileobj.recv(65536)  # type: ignore[union-attr]
                except (BlockingIOError, ConnectionError):
                    continue
                if not chunk:
                    self.selector.unregister(key.fileobj)
                    continue
                if chunk.startswith(b"HTTP/1.1 503 "):
                    self.refused += 1
                for block in BLOCK_FIELD.findall(chunk):  # bytes only: no JSON parse here
                    self.seen.setdefault(int(block), {}).setdefault(key.data, now)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]


def fan_out(
    node: Node, world: World, app: WebApp, campaign: Campaign, count: int
) -> dict[str, Any]:
    """Open ``count`` viewers; BLOCKS times, mine a block with a pledge and time each
    viewer's update naming it."""
    viewers = Viewers(app.port, campaign.id, count)
    viewers.wait(int(node.w3.eth.block_number), UPDATE_TIMEOUT)  # each has its first event
    memory = app.memory_mb()
    latencies: list[float] = []
    missed = 0
    cpu = 0.0
    load = os.getloadavg()[0]
    calls_before = app.rpc_calls()
    for _ in range(BLOCKS):
        raw = _signed_pledge(node, world, campaign)
        cpu_before = app.cpu_seconds()
        mined_at = time.monotonic()
        tx_hash = node.w3.eth.send_raw_transaction(raw)  # anvil mines it at once
        receipt = node.w3.eth.wait_for_transaction_receipt(tx_hash, 30, poll_latency=0.02)
        block = int(receipt["blockNumber"])
        viewers.wait(block, UPDATE_TIMEOUT)
        cpu += app.cpu_seconds() - cpu_before
        time.sleep(max(0.0, mined_at + BLOCK_SECONDS - time.monotonic()))
        seen = viewers.seen.get(block, {})
        latencies += [t - mined_at for t in seen.values()]
        missed += count - viewers.refused - len(seen)
    calls = app.rpc_calls() - calls_before - 1  # the health call itself is not an RPC call
    viewers.close()
    _until_gone(app)
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
        "server_memory_mb": round(memory, 1),
        # The server's CPU time from a block to its last viewer: what the latency would
        # be past the poll on an idle core (others' work on a shared machine adds to it).
        "server_cpu_ms_per_block": round(1000 * cpu / BLOCKS, 1),
        "load_average": round(load, 2),  # the machine's, when this step began
    }


def _signed_pledge(node: Node, world: World, campaign: Campaign) -> bytes:
    """A direct pledge from a fresh, funded pledge account, signed and not yet sent."""
    keys, sealed = world.sealed(campaign, len(campaign.secrets) + 1)
    account = Account.from_key(keys.account_key)
    node.call("anvil_setBalance", [account.address, hex(10**18)])
    w3 = node.w3
    tx = world.registry.contract.functions.pledge(campaign.id, sealed.as_abi()).build_transaction(
        {"from": account.address, "nonce": 0, "chainId": int(w3.eth.chain_id)}
    )
    campaign.secrets.append(keys.secret)
    return bytes(account.sign_transaction(tx).raw_transaction)


def _until_gone(app: WebApp, timeout: float = 60.0) -> None:
    """Until the server has let every closed viewer go."""
    deadline = time.monotonic() + timeout
    while app.health().get("liveViewers", 0) and time.monotonic() < deadline:
        time.sleep(0.2)


def open_files(viewers: int) -> dict[str, int]:
    """Raise this process's soft open-file limit to hold ``viewers`` sockets; both limits."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = viewers + 512
    if soft != resource.RLIM_INFINITY and soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return {"soft": int(soft), "hard": int(hard)}


def measure(viewers: int = VIEWERS, *, quick: bool = False) -> dict[str, Any]:
    """All web figures, against a fresh anvil and `spartacus serve`."""
    results: dict[str, Any] = {"open_files": open_files(viewers)}
    with anvil() as node, tempfile.TemporaryDirectory(prefix="spartacus-web-") as home:
        world = World.build(node)
        campaign = world.create(threshold=50)
        app = WebApp(node, world.registry.address, home, viewers)
        try:
            results["page"] = page_latency(app.url, f"/c/{campaign.id}", quick)
            results["api"] = page_latency(app.url, f"/api/campaigns/{campaign.id}", quick)
            steps = (0, viewers) if quick else (0, 100, viewers)
            results["fan_out"] = [fan_out(node, world, app, campaign, n) for n in steps]
        finally:
            app.stop()
            world.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("viewers", type=int, nargs="?", default=VIEWERS)
    parser.add_argument("--quick", action="store_true", help="fewer requests and steps")
    args = parser.parse_args()
    print(json.dumps(measure(args.viewers, quick=args.quick), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
