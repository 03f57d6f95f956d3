"""The whole journey in headless Chromium: create, join from three browsers, watch the
count move live in a fourth, withdraw, join again, cross the threshold, read the roster.

Each browser context is a separate person with its own storage. The custodian daemon
releases by itself at the reveal. Screenshots go to out/e2e/<test>/.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, expect

from spartacus import protocol

from .conftest import Site

TIMEOUT = 60_000  # ms, for what waits on the chain, the poller or the daemon
NAMES = {"alice": "Alice Martin", "bob": "Bob Okafor", "chloe": "Chloé Durand"}
CONTACTS = {"alice": "alice@example.org", "bob": "+33 6 12 34 56 78", "chloe": "chloe@example.net"}
INSTRUCTIONS = "Monday 9:00, canteen. Bring the letter."


def person(browser: Browser, site: Site, third_party: list[str]) -> BrowserContext:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(TIMEOUT)

    def check(request: Any) -> None:
        site.requested.append(f"{request.method} {request.url}")
        if not request.url.startswith((site.url, "data:", "blob:")):
            third_party.append(request.url)

    context.on("request", check)
    return context


def open_page(context: BrowserContext, url: str, errors: list[str]) -> Page:
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    return page


def join(page: Page, who: str, keep: bool = False) -> str:
    """Join as ``who``; ``keep`` ticks "keep my receipt code in this browser" (off by default)."""
    expect(page.locator("#join-store")).not_to_be_checked()
    if keep:
        page.check("#join-store")
    page.fill("#join-name", NAMES[who])
    page.fill("#join-contact", CONTACTS[who])
    page.fill("#join-message", f"{who} is in")
    page.click("#join-submit")
    expect(page.locator("#join-progress")).to_contain_text("You have joined")
    code = page.locator("#receipt-code").inner_text()
    assert re.fullmatch(r"sp2-\d+-[A-Z2-7-]+", code), code
    return code


def test_a_campaign_from_creation_to_roster(browser: Browser, site: Site) -> None:
    third_party: list[str] = []
    errors: list[str] = []
    organiser = person(browser, site, third_party)
    create = open_page(organiser, f"{site.url}/create", errors)
    create.fill("#create-title", "Fix the heating <script>alert(1)</script>")
    create.fill("#create-description", "The third floor is cold.")
    create.fill("#create-plan", "We write to facilities together.")
    create.fill("#create-instructions", INSTRUCTIONS)
    create.fill("#create-threshold", "3")
    create.fill("#create-days", "7")
    create.fill("#create-grace", "0")  # reveal at once: the test has no 72 hours to wait
    create.click("#create-submit")
    expect(create.locator("#create-open")).to_be_visible(timeout=TIMEOUT)
    organiser_code = create.locator("#receipt-code").inner_text()
    create.click("#create-open")
    expect(create.locator("h1")).to_have_text("Fix the heating <script>alert(1)</script>")
    campaign_url = create.url
    campaign_id = int(campaign_url.rsplit("/", 1)[1])

    watcher = open_page(person(browser, site, third_party), campaign_url, errors)
    count = watcher.locator("#count")
    expect(count).to_have_text("0")

    members = {who: person(browser, site, third_party) for who in NAMES}
    pages = {who: open_page(ctx, campaign_url, errors) for who, ctx in members.items()}
    codes = [organiser_code, join(pages["alice"], "alice", keep=True)]
    expect(count).to_have_text("1")
    pasted = {"bob": join(pages["bob"], "bob")}  # not kept in the browser: pasted later
    codes.append(pasted["bob"])
    expect(count).to_have_text("2")
    # Bob did not ask to keep his code: nothing of it is left in his browser, and the file
    # offered for download names neither the site nor the campaign.
    assert pages["bob"].evaluate("Object.keys(localStorage)") == []
    with pages["bob"].expect_download() as saved:
        pages["bob"].click("#receipt-download")
    assert saved.value.suggested_filename == "code.txt"

    alice = pages["alice"]
    alice.reload()
    alice.click("#withdraw-submit")  # the receipt stored in Alice's browser is preselected
    expect(alice.locator("#withdraw-result")).to_contain_text("withdrawn")
    expect(count).to_have_text("1")
    codes.append(join(alice, "alice", keep=True))
    expect(count).to_have_text("2")
    watcher.screenshot(path=str(site.shots / "campaign-before-reveal.png"), full_page=True)

    pasted["chloe"] = join(pages["chloe"], "chloe")
    codes.append(pasted["chloe"])
    expect(count).to_have_text("3")
    expect(watcher.locator("#status")).to_have_attribute("data-status", "revealed")

    rosters = {}
    for who, page in pages.items():  # Alice's code is kept in her browser; the others paste
        rosters[who] = read_roster(page, pasted.get(who))
    with pages["alice"].expect_download() as saved:
        pages["alice"].click("#roster-csv")
    assert saved.value.suggested_filename == "contacts.csv"
    assert len(set(map(tuple, rosters.values()))) == 1
    assert sorted(rosters["alice"]) == sorted((NAMES[w], CONTACTS[w], f"{w} is in") for w in NAMES)
    expect(pages["bob"].locator("#roster-instructions")).to_have_text(INSTRUCTIONS)

    # The organiser reads too, with the code pasted (as from another device).
    organiser_page = open_page(organiser, campaign_url, errors)
    organiser_page.fill("#roster-code", organiser_code)
    assert sorted(read_roster(organiser_page)) == sorted(rosters["alice"])
    watcher.reload()
    expect(watcher.locator("#status")).to_have_attribute("data-status", "revealed")
    watcher.screenshot(path=str(site.shots / "campaign-after-reveal.png"), full_page=True)
    pages["alice"].screenshot(path=str(site.shots / "roster-alice.png"), full_page=True)

    # Nothing secret reached the server, and nothing was loaded from elsewhere.
    bodies = b"\n".join(site.bodies())
    assert b"/api/relay/pledge" not in bodies  # bodies, not paths
    for secret in [*NAMES.values(), *CONTACTS.values(), INSTRUCTIONS, "is in"]:
        assert secret.encode() not in bodies, secret
        assert secret.encode("unicode_escape") not in bodies, secret
    assert organiser_code.encode() not in bodies
    pledged = [p for m, p, _ in site.recorder.requests if p == "/api/relay/pledge" and m == "POST"]
    assert len(pledged) == 4  # alice twice, bob, chloe
    assert third_party == []
    assert errors == []
    assert site.state.registry.info(campaign_id).active == 3

    # No identifier in any URL the pages asked for (an access log keeps URLs, not bodies):
    # no pledge account, member key or commitment, no receipt code or pledge secret.
    history = site.state.registry.history(campaign_id)
    records = [p.record for p in history.pledges]
    assert len(records) == 4 and history.instructions is not None
    secrets = [protocol.decode_receipt(code)[1].hex() for code in codes]
    identifiers = [*codes, *secrets, history.instructions.member_key.hex()]
    for r in records:
        identifiers += [r.account[2:], r.member_key.hex(), r.commitment.hex()]
    urls = [line.lower() for line in site.requested]
    assert any("/api/relay/withdraw" in u for u in urls) and any("/records" in u for u in urls)
    leaks = [(u, i) for u in urls for i in identifiers if i.lower() in u]
    assert leaks == []


def read_roster(page: Page, code: str | None = None) -> list[tuple[str, ...]]:
    """Click "Read the roster" (with ``code`` pasted, else the one kept in the browser)
    until every member's row is there (the daemon may lag)."""
    if code:
        page.fill("#roster-code", code)
    rows = page.locator("#roster-table tbody tr")
    for _ in range(60):
        page.click("#roster-submit")
        expect(page.locator("#roster-result")).to_be_visible()
        if page.locator("#roster-missing").is_hidden() and rows.count() == 3:
            break
        page.wait_for_timeout(1000)
    return [tuple(cell.inner_text() for cell in row.locator("td").all()) for row in rows.all()]


