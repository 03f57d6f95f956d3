"""axe-core (npm) on every page and state, at a phone's width (390 px) and a desktop's (1280 px).

axe is injected by the browser's automation (an init script), not by the page, so the
production CSP stays as it is. A state is checked once it is on screen: the forms empty, a
refused form with its error, a receipt just shown, a member's page with its withdraw and
roster forms, and the roster read after the reveal. Zero violations, of any impact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from .conftest import Site
from .test_browser import TIMEOUT, join, person

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = ((390, 844), (1280, 900))
RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    rule: v.id, impact: v.impact, help: v.help, where: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


def violations(page: Page, state: str) -> list[dict[str, Any]]:
    """axe's violations on ``page`` at each width, each named with ``state`` and the width."""
    found = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        found += [{"state": state, "width": width, **v} for v in page.evaluate(RUN)]
    return found


def test_every_page_and_state_has_no_accessibility_violation(browser: Browser, site: Site) -> None:
    third_party: list[str] = []
    found: list[dict[str, Any]] = []
    organiser = person(browser, site, third_party)
    organiser.add_init_script(path=str(AXE))

    page = organiser.new_page()
    for path, state in (("/", "home, no campaign"), ("/safety", "pledge safely")):
        page.goto(site.url + path)
        found += violations(page, state)

    page.goto(f"{site.url}/create")
    found += violations(page, "create form")
    page.fill("#create-title", "é" * 150)  # fits the field, not the registry: refused
    page.fill("#create-instructions", "Meet on Friday")
    page.click("#create-submit")
    expect(page.locator("#create-error")).not_to_be_empty()
    found += violations(page, "create form refused")
    page.fill("#create-title", "Fix the heating")
    page.fill("#create-threshold", "2")
    page.fill("#create-grace", "0")
    page.click("#create-submit")
    expect(page.locator("#create-open")).to_be_visible(timeout=TIMEOUT)
    found += violations(page, "campaign created, receipt shown")
    page.click("#create-open")
    campaign_url = page.url
    found += violations(page, "campaign open, join form")
    page.goto(f"{campaign_url}/report")
    found += violations(page, "report form")
    page.goto(f"{site.url}/")
    found += violations(page, "home, one campaign")

    members = []
    for who in ("alice", "bob"):
        context = person(browser, site, third_party)
        context.add_init_script(path=str(AXE))
        member = context.new_page()
        member.goto(campaign_url)
        join(member, who, keep=True)
        found += violations(member, f"{who} joined, receipt shown")
        members.append(member)
    alice = members[0]
    alice.reload()
    expect(alice.locator("#status")).to_have_attribute("data-status", "revealed")
    found += violations(alice, "revealed, member's page")
    rows = alice.locator("#roster-table tbody tr")
    for _ in range(60):  # until the daemon's release is in
        alice.click("#roster-submit")
        expect(alice.locator("#roster-result")).to_be_visible()
        if rows.count() == 2:
            break
        alice.wait_for_timeout(1000)
    expect(rows).to_have_count(2)
    found += violations(alice, "revealed, roster read")

    assert found == [], "\n".join(
        f"{v['state']} at {v['width']} px: {v['rule']} ({v['impact']}): {v['help']} at {v['where']}"
        for v in found
    )
    assert third_party == []
