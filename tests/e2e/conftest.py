"""End-to-end: Debian's Chromium, driven by Playwright, against the web app and anvil.

Everything is real: anvil over JSON-RPC, the custodian's `spartacus watch` daemon as a
process (it issues the campaign key over HTTP and releases at the reveal), and the web
app under waitress, as `spartacus serve` runs it. A WSGI wrapper keeps every request body
the server receives, so tests can check that no plaintext contact ever reached it.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import waitress
from playwright.sync_api import Browser, expect, sync_playwright

from spartacus.cli.context import dev_account
from spartacus.web import WebState, create_app
from tests.cli import conftest as cli
from tests.custodian import conftest as watcher
from tests.custodian.conftest import Daemon, wait_until

anvil_rpc = cli.anvil_rpc
w3 = cli.w3
spartacus = cli.spartacus
travel = cli.travel
make_custodians = cli.make_custodians
create_campaign = cli.create_campaign
daemons = watcher.daemons

# Every page step waits on a relayed transaction, the site's poller or the daemon: 5 s (the
# default) is too short on a 2-core machine running a browser, anvil and daemons at once.
expect.set_options(timeout=20_000)

CHROMIUM = os.environ.get("SPARTACUS_CHROMIUM", "/usr/bin/chromium")
OUT = Path(__file__).resolve().parents[2] / "out" / "e2e"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BodyRecorder:
    """WSGI middleware that keeps (method, path, body) of every request it passes on."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str, bytes]] = []
        # Everything of each request as the server got it: request line, headers, body.
        self.raw: list[bytes] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        import io

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        self.requests.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), body))
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        line = f"{environ['REQUEST_METHOD']} {path}?{query}"
        headers = [f"{k}: {v}" for k, v in environ.items() if k.startswith("HTTP_")]
        self.raw.append("\n".join([line, *headers]).encode() + b"\n\n" + body)
        return self.app(environ, start_response)


@dataclass
class Site:
    url: str
    state: WebState
    recorder: BodyRecorder
    daemon: Daemon
    shots: Path
    errors: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)  # "METHOD url" of every browser request

    def bodies(self) -> list[bytes]:
        return [body for _, _, body in self.recorder.requests]


@pytest.fixture
def site(
    spartacus: cli.Spartacus,
    make_custodians: Callable[[int], list[cli.CustodianRole]],
    daemons: Callable[..., Daemon],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Site]:
    (custodian,) = make_custodians(1)
    listen = _free_port()
    daemon = daemons(custodian, "--listen", str(listen))
    wait_until(
        lambda: _answers(f"http://127.0.0.1:{listen}/health"), "the custodian's endpoint", daemon
    )
    app = create_app(
        {
            "RPC": spartacus.rpc,
            "REGISTRY": spartacus.registry,
            "HOME": str(tmp_path / "web"),
            "RELAYER_KEY": dev_account(6),
            "CUSTODIANS": f"Test custodian=http://127.0.0.1:{listen}",
            "ALLOW_PRIVATE_CUSTODIAN_URLS": True,
            "POLL_INTERVAL": 0.3,
        }
    )
    state: WebState = app.extensions["spartacus"]
    state.start()
    recorder = BodyRecorder(app)
    server = waitress.create_server(recorder, host="127.0.0.1", port=0, threads=24)
    port = server.effective_port  # type: ignore[union-attr]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    shots = OUT / request.node.name
    shots.mkdir(parents=True, exist_ok=True)
    yield Site(f"http://127.0.0.1:{port}", state, recorder, daemon, shots)
    state.stop()
    server.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code < 500
    except requests.RequestException:
        return False


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"Chromium is not at {CHROMIUM}: `make test` installs Debian's package "
            "(apt-get install chromium), or set SPARTACUS_CHROMIUM"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()
