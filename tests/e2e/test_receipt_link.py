"""Receipts people keep (issue 16, item 4), in Chromium.

A private link carries the receipt code in the URL fragment: it is offered to bookmark, to
the share sheet (navigator.share) and by e-mail to oneself (a mailto: link the person
opens). Opened in a fresh browser context it restores the receipt (withdraw and roster
ready) and takes the code out of the address bar; the server never receives the code, in
any URL, header or body. "My campaigns" on the home page lists only the codes the person
chose to keep in this browser, with each campaign's live status.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Browser, Page, expect

from .conftest import Site
from .test_accessibility import AXE, violations
from .test_browser import TIMEOUT
from .test_receipts import new_campaign

SHARE_SHEET = """navigator.share = async (data) => {
  window.__shared = JSON.parse(JSON.stringify(data));
};"""


def kept(page: Page) -> list[str]:
    stored = json.loads(page.evaluate("localStorage.getItem('spartacus.receipts') || '{}'"))
    return [r["code"] for slot in stored.values() for r in slot]


def test_the_receipt_link_restores_the_receipt_in_a_fresh_context(
    browser: Browser, site: Site
) -> None:
    url = new_campaign(browser, site)
    campaign_id = int(url.rsplit("/", 1)[1])
    requested: list[str] = []

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    phone.set_default_timeout(TIMEOUT)
    phone.add_init_script(SHARE_SHEET)
    phone.on("request", lambda r: requested.append(r.url))
    page = phone.new_page()
    page.goto(url)
    page.fill("#join-name", "Farid Haddad")
    page.fill("#join-contact", "farid@example.org")
    page.click("#join-submit")  # "keep in this browser" left unticked
    expect(page.locator("#join-progress")).to_contain_text("You have joined", timeout=TIMEOUT)
    code = page.locator("#receipt-code").inner_text()
    link = f"{url}#receipt={code}"
    expect(page.locator("#receipt-link")).to_have_attribute("href", link)
    assert kept(page) == []

    # E-mail to oneself: a mailto: link with no recipient and the link in the body.
    mail = page.locator("#receipt-mail").get_attribute("href")
    assert mail is not None and mail.startswith("mailto:?")
    (body,) = parse_qs(urlsplit(mail).query)["body"]
    assert link in body.splitlines()
    # The share sheet, where the browser has one, gets the link.
    page.click("#receipt-share")
    assert page.evaluate("window.__shared.url") == link
    # Clicking the link on its own page (a jump within the page) leaves no code behind
    # in the address bar either.
    page.click("#receipt-link")
    page.wait_for_function("location.href.indexOf('#') === -1")
    expect(page.locator("#withdraw-code")).to_have_value(code)
    phone.close()

    # Another browser (nothing stored, nothing shared with the first) opens the link.
    fresh = browser.new_context()
    fresh.set_default_timeout(TIMEOUT)
    fresh.add_init_script(path=str(AXE))
    fresh.on("request", lambda r: requested.append(r.url))
    page = fresh.new_page()
    page.goto(link)
    expect(page.locator("#receipt-code")).to_have_text(code)
    expect(page.locator("#withdraw-code")).to_have_value(code)
    expect(page.locator("#roster-code")).to_have_value(code)
    assert "#" not in page.url and page.evaluate("location.hash") == ""
    # The tab's blank start and this page: the entry was replaced, not pushed after one
    # that keeps the fragment for the Back button.
    assert page.evaluate("history.length") == 2
    assert kept(page) == []  # storage stays opt-in
    expect(page.locator("#receipt-keep")).to_be_visible()
    found = violations(page, "receipt restored from its link")
    page.click("#receipt-keep")
    assert kept(page) == [code]
    expect(page.locator("#receipt-keep")).to_be_hidden()

    # The home page lists it, with its campaign's live status.
    home = fresh.new_page()
    home.goto(site.url + "/")
    mine = home.locator(f"#my-campaigns-list li[data-campaign='{campaign_id}']")
    expect(mine).to_contain_text("Ask for a bike shed")
    expect(mine.locator(".my-status")).to_have_text("1 of 5 · open")
    expect(home.locator("#my-campaigns-list li")).to_have_count(1)
    found += violations(home, "home, my campaigns")
    assert found == [], found

    # The restored receipt withdraws; the home page's status follows without a reload.
    page.click("#withdraw-submit")
    expect(page.locator("#withdraw-result")).to_contain_text(
        "Your pledge is withdrawn", timeout=TIMEOUT
    )
    expect(mine.locator(".my-status")).to_have_text("0 of 5 · open", timeout=TIMEOUT)
    assert site.state.registry.info(campaign_id).active == 0

    # The server never received the code: not in a URL, a header (Referer) or a body.
    received = b"\n".join(site.recorder.raw)
    assert code.encode() not in received
    assert code.split("-")[-1].encode() not in received
    assert [u for u in requested if code in u] == []


def test_my_campaigns_lists_only_codes_kept_by_choice(browser: Browser, site: Site) -> None:
    """A code joined without ticking "keep" is not listed; the home page shows no
    "my campaigns" at all until one is kept."""
    url = new_campaign(browser, site)
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(url)
    page.fill("#join-name", "Gina Rossi")
    page.fill("#join-contact", "gina@example.org")
    page.click("#join-submit")
    expect(page.locator("#join-progress")).to_contain_text("You have joined", timeout=TIMEOUT)
    page.goto(site.url + "/")
    expect(page.locator("#open-heading")).to_be_visible()
    expect(page.locator("#my-campaigns")).to_be_hidden()
    assert page.locator("#my-campaigns-list li").count() == 0
    context.close()
