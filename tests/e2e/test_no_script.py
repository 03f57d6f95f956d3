"""Without the script, the join form sends nothing (issue #16, item 1).

Two ways a person meets the page without its script: JavaScript turned off, and a slow
phone on which the bundle has not arrived yet (here: never, the request is held back).
Either way the person types a name and contact and presses Join, or Enter: nothing leaves
the browser that carries them, nothing lands in the address bar, and with JavaScript off
the page says why.
"""

from __future__ import annotations

from playwright.sync_api import Browser, Page, Request, Route, expect

from tests.cli.conftest import Spartacus

from .conftest import Site

NAME = "Alice Martin"
CONTACT = "alice@example.org"


def _campaign(spartacus: Spartacus, site: Site) -> int:
    created = spartacus.ok(
        "create", "--title", "Fix the heating", "--instructions", "Monday 9:00",
        "--threshold", "3", "--deadline", "7d", "--custodian", site.state.custodians[0].url,
        role="creator", dev=1,
    )  # fmt: skip
    return int(created["campaign"])


def _try_to_join(page: Page) -> None:
    page.fill("#join-name", NAME)
    page.fill("#join-contact", CONTACT)
    page.fill("#join-message", "count me in")
    page.click("#join-submit", force=True, no_wait_after=True)  # a disabled button: no-op
    page.press("#join-contact", "Enter")  # implicit submission: none with a disabled button
    page.press("#join-message", "Control+Enter")


def _leaks(requests: list[Request], site: Site) -> list[str]:
    sent = [f"{r.method} {r.url} {r.post_data or ''}" for r in requests]
    sent += [f"{m} {p} {b!r}" for m, p, b in site.recorder.requests]
    words = (NAME, NAME.replace(" ", "+"), NAME.replace(" ", "%20"), CONTACT, "alice%40")
    return [s for s in sent if any(w in s for w in words)]


def test_join_with_javascript_off_sends_nothing_and_says_why(
    browser: Browser, site: Site, spartacus: Spartacus
) -> None:
    campaign = _campaign(spartacus, site)
    site.state.index.sync()
    context = browser.new_context(java_script_enabled=False)
    requests: list[Request] = []
    context.on("request", lambda r: requests.append(r))
    page = context.new_page()
    url = f"{site.url}/c/{campaign}"
    page.goto(url)
    expect(page.locator("#join-form .noscript")).to_be_visible()
    expect(page.locator("#join-form .noscript")).to_contain_text("sends nothing")
    expect(page.locator("#join-submit")).to_be_disabled()
    _try_to_join(page)
    page.wait_for_load_state()
    assert page.url == url
    assert _leaks(requests, site) == []
    assert [r.url for r in requests if r.method != "GET"] == []
    context.close()


def test_join_before_the_script_has_loaded_sends_nothing(
    browser: Browser, site: Site, spartacus: Spartacus
) -> None:
    campaign = _campaign(spartacus, site)
    site.state.index.sync()
    context = browser.new_context()
    held: list[Route] = []
    # The bundle never arrives, as on a slow phone before it has loaded.
    context.route("**/static/dist/app.js", lambda route: held.append(route))
    requests: list[Request] = []
    context.on("request", lambda r: requests.append(r))
    page = context.new_page()
    url = f"{site.url}/c/{campaign}"
    page.goto(url, wait_until="commit")  # the held module script delays DOMContentLoaded
    page.wait_for_function("() => document.querySelector('#join-submit') !== null")
    assert held, "the page asked for its script"
    expect(page.locator("#join-submit")).to_be_disabled()
    expect(page.locator("#join-form .noscript")).to_be_hidden()  # JavaScript is on here
    _try_to_join(page)
    assert page.url == url
    assert _leaks(requests, site) == []
    assert [r.url for r in requests if r.method != "GET"] == []
    for route in held:
        route.abort()
    context.close()
