"""A receipt code is never thrown away while its pledge may land (issue 13, item 5).

The page drops a code only when the site itself says that nothing was sent (its JSON
refusal: a 4xx, 502 or 503). A proxy's error page (Cloudflare's 520), a broken connection
or any wallet error may hide a pledge that landed or will land: the code stays on screen
and in the browser (when kept there), and the person is told to check before joining
again. Before this, a 520 or a wallet error made the page forget the code of a pledge that
had landed, which could then never be withdrawn.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from playwright.sync_api import Browser, Page, Route, expect

from .conftest import Site
from .test_browser import TIMEOUT

PROXY_PAGE = "<html><body>Error 520: Web server is returning an unknown error</body></html>"


def new_campaign(browser: Browser, site: Site) -> str:
    """A campaign made on the create page; its page's URL."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    create = context.new_page()
    create.goto(f"{site.url}/create")
    create.fill("#create-title", "Ask for a bike shed")
    create.fill("#create-instructions", "Meet at the gate")
    create.fill("#create-threshold", "5")
    create.click("#create-submit")
    expect(create.locator("#create-open")).to_be_visible(timeout=TIMEOUT)
    href = create.locator("#create-open").get_attribute("href")
    assert href is not None
    context.close()
    return site.url + href


def attempt(page: Page) -> str:
    """Fill the join form (keeping the code in this browser) and send it; the code shown."""
    page.fill("#join-name", "Dana Petit")
    page.fill("#join-contact", "dana@example.org")
    page.check("#join-store")
    page.click("#join-submit")
    expect(page.locator("#join-submit")).to_be_enabled(timeout=TIMEOUT)
    return page.locator("#receipt-code").inner_text()


def kept(page: Page) -> list[str]:
    """Every receipt code kept in this browser's storage."""
    stored = json.loads(page.evaluate("localStorage.getItem('spartacus.receipts') || '{}'"))
    return [r["code"] for slot in stored.values() for r in slot]


def test_an_ambiguous_relay_answer_keeps_the_receipt(browser: Browser, site: Site) -> None:
    url = new_campaign(browser, site)
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(url)
    count = page.locator("#count")
    receipt = page.locator("#receipt")
    error = page.locator("#join-error")

    # The site's own refusal (503, JSON): nothing was sent, so the code is dropped.
    def restarting(route: Route) -> None:
        body = json.dumps({"error": "the relayer is restarting; try again in a moment"})
        route.fulfill(status=503, content_type="application/json", body=body)

    page.route("**/api/relay/pledge", restarting)
    code = attempt(page)
    expect(error).to_contain_text("You have not joined", timeout=TIMEOUT)
    expect(receipt).to_be_hidden(timeout=TIMEOUT)
    assert code not in kept(page)
    page.unroute("**/api/relay/pledge")

    # A proxy's 520 page, the request never passed on; then a connection reset: either may
    # hide a pledge that lands, so the code stays shown and kept, with what to do.
    unsure = []
    for answer in (
        lambda route: route.fulfill(status=520, content_type="text/html", body=PROXY_PAGE),
        lambda route: route.abort("connectionreset"),
    ):
        page.route("**/api/relay/pledge", answer)
        unsure.append(attempt(page))
        expect(error).to_contain_text("may still be recorded", timeout=TIMEOUT)
        expect(error).to_contain_text("before joining again", timeout=TIMEOUT)
        expect(receipt).to_be_visible(timeout=TIMEOUT)
        expect(page.locator("#receipt-code")).to_have_text(unsure[-1], timeout=TIMEOUT)
        page.unroute("**/api/relay/pledge")
    assert set(unsure) <= set(kept(page))
    assert site.state.registry.info(int(url.rsplit("/", 1)[1])).active == 0

    # Passed on to the site and recorded, but a proxy's 520 came back instead of the answer:
    # the page keeps the code and finds the pledge recorded.
    def lost_answer(route: Route) -> None:
        route.fetch()
        route.fulfill(status=520, content_type="text/html", body=PROXY_PAGE)

    page.route("**/api/relay/pledge", lost_answer)
    landed = attempt(page)
    expect(page.locator("#join-progress")).to_contain_text("You have joined", timeout=TIMEOUT)
    expect(receipt).to_be_visible(timeout=TIMEOUT)
    assert landed in kept(page)
    expect(count).to_have_text("1", timeout=TIMEOUT)

    # And the kept code is what lets the person leave.
    page.reload()
    page.fill("#withdraw-code", landed)
    page.click("#withdraw-submit")
    expect(page.locator("#withdraw-result")).to_contain_text(
        "Your pledge is withdrawn", timeout=TIMEOUT
    )
    expect(count).to_have_text("0", timeout=TIMEOUT)
    assert landed not in kept(page)
    context.close()


def test_a_wallet_error_keeps_the_receipt(browser: Browser, site: Site) -> None:
    """A wallet that sends the pledge and then fails (a dropped connection, a crash) and one
    that refuses before sending: the page cannot tell them apart, so both keep the code."""
    url = new_campaign(browser, site)
    rpc = site.state.config["RPC"]
    wallet = site.state.w3.eth.accounts[8]
    mode = {"send": "lose the answer"}

    def bridge(method: str, params: list[Any]) -> Any:
        if method in ("eth_requestAccounts", "eth_accounts"):
            return {"result": [wallet]}
        forward = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        if method == "eth_sendTransaction":
            if mode["send"] == "refuse":
                return {"error": {"code": 4001, "message": "User rejected the request."}}
            requests.post(rpc, json=forward, timeout=30)  # sent and mined (automine) ...
            return {"error": {"code": 4900, "message": "The wallet is disconnected."}}
        return requests.post(rpc, json=forward, timeout=30).json()

    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    context.expose_function("__rpc", bridge)
    context.add_init_script(
        """window.ethereum = { request: async ({ method, params }) => {
             const answer = await window.__rpc(method, params ?? []);
             const { error } = answer;
             if (error) throw Object.assign(new Error(error.message), { code: error.code });
             return answer.result;
           } };"""
    )
    page = context.new_page()
    page.goto(url)
    page.check("#join-wallet")

    landed = attempt(page)  # ... but the wallet said it failed
    expect(page.locator("#join-progress")).to_contain_text("You have joined", timeout=TIMEOUT)
    expect(page.locator("#receipt")).to_be_visible(timeout=TIMEOUT)
    assert landed in kept(page)
    expect(page.locator("#count")).to_have_text("1", timeout=TIMEOUT)

    mode["send"] = "refuse"
    page.check("#join-wallet")  # the form was reset after joining
    refused = attempt(page)
    expect(page.locator("#join-error")).to_contain_text("may still be recorded", timeout=TIMEOUT)
    expect(page.locator("#receipt-code")).to_have_text(refused, timeout=TIMEOUT)
    assert refused in kept(page)
    assert site.state.registry.info(int(url.rsplit("/", 1)[1])).active == 1
    context.close()
