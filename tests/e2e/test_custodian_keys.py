"""A page whose custodian keys were swapped refuses to seal (issue #13, item 3).

The page reads the campaign's custodian keys from the site's API; a lying node behind the
site (tests/web/test_custodian_directory.py drives one) makes that answer carry the
attacker's key. Here Playwright swaps the key in the API's answer itself, which is what the
page sees in both cases. The page checks each key against the endorsement signature its
CustodianAssigned log carries (v2) before it seals anything: it refuses, names the custodian
and says nothing was sent; no receipt is made or kept and nothing is posted. The same person
on the same site without the swap joins.
"""

from __future__ import annotations

import json
from typing import Any

import nacl.bindings as sodium
from playwright.sync_api import Browser, Page, Route, expect

from tests.cli.conftest import Spartacus

from .conftest import Site

TIMEOUT = 60_000


CHECK_TIMEOUT = 20_000  # ms


def _campaign(spartacus: Spartacus, site: Site) -> int:
    url = site.state.custodians[0].url
    created = spartacus.ok(
        "create", "--title", "Fix the heating", "--instructions", "Monday 9:00",
        "--threshold", "3", "--deadline", "7d", "--custodian", url,
        role="creator", dev=1,
    )  # fmt: skip
    return int(created["campaign"])


def _open(browser: Browser, site: Site, campaign: int, swap: bytes | None) -> Page:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.on("pageerror", lambda e: site.errors.append(str(e)))

    def lie(route: Route) -> None:
        response = route.fetch()
        body: dict[str, Any] = response.json()
        assert swap is not None
        body["custodians"][0]["campaignKey"] = "0x" + swap.hex()
        route.fulfill(response=response, body=json.dumps(body))

    if swap is not None:
        page.route(f"{site.url}/api/campaigns/{campaign}", lie)
    page.goto(f"{site.url}/c/{campaign}")
    return page


def _join(page: Page) -> None:
    page.fill("#join-name", "Alice Martin")
    page.fill("#join-contact", "alice@example.org")
    page.click("#join-submit")


def test_a_page_with_swapped_custodian_keys_refuses_to_seal(
    browser: Browser, site: Site, spartacus: Spartacus
) -> None:
    campaign = _campaign(spartacus, site)
    attacker, _ = sodium.crypto_box_keypair()
    custodian = site.state.registry.info(campaign).custodians[0]

    page = _open(browser, site, campaign, attacker)
    check = page.locator("#custodian-check")
    # The check waits for the page's script and an API answer: slow on a loaded CI machine.
    expect(check).to_contain_text("was not signed by this custodian", timeout=CHECK_TIMEOUT)
    expect(check).to_be_visible()  # the folded custodians' box opens on a failed check
    _join(page)
    error = page.locator("#join-error")
    expect(error).to_contain_text(f"Custodian 1 ({custodian})")
    expect(error).to_contain_text(f"the key this site served (0x{attacker.hex()})")
    expect(error).to_contain_text("was not signed by this custodian")
    expect(error).to_contain_text("may be lying. Nothing was sealed or sent")
    expect(page.locator("#receipt")).to_be_hidden()
    page.screenshot(path=str(site.shots / "swapped-key-refused.png"), full_page=True)
    assert "sp2-" not in page.evaluate("() => JSON.stringify(localStorage)")  # no receipt kept
    posted = [p for m, p, _ in site.recorder.requests if m == "POST"]
    assert posted == []
    assert site.state.registry.info(campaign).pledges == 0

    # The same site, the keys as the chain holds them: checked, and the pledge lands.
    honest = _open(browser, site, campaign, None)
    expect(honest.locator("#custodian-check")).to_contain_text(
        "Checked in this browser", timeout=CHECK_TIMEOUT
    )
    _join(honest)
    expect(honest.locator("#join-progress")).to_contain_text("You have joined")
    assert site.state.registry.info(campaign).pledges == 1
    assert site.errors == []
