"""The recommended proxy (deploy/Caddyfile, Debian's caddy) in front of `spartacus serve`:
with 1,000 idle half-sent requests held open, a relayed pledge and its withdrawal still
answer through it. Caddy holds the unfinished requests; the app only ever sees whole ones.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from web3 import HTTPProvider, Web3

from spartacus.chain.registry import Registry
from tests.cli.conftest import Spartacus

from .conftest import RELAYER, new_pledger, pledge_body, withdraw_body

ROOT = Path(__file__).resolve().parents[2]
CADDYFILE = ROOT / "deploy" / "Caddyfile"
SCRIPT = str(Path(sys.executable).parent / "spartacus")
HALF_OPEN = 1_000
CADDY = os.environ.get("SPARTACUS_CADDY") or shutil.which("caddy") or "/usr/bin/caddy"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    for _ in range(300):
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise AssertionError(f"{what} exited: {err[-2000:]}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what} did not answer at {url}")


@pytest.fixture
def site(spartacus: Spartacus, tmp_path: Path) -> Iterator[str]:
    """`spartacus serve` behind Caddy on loopback; yields the proxy's URL."""
    if not os.access(CADDY, os.X_OK):
        pytest.fail("caddy is not installed: run `make proxy` (Debian's caddy)")
    app_port, proxy_port = free_port(), free_port()
    app = subprocess.Popen(
        [SCRIPT, "--rpc", spartacus.rpc, "--registry", spartacus.registry,
         "--home", str(tmp_path / "web"), "--dev-account", str(RELAYER),
         "serve", "--port", str(app_port), "--trusted-proxy", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    env = dict(
        os.environ,
        SPARTACUS_SITE=f"http://127.0.0.1:{proxy_port}",
        SPARTACUS_UPSTREAM=f"127.0.0.1:{app_port}",
        SPARTACUS_READ_HEADER_TIMEOUT="10m",  # hold the half-sent requests for the whole test
        XDG_DATA_HOME=str(tmp_path / "caddy-data"),
        XDG_CONFIG_HOME=str(tmp_path / "caddy-config"),
    )
    proxy = subprocess.Popen(
        [CADDY, "run", "--adapter", "caddyfile", "--config", str(CADDYFILE)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{app_port}/api/health", app, "spartacus serve")
        url = f"http://127.0.0.1:{proxy_port}"
        wait_for(f"{url}/api/health", proxy, "caddy")
        yield url
    finally:
        for process in (proxy, app):
            process.terminate()
            process.wait(timeout=20)


class Remote:
    """What the tests' pledge and withdrawal builders ask of the app, over real HTTP."""

    def __init__(self, url: str, registry: Registry) -> None:
        self.url = url
        self.state = SimpleNamespace(registry=registry)

    def get(self, path: str) -> Any:
        answer = requests.get(self.url + path, timeout=30)
        return SimpleNamespace(get_json=answer.json)


def half_open(url: str, count: int) -> list[socket.socket]:
    """``count`` connections, each with a request whose headers never end."""
    host, port = url.removeprefix("http://").split(":")
    held = []
    for _ in range(count):
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(b"POST /api/relay/withdraw HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 200\r\n")  # fmt: skip
        held.append(s)
    return held


def still_open(s: socket.socket) -> bool:
    s.setblocking(False)
    try:
        s.recv(1, socket.MSG_PEEK)  # an answer (a 408, say), or b"" once closed
    except BlockingIOError:
        return True  # nothing to read and not closed: still waiting for its headers
    except OSError:
        pass
    return False


def test_withdraw_answers_through_the_proxy_while_1000_half_sent_requests_are_held(
    site: str, spartacus: Spartacus, create_campaign: Any
) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    registry = Registry(Web3(HTTPProvider(spartacus.rpc)), spartacus.registry)
    remote = Remote(site, registry)
    alice = new_pledger("Alice", "alice@example.org")
    for _ in range(300):  # the app's poller finds the new campaign
        if "error" not in requests.get(f"{site}/api/campaigns/{campaign_id}", timeout=30).json():
            break
        time.sleep(0.1)
    held = half_open(site, HALF_OPEN)
    try:
        pledged = requests.post(
            f"{site}/api/relay/pledge", json=pledge_body(remote, campaign_id, alice), timeout=60
        )
        assert pledged.status_code == 200, pledged.text
        left = requests.post(
            f"{site}/api/relay/withdraw",
            json=withdraw_body(remote, campaign_id, alice, 1),
            timeout=60,
        )
        assert left.status_code == 200, left.text
        assert left.json()["active"] == 0
        assert requests.get(f"{site}/api/health", timeout=30).json()["ok"] is True
        assert sum(still_open(s) for s in held) == HALF_OPEN  # all held the whole time
    finally:
        for s in held:
            s.close()
