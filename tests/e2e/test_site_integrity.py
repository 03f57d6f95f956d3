"""The integrity attributes at work in Chromium: a copy of the site that keeps the real pages
but serves a bundle changed by one byte gets that bundle refused by the browser.

A mirror (a plain static file server on loopback) serves the app's home page as it was
rendered and a copy of its static folder, as anyone may publish it (docs/web.md, "A checkable
front"). The attack: a host that changes the script for its visitors while keeping pages
whose hashes a visitor or `spartacus check-site` could compare.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from spartacus.web import create_app
from spartacus.web.site import STATIC
from tests.cli.conftest import Spartacus


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


@pytest.fixture
def mirror(spartacus: Spartacus, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    app = create_app({"RPC": spartacus.rpc, "REGISTRY": spartacus.registry,
                      "HOME": str(tmp_path / "web"), "POLL_INTERVAL": 3600.0})  # fmt: skip
    folder = tmp_path / "mirror"
    shutil.copytree(STATIC, folder / "static")
    (folder / "index.html").write_bytes(app.test_client().get("/").get_data())
    app.extensions["spartacus"].stop()
    static = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=static.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{static.server_address[1]}/"
    static.shutdown()


def test_a_bundle_changed_by_one_byte_is_refused_by_the_browser(
    browser: Browser, mirror: tuple[Path, str]
) -> None:
    folder, url = mirror
    ran = "document.documentElement.classList.contains('js')"  # the script's first act

    intact = browser.new_context()
    page = intact.new_page()
    page.goto(url)
    page.wait_for_function(ran)
    intact.close()

    bundle = folder / "static" / "dist" / "app.js"
    bundle.write_bytes(bundle.read_bytes() + b"\n")  # still valid JavaScript: only SRI stops it
    tampered = browser.new_context()
    page = tampered.new_page()
    with page.expect_console_message(lambda m: "integrity" in m.text) as message:
        page.goto(url)
    assert "static/dist/app.js" in message.value.text
    page.wait_for_load_state("load")
    assert page.evaluate(ran) is False
    tampered.close()
