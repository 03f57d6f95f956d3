"""The campaign page on a phone (390 px wide, issue #16 item 3) and form errors tied to
their fields (item 9), in Chromium.

The first screen shows what the campaign is, its count and Join; the terms and custodians
are folded one tap away; only the actions that apply in each state are shown (open,
revealed, expired), with a "Revealed" banner; a member whose receipt is in the browser sees
the roster appear by itself when the reveal happens on the chain, without reloading. axe
checks each of these states at 390 and 1280 px.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from .conftest import Site
from .test_accessibility import AXE, violations
from .test_browser import TIMEOUT, join, person

PHONE: ViewportSize = {"width": 390, "height": 844}
DESCRIPTION = (
    "The third floor has been cold since October. Facilities answer one person at a time; "
    "they will have to answer all of us."
)


def create(page: Page, site: Site, title: str, days: str = "7") -> str:
    """Create a campaign of threshold 2 (no grace) through the create form; its page's URL."""
    page.goto(f"{site.url}/create")
    page.fill("#create-title", title)
    page.fill("#create-description", DESCRIPTION)
    page.fill("#create-plan", "We write to facilities together, signed by every member.")
    page.fill("#create-instructions", "Monday 9:00, canteen.")
    page.fill("#create-threshold", "2")
    page.fill("#create-days", days)
    page.fill("#create-grace", "0")
    page.click("#create-submit")
    expect(page.locator("#create-open")).to_be_visible(timeout=TIMEOUT)
    page.click("#create-open")
    expect(page.locator("h1")).to_have_text(title)
    return page.url


def on_first_screen(locator: Locator) -> None:
    """``locator`` is visible and wholly inside the viewport, without scrolling."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    viewport = locator.page.viewport_size
    assert box is not None and viewport is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (box, viewport)
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (box, viewport)


def phone(browser: Browser, site: Site, third_party: list[str], url: str | None = None) -> Page:
    """A new person's page on a phone (axe at hand), at ``url`` if given."""
    context = person(browser, site, third_party)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_viewport_size(PHONE)
    if url:
        page.goto(url)
    return page


def test_the_phone_page_shows_count_and_join_first_and_only_the_actions_that_apply(
    browser: Browser, site: Site, travel: Callable[[int], None]
) -> None:
    third_party: list[str] = []
    found: list[dict[str, Any]] = []
    campaign_url = create(phone(browser, site, third_party), site, "Fix the heating")

    # Open, seen by a visitor: title, count and Join on the first screen at 390 px.
    visitor = phone(browser, site, third_party, campaign_url)
    expect(visitor.locator("#status")).to_have_attribute("data-status", "open")
    for selector in ("h1", "#count", "#join-now"):
        on_first_screen(visitor.locator(selector))
    expect(visitor.locator("#join-now")).to_have_text("Join")
    # Terms and custodians folded, one tap away.
    for fold, inside in (("#terms", "#terms dl"), ("#custodians", "#custodians ul")):
        expect(visitor.locator(inside)).to_be_hidden()
        visitor.click(f"{fold} summary")
        expect(visitor.locator(inside)).to_be_visible()
    # No receipt in this browser: no Withdraw; not revealed: no roster, no banner.
    expect(visitor.locator("#withdraw-submit")).to_be_hidden()
    expect(visitor.locator("#roster-section")).to_be_hidden()
    expect(visitor.locator("#revealed-banner")).to_be_hidden()
    visitor.click("#join-now")
    expect(visitor.locator("#join-name")).to_be_focused()
    expect(visitor.locator("#join-submit")).to_be_visible()
    found += violations(visitor, "phone page, open")
    visitor.set_viewport_size(PHONE)

    # A member keeps her receipt here: Withdraw applies to her, unfolded.
    alice = phone(browser, site, third_party, campaign_url)
    join(alice, "alice", keep=True)
    alice.reload()
    expect(alice.locator("#withdraw-submit")).to_be_visible()
    expect(alice.locator("#withdraw-stored-field")).to_be_visible()
    found += violations(alice, "phone page, member before the reveal")
    alice.set_viewport_size(PHONE)

    # Bob's pledge reveals it on the chain while Alice's page stays open: the banner and
    # her roster (both members) appear by themselves, with no reload and no click.
    bob = phone(browser, site, third_party, campaign_url)
    join(bob, "bob")
    expect(alice.locator("#revealed-banner")).to_be_visible(timeout=TIMEOUT)
    expect(alice.locator("#status")).to_have_attribute("data-status", "revealed")
    expect(alice.locator("#roster-table tbody tr")).to_have_count(2, timeout=TIMEOUT)
    expect(alice.locator("#roster-missing")).to_be_hidden(timeout=TIMEOUT)
    expect(alice.locator("#roster-table")).to_contain_text("Bob Okafor")
    expect(alice.locator("#withdraw-section")).to_be_hidden()
    expect(alice.locator("#join-now")).to_be_hidden()
    found += violations(alice, "phone page, member's roster after the reveal")

    # Revealed, seen afresh: the banner first, no Join, no Withdraw, the roster form.
    visitor = phone(browser, site, third_party, campaign_url)
    on_first_screen(visitor.locator("#revealed-banner"))
    expect(visitor.locator("#join-now")).to_be_hidden()
    expect(visitor.locator("#join-section")).to_be_hidden()
    expect(visitor.locator("#withdraw-section")).to_be_hidden()
    expect(visitor.locator("#roster-submit")).to_be_visible()
    found += violations(visitor, "phone page, revealed")

    # Expired: nothing to do but read why.
    expiring = create(phone(browser, site, third_party), site, "Ask for a bike shed", days="1")
    travel(2 * 86_400)
    visitor = phone(browser, site, third_party, expiring)
    expect(visitor.locator("#status")).to_have_attribute("data-status", "expired")
    on_first_screen(visitor.locator("#count"))
    expect(visitor.locator("#join-closed")).to_be_visible()
    for gone in ("#join-now", "#join-section", "#withdraw-section", "#roster-section"):
        expect(visitor.locator(gone)).to_be_hidden()
    expect(visitor.locator("#revealed-banner")).to_be_hidden()
    found += violations(visitor, "phone page, expired")

    assert found == [], "\n".join(
        f"{v['state']} at {v['width']} px: {v['rule']} ({v['impact']}): {v['help']} at {v['where']}"
        for v in found
    )
    assert third_party == []


