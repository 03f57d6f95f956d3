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
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.cli.conftest import Spartacus

from .conftest import Site
from .test_browser import CONTACTS, INSTRUCTIONS, NAMES, TIMEOUT, join, open_page

# The file server's own log lines go nowhere: the test reads what the browser asked for.
Quiet = type("Quiet", (SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})


@pytest.fixture(params=["http", "file"])
def static_copy(
    spartacus: Spartacus, site: Site, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """The exported folder served by Python's http.server, or the single-file copy opened
    from a file URL (Chromium loads no module script and no integrity-checked file from
    file://, so that copy carries them inline); yields the page's URL."""
    folder = tmp_path / "copy"
    if request.param == "file":
        spartacus.ok("export-site", str(folder), "--relayer", site.url, "--single-file")
        assert sorted(p.name for p in folder.iterdir()) == ["index.html", "manifest.json"]
        yield (folder / "index.html").as_uri()
        return
    # Three blocks per eth_getLogs: the page reads the chain in many chunks.
    spartacus.ok("export-site", str(folder), "--relayer", site.url, "--log-chunk", "3")
    handler = functools.partial(Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
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


def read_roster(page: Page, code: str, members: int) -> list[tuple[str, ...]]:
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
    browser: Browser, site: Site, spartacus: Spartacus, static_copy: str
) -> None:
    origins: list[str] = []
    ranges: list[int] = []
    errors: list[str] = []
    custodian_url = site.state.custodians[0].url

    organiser = visitor(browser, origins, ranges)
    create = open_page(organiser, f"{static_copy}#/create", errors)
    expect(create.locator("#config-rpc")).to_have_value(spartacus.rpc)
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
    assert campaign_url.startswith(static_copy) and "#/c/" in campaign_url

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
    home = open_page(organiser, static_copy, errors)
    expect(home.locator("#campaign-list li")).to_contain_text("2 of 2 pledges, revealed")
    assert organiser_code.startswith("sp1-")

    # The browser reached the static server, the node and the relayer; nothing else.
    allowed = {origin(static_copy), origin(spartacus.rpc), origin(site.url)}
    assert set(origins) - {"data:,"} <= allowed, set(origins)
    assert {origin(spartacus.rpc), origin(site.url)} <= set(origins)
    # The relayer got POSTs only: the pages read nothing from the Flask app.
    asked = [(method, path) for method, path, _ in site.recorder.requests]
    assert asked and all(method in ("POST", "OPTIONS") for method, _ in asked), asked
    assert errors == []
    # The chain was read in chunks: never more than the export's --log-chunk at once.
    chunk = 3 if static_copy.startswith("http") else 2000
    assert len(ranges) > 1 and max(ranges) <= chunk, ranges
    if chunk == 3:
        assert ranges.count(3) >= 2, ranges