def test_a_member_can_pay_with_their_own_wallet(browser: Browser, site: Site) -> None:
    """An EIP-1193 wallet (here a bridge to one of anvil's unlocked accounts) sends the
    pledge itself: the relayer is not asked, and the pledge is counted all the same."""
    import requests

    rpc = site.state.config["RPC"]
    wallet = site.state.w3.eth.accounts[7]

    def bridge(method: str, params: list[Any]) -> Any:
        if method in ("eth_requestAccounts", "eth_accounts"):
            return {"result": [wallet]}
        return requests.post(
            rpc, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=30
        ).json()

    errors: list[str] = []
    third_party: list[str] = []
    organiser = person(browser, site, third_party)
    create = open_page(organiser, f"{site.url}/create", errors)
    create.fill("#create-title", "Buy a bulk order together")
    create.fill("#create-instructions", "Order on Friday")
    create.fill("#create-threshold", "2")
    create.fill("#create-grace", "0")  # reveal at once: the test has no 72 hours to wait
    create.click("#create-submit")
    expect(create.locator("#create-open")).to_be_visible(timeout=TIMEOUT)
    campaign_url = create.locator("#create-open").get_attribute("href")
    assert campaign_url is not None

    member = person(browser, site, third_party)
    member.expose_function("__rpc", bridge)
    member.add_init_script(
        """window.ethereum = { request: async ({ method, params }) => {
             const answer = await window.__rpc(method, params ?? []);
             if (answer.error) throw new Error(answer.error.message);
             return answer.result;
           } };"""
    )
    page = open_page(member, site.url + campaign_url, errors)
    expect(page.locator("#join-wallet-field")).to_be_visible()
    page.check("#join-wallet")
    join(page, "alice", keep=True)
    expect(page.locator("#count")).to_have_text("1")

    # Leaving with the wallet too: the withdrawal does not need the site's relayer.
    expect(page.locator("#withdraw-wallet-field")).to_be_visible()
    page.check("#withdraw-wallet")
    page.click("#withdraw-submit")
    expect(page.locator("#withdraw-result")).to_contain_text("Your pledge is withdrawn")
    expect(page.locator("#count")).to_have_text("0")
    assert page.locator("#withdraw-error").is_hidden()
    relayed = [
        p for _, p, _ in site.recorder.requests if p in ("/api/relay/pledge", "/api/relay/withdraw")
    ]
    assert relayed == []
    assert site.state.registry.info(int(campaign_url.rsplit("/", 1)[1])).active == 0
    assert errors == [] and third_party == []


def test_a_form_the_registry_would_refuse_uses_up_no_custodian_key(
    browser: Browser, site: Site
) -> None:
    """Each key a custodian hands out is used up: a title of 150 "é" fits the field (200
    characters) but not the registry (200 bytes), so the site refuses it before any custodian
    is asked, and the error says why."""
    errors: list[str] = []
    third_party: list[str] = []
    organiser = person(browser, site, third_party)
    before = len(site.requested)
    create = open_page(organiser, f"{site.url}/create", errors)
    create.fill("#create-title", "é" * 150)
    create.fill("#create-instructions", "Order on Friday")
    create.click("#create-submit")
    expect(create.locator("#create-error")).to_contain_text("title has 300 bytes")
    asked = [r for r in site.requested[before:] if "/api/" in r]
    assert asked == [f"POST {site.url}/api/relay/create/check"], asked
    assert not third_party
