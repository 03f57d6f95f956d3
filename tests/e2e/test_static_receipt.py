"""The static copy's private receipt link, pledge-rate chart and report link, in Chromium.

The receipt link has the Flask pages' fragment, ``#receipt=<code>``, on the copy's own page:
opened in a fresh browser it shows the campaign the code names with the receipt ready, takes
the code out of the address bar (leaving the route ``#/c/<id>``), and withdraws; no request
carries the code. The chart is drawn from the pledges' block times, read from the node. The
report link opens the relayer's report form, and a copy without a relayer has none.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, expect

from tests.cli.conftest import Spartacus

from .conftest import Site
from .test_browser import TIMEOUT, join, open_page
from .test_receipts import new_campaign
from .test_static_copy import Quiet, serve


def test_the_static_receipt_link_restores_the_pledge_and_withdraws(
    browser: Browser, site: Site, spartacus: Spartacus, tmp_path: Path
) -> None:
    campaign_id = int(new_campaign(browser, site).rsplit("/", 1)[1])
    folder = tmp_path / "copy"
    spartacus.ok("export-site", str(folder), "--relayer", site.url)
    files, copy = serve(functools.partial(Quiet, directory=str(folder)))
    requests: list[str] = []
    errors: list[str] = []

    def record(request: Any) -> None:
        requests.append(f"{request.url} {request.post_data or ''}")

    try:
        first = browser.new_context()
        first.set_default_timeout(TIMEOUT)
        first.on("request", record)
        page = open_page(first, f"{copy}/#/c/{campaign_id}", errors)
        code = join(page, "alice")
        link = f"{copy}/#receipt={code}"
        expect(page.locator("#receipt-link")).to_have_attribute("href", link)
        expect(page.locator("#count")).to_have_text("1")
        first.close()

        fresh = browser.new_context()
        fresh.set_default_timeout(TIMEOUT)
        fresh.on("request", record)
        page = open_page(fresh, link, errors)
        expect(page.locator("#title")).to_have_text("Ask for a bike shed")
        expect(page.locator("#receipt-code")).to_have_text(code)
        expect(page.locator("#withdraw-code")).to_have_value(code)
        expect(page.locator("#roster-code")).to_have_value(code)
        assert page.url == f"{copy}/#/c/{campaign_id}"
        expect(page.locator("#share-url")).to_have_value(f"{copy}/#/c/{campaign_id}")
        page.click("#withdraw-submit")
        expect(page.locator("#withdraw-result")).to_contain_text("Your pledge is withdrawn")
        expect(page.locator("#count")).to_have_text("0")
        assert site.state.registry.info(campaign_id).active == 0

        # A fresh read draws the chart from the node: one pledge, one withdrawal.
        page.reload()
        expect(page.locator("#count")).to_have_text("0")
        line = page.locator("#rate-chart svg polyline.rate-line")
        expect(line).to_have_count(1)
        assert len((line.get_attribute("points") or "").split()) == 2
        expect(page.locator("#rate-chart svg")).to_have_attribute(
            "aria-label", "Active pledges over time: from 1 to 0"
        )

        # The report goes to the relayer's operator, on the relayer's own report form.
        report = page.locator("#report-link")
        expect(report).to_be_visible()
        expect(report).to_have_attribute("href", f"{site.url}/c/{campaign_id}/report")
        expect(page.locator("#report-host")).to_have_text(site.url.removeprefix("http://"))
        report.click()
        expect(page.locator("#report-form")).to_be_visible()
        fresh.close()
    finally:
        files.shutdown()
        files.server_close()

    assert code not in " ".join(requests)
    assert all(code.encode() not in body for body in site.bodies())
    assert errors == []


def test_a_static_copy_without_a_relayer_offers_no_report_link(
    browser: Browser, site: Site, spartacus: Spartacus, tmp_path: Path
) -> None:
    campaign_id = int(new_campaign(browser, site).rsplit("/", 1)[1])
    folder = tmp_path / "copy"
    spartacus.ok("export-site", str(folder))
    files, copy = serve(functools.partial(Quiet, directory=str(folder)))
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    try:
        page = open_page(context, f"{copy}/#/c/{campaign_id}", errors)
        expect(page.locator("#title")).to_have_text("Ask for a bike shed")
        expect(page.locator("#report-field")).to_have_count(1)
        expect(page.locator("#report-field")).to_be_hidden()
        context.close()
    finally:
        files.shutdown()
        files.server_close()
    assert errors == []
