"""The static copy (`spartacus export-site`) in Chromium: served by a plain static file
server on loopback, or opened from a file (the --single-file copy), it reads the chain from
anvil itself and sends through the Flask app's relayer. A campaign is created on the static
page, two people join, the campaign reveals, both read the roster; every request the browser
makes goes to the static server (or the file), the node or the relayer, and nowhere else.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.cli.conftest import Spartacus

from .conftest import Site
from .test_browser import CONTACTS, INSTRUCTIONS, NAMES, TIMEOUT, join, open_page

# The file server's own log lines go nowhere: the test reads what the browser asked for.
Quiet = type("Quiet", (SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})


@dataclass
class Copy:
    url: str  # the page
    rpc: str  # the node it reads
    chunk: int  # the most blocks one eth_getLogs may cover
    refused: list[int] | None = None  # the ranges the capped node refused (if capped)


CAP = 3  # blocks per eth_getLogs the capped node answers


class CappedNode(BaseHTTPRequestHandler):
    """A JSON-RPC node in front of anvil that refuses eth_getLogs over more than CAP blocks,
    as hosted providers refuse wide ranges; answers CORS like anvil does."""

    upstream = ""
    refused: list[int] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _headers(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Headers", "content-type")
        self.send_header("Content-Type", "application/json")

    def do_OPTIONS(self) -> None:  # noqa: N802 - the handler's naming
        self._headers(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802 - the handler's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = self._refusal(json.loads(body))
        if answer is None:
            headers = {"Content-Type": "application/json"}
            answer = requests.post(self.upstream, data=body, headers=headers, timeout=30).content
        self._headers(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def _refusal(self, call: dict[str, Any]) -> bytes | None:
        if call.get("method") != "eth_getLogs":
            return None
        (query,) = call["params"]
        width = int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1
        if width <= CAP:
            return None
        self.refused.append(width)
        error = {"code": -32005, "message": f"block range too large: at most {CAP}"}
        return json.dumps({"jsonrpc": "2.0", "id": call["id"], "error": error}).encode()


def serve(handler: Any) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(params=["http", "file", "capped-node"])
def static_copy(
    spartacus: Spartacus, site: Site, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Copy]:
    """The exported folder served by Python's http.server (reading anvil three blocks at a
    time, or through a node that refuses more than three: the page halves what is refused),
    or the single-file copy opened from a file URL (Chromium loads no module script and no
    integrity-checked file from file://, so that copy carries them inline)."""
    folder = tmp_path / "copy"
    export = ["export-site", str(folder), "--relayer", site.url]
    if request.param == "file":
        spartacus.ok(*export, "--single-file")
        assert sorted(p.name for p in folder.iterdir()) == ["index.html", "manifest.json"]
        yield Copy((folder / "index.html").as_uri(), spartacus.rpc, 2000)
        return
    servers = []
    if request.param == "capped-node":

        class Capped(CappedNode):
            upstream = spartacus.rpc
            refused: list[int] = []

        node, rpc = serve(Capped)
        servers.append(node)
        spartacus.ok(*export, "--public-rpc", rpc)
        copy = Copy("", rpc, CAP, Capped.refused)
    else:
        spartacus.ok(*export, "--log-chunk", str(CAP))
        copy = Copy("", spartacus.rpc, CAP)
    files, url = serve(functools.partial(Quiet, directory=str(folder)))
    servers.append(files)
    copy.url = url + "/"
    yield copy
    for server in servers:
        server.shutdown()
        server.server_close()


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"  # "file://" for any file


def visitor(browser: Browser, origins: list[str], ranges: list[int]) -> BrowserContext:
    """A person's browser; records each request's origin and each eth_getLogs range asked."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(TIMEOUT)

    def record(request: Any) -> None:
        origins.append(origin(request.url) if "://" in request.url else request.url)
        body = request.post_data or ""
        if '"eth_getLogs"' in body:
            (query,) = json.loads(body)["params"]
            ranges.append(int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1)

    context.on("request", record)
    return context


def read_roster(page: Page, code: str | None, members: int) -> list[tuple[str, ...]]:
    """Read the roster (with ``code``, or the one kept in this browser) until every member's
    row is there: the custodian's daemon releases on its own schedule."""
    if code is not None:
        page.fill("#roster-code", code)
    rows = page.locator("#roster-table tbody tr")
    for _ in range(60):
        page.click("#roster-submit")
        expect(page.locator("#roster-result")).to_be_visible()
        if page.locator("#roster-missing").is_hidden() and rows.count() == members:
            break
        page.wait_for_timeout(1000)
    return [tuple(cell.inner_text() for cell in row.locator("td").all()) for row in rows.all()]


def test_the_static_copy_creates_joins_reveals_and_reads_the_roster(
    browser: Browser, site: Site, spartacus: Spartacus, static_copy: Copy
) -> None:
    origins: list[str] = []
    ranges: list[int] = []
    errors: list[str] = []
    custodian_url = site.state.custodians[0].url
    copy = static_copy

    organiser = visitor(browser, origins, ranges)
    create = open_page(organiser, f"{copy.url}#/create", errors)
    expect(create.locator("#config-rpc")).to_have_value(copy.rpc)
    create.fill("#create-title", "Fix the heating")
    create.fill("#create-plan", "We write to facilities together.")
    create.fill("#create-instructions", INSTRUCTIONS)
    create.fill("#create-threshold", "2")
    create.fill("#create-days", "7")
    create.fill("#create-grace", "0")  # reveal at once: the test has no 72 hours to wait
    create.fill("#create-custodian-url", custodian_url)
    create.click("#create-submit")
    expect(create.locator("#create-open")).to_be_visible()
    organiser_code = create.locator("#receipt-code").inner_text()
    create.click("#create-open")
    expect(create.locator("#title")).to_have_text("Fix the heating")
    campaign_url = create.url
    assert campaign_url.startswith(copy.url) and "#/c/" in campaign_url

    pages: dict[str, Page] = {}
    codes: dict[str, str] = {}
    for who in ("alice", "bob"):
        pages[who] = open_page(visitor(browser, origins, ranges), campaign_url, errors)
        expect(pages[who].locator("#custodian-check")).to_contain_text("Checked in this browser")
        expect(pages[who].locator("#count")).to_have_text("0" if who == "alice" else "1")
        codes[who] = join(pages[who], who)
    for page in pages.values():
        expect(page.locator("#status")).to_have_attribute("data-status", "revealed")
        expect(page.locator("#count")).to_have_text("2")

    expected = sorted((NAMES[w], CONTACTS[w], f"{w} is in") for w in ("alice", "bob"))
    for who, page in pages.items():
        assert sorted(read_roster(page, codes[who], 2)) == expected
        expect(page.locator("#roster-instructions")).to_have_text(INSTRUCTIONS)
    home = open_page(organiser, copy.url, errors)
    expect(home.locator("#campaign-list li")).to_contain_text("2 of 2 pledges, revealed")
    assert organiser_code.startswith("sp2-")

    # The browser reached the static server, the node and the relayer; nothing else.
    allowed = {origin(copy.url), origin(copy.rpc), origin(site.url)}
    assert set(origins) - {"data:,"} <= allowed, set(origins)
    assert {origin(copy.rpc), origin(site.url)} <= set(origins)
    # The relayer got POSTs only: the pages read nothing from the Flask app.
    asked = [(method, path) for method, path, _ in site.recorder.requests]
    assert asked and all(method in ("POST", "OPTIONS") for method, _ in asked), asked
    assert errors == []
    # The chain was read in chunks: never more than --log-chunk at once, and a range the
    # capped node refused was asked again in halves until it answered.
    answered = [r for r in ranges if r <= copy.chunk]
    assert len(answered) > 1, ranges
    if copy.refused is None:
        assert max(ranges) <= copy.chunk, ranges
    else:
        assert copy.refused and sorted(copy.refused) == sorted(r for r in ranges if r > CAP)
    if copy.refused is None and copy.chunk == CAP:
        # The registry is older than a chunk: each campaign was walked event to event, one
        # block per call (frontend/src/chain-reader.js, walkAll).
        assert 1 in answered, ranges