def invalid(page: Page, field: str, error: str) -> None:
    """``field`` is marked invalid, described by the message in ``error``, and focused."""
    expect(page.locator(error)).to_be_visible()
    expect(page.locator(error)).not_to_be_empty()
    expect(page.locator(field)).to_have_attribute("aria-invalid", "true")
    described = page.locator(field).get_attribute("aria-describedby") or ""
    assert error.lstrip("#") in described.split(), (field, described)
    expect(page.locator(field)).to_be_focused()


def test_form_errors_are_tied_to_their_fields(browser: Browser, site: Site) -> None:
    third_party: list[str] = []
    page = phone(browser, site, third_party)
    found: list[dict[str, Any]] = []

    # The create form: an empty required field, a threshold under the registry's minimum,
    # and a title the site refuses (too many bytes), each on its own field.
    page.goto(f"{site.url}/create")
    page.fill("#create-instructions", "Meet on Friday")
    page.click("#create-submit")
    invalid(page, "#create-title", "#create-error")
    found += violations(page, "create form, a field refused")
    page.fill("#create-title", "Fix the heating")
    expect(page.locator("#create-title")).not_to_have_attribute("aria-invalid", "true")
    page.fill("#create-threshold", "1")
    page.click("#create-submit")
    invalid(page, "#create-threshold", "#create-error")
    page.fill("#create-threshold", "2")
    page.fill("#create-title", "é" * 150)  # fits the field, not the registry
    page.click("#create-submit")
    invalid(page, "#create-title", "#create-error")
    expect(page.locator("#create-error")).to_contain_text("title")
    expect(page.locator("#create-threshold")).not_to_have_attribute("aria-invalid", "true")
    campaign_url = create(page, site, "Fix the heating")

    # The join form: the name is required; the e-mail box wants an e-mail address.
    page.goto(campaign_url)
    page.click("#join-submit")
    invalid(page, "#join-name", "#join-error")
    found += violations(page, "join form, a field refused")
    page.fill("#join-name", "Alice Martin")
    page.fill("#join-contact", "+33 6 12 34 56 78")
    page.check("#join-mail")
    page.click("#join-submit")
    invalid(page, "#join-contact", "#join-error")
    expect(page.locator("#join-name")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#receipt")).to_be_hidden()

    # The withdraw form: no code, then a damaged one.
    page.click("#withdraw-details summary")
    page.click("#withdraw-submit")
    invalid(page, "#withdraw-code", "#withdraw-error")
    page.fill("#withdraw-code", "sp2-1-NOTACODE")
    page.click("#withdraw-submit")
    invalid(page, "#withdraw-code", "#withdraw-error")
    found += violations(page, "withdraw form, a field refused")
    assert found == [], found
    assert third_party == []
