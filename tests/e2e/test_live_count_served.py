"""The campaign page's live count in Chromium, from `spartacus serve` as operators run it:
the page's EventSource reads the stream that uvicorn's event loop serves (web/server.py,
web/live.py), and the count moves when a pledge lands, with no polling."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, expect

from tests.cli.conftest import Spartacus, create_campaign, pledge  # noqa: F401 - fixture
from tests.web.test_live_viewers import read_by, start_serve


def test_the_page_count_moves_from_the_event_loop_stream(
    browser: Browser,
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, Any]],  # noqa: F811
    tmp_path: Path,
) -> None:
    campaign, _ = create_campaign(threshold=10)
    app, url = start_serve(spartacus, spartacus.rpc, tmp_path / "web")
    try:
        read_by(url, campaign)
        page = browser.new_page()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto(f"{url}/c/{campaign}")
        expect(page.locator("#count")).to_have_text("0", timeout=60_000)
        pledge(spartacus, campaign, "Zed", dev=4)
        expect(page.locator("#count")).to_have_text("1", timeout=60_000)
        api = [u.removeprefix(url) for u in asked if "/api/" in u]
        assert f"/api/campaigns/{campaign}/events" in api
        assert api.count(f"/api/campaigns/{campaign}") <= 1  # the page's first read, no polls
        page.close()
    finally:
        app.terminate()
        app.wait(timeout=60)
