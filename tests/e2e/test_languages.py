"""The pages in Spanish, in Chromium (#16 §7): a browser that asks for Spanish creates, joins,
reaches the reveal and reads the roster like an English one, in Spanish words, with no axe
violation; the join form counts bytes, not characters, and stops at the pledge's limit; the
language switch is kept from page to page."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, BrowserContext, expect

from .conftest import Site
from .test_accessibility import AXE, violations
from .test_browser import TIMEOUT, open_page

LIMIT = 255  # a pledge's JSON, padded to 256 bytes (protocol/payload.js encodeContact)
JSON_BYTES = """() => new TextEncoder().encode(JSON.stringify({
  name: document.querySelector("#join-name").value.trim(),
  contact: document.querySelector("#join-contact").value.trim(),
  message: document.querySelector("#join-message").value.trim(),
})).length"""


def visitor(browser: Browser, site: Site, locale: str, third_party: list[str]) -> BrowserContext:
    """A person whose browser asks for ``locale`` (Accept-Language and navigator.language)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale)
    context.set_default_timeout(TIMEOUT)
    context.add_init_script(path=str(AXE))

    def check(request: Any) -> None:
        if not request.url.startswith((site.url, "data:", "blob:")):
            third_party.append(request.url)

    context.on("request", check)
    return context


def test_a_spanish_browser_creates_joins_and_reads_the_roster(browser: Browser, site: Site) -> None:
    errors: list[str] = []
    third_party: list[str] = []
    found: list[dict[str, Any]] = []
    organiser = visitor(browser, site, "es-ES", third_party)
    create = open_page(organiser, f"{site.url}/create", errors)
    expect(create.locator("html")).to_have_attribute("lang", "es")
    expect(create.locator("h1")).to_have_text("Iniciar una campaña")
    create.fill("#create-title", "Arreglar la calefacción")
    create.fill("#create-instructions", "El lunes a las 9:00, en el comedor.")
    create.fill("#create-threshold", "2")
    create.fill("#create-grace", "0")  # reveal at once: the test has no 72 hours to wait
    create.click("#create-submit")
    expect(create.locator("#create-open")).to_be_visible(timeout=TIMEOUT)
    expect(create.locator("#create-open")).to_have_text("Abrir la página de tu campaña")
    expect(create.locator("#create-progress")).to_contain_text("está creada")
    create.click("#create-open")
    campaign_url = create.url

    members = {}
    for who, locale in (("iñaki", "es-ES"), ("zoë", "es-MX")):
        page = open_page(visitor(browser, site, locale, third_party), campaign_url, errors)
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page.locator("#status")).to_have_text(re.compile(r"^Abierta: "))
        # One date format: the script's Intl, in Spanish, in UTC, like the server's.
        expect(page.locator("#countdown")).to_have_text(
            re.compile(r"^Fecha límite dentro de .+ \(\d{1,2} \w+ \d{4}, \d{1,2}:\d\d UTC\)\.$")
        )
        expect(page.locator("#join-submit")).to_have_text("Unirme, sellado")
        members[who] = page
    found += violations(members["iñaki"], "es: campaign open, join form")

    # Multi-byte text up to the byte limit: "ñ" takes 2 bytes, an emoji 4.
    inaki = members["iñaki"]
    inaki.fill("#join-name", "Iñaki Núñez 🚩")
    inaki.fill("#join-contact", "iñaki@example.org")
    inaki.fill("#join-message", "ñ" * 200)
    size = inaki.evaluate(JSON_BYTES)
    assert LIMIT - 1 <= size <= LIMIT, size
    message = inaki.input_value("#join-message")
    assert set(message) == {"ñ"} and len(message) < 200
    full = "ocupan los 255 bytes" if size == LIMIT else f"Quedan {LIMIT - size} de 255 bytes"
    expect(inaki.locator("#join-bytes")).to_contain_text(full)
    inaki.press("#join-message", "End")
    inaki.keyboard.type("ñ")  # one more does not go in
    assert inaki.input_value("#join-message") == message
    inaki.click("#join-submit")
    expect(inaki.locator("#join-progress")).to_have_text(re.compile(r"^Te has unido\."))
    found += violations(inaki, "es: joined, receipt shown")

    zoe = members["zoë"]
    zoe.fill("#join-name", "Zoë")
    zoe.fill("#join-contact", "+34 600 000 000")
    expect(zoe.locator("#join-bytes")).to_contain_text("Quedan")
    zoe.fill("#join-message", "😀" * 100)
    size = zoe.evaluate(JSON_BYTES)
    assert LIMIT - 3 <= size <= LIMIT, size
    emoji = zoe.input_value("#join-message")
    assert emoji == "😀" * len(emoji) and len(emoji) < 100  # whole emoji, none cut in two
    zoe.click("#join-submit")
    expect(zoe.locator("#join-progress")).to_have_text(re.compile(r"^Te has unido\."))

    expect(inaki.locator("#status")).to_have_attribute("data-status", "revealed")
    expect(inaki.locator("#revealed-banner")).to_contain_text("Revelada.")
    rows = inaki.locator("#roster-table tbody tr")
    inaki.fill("#roster-code", inaki.locator("#receipt-code").inner_text())
    for _ in range(60):  # until the daemon's release is in
        inaki.click("#roster-submit")
        expect(inaki.locator("#roster-result")).to_be_visible()
        if rows.count() == 2 and inaki.locator("#roster-missing").is_hidden():
            break
        inaki.wait_for_timeout(1000)
    names = sorted(rows.locator("td:first-child").all_inner_texts())
    assert names == ["Iñaki Núñez 🚩", "Zoë"]
    messages = sorted(rows.locator("td:nth-child(3)").all_inner_texts())
    assert messages == sorted([message, emoji])
    expect(rows.first.locator("td").first).to_have_attribute("dir", "auto")
    expect(inaki.locator("#roster-heading")).to_have_text("Mi lista")
    found += violations(inaki, "es: revealed, roster read")
    inaki.set_viewport_size({"width": 390, "height": 844})
    inaki.screenshot(path=str(site.shots / "campaign-es-roster.png"), full_page=True)

    assert found == [], "\n".join(
        f"{v['state']} at {v['width']} px: {v['rule']} ({v['impact']}): {v['help']} at {v['where']}"
        for v in found
    )
    assert errors == [] and third_party == []


def test_the_language_switch_is_kept_from_page_to_page(browser: Browser, site: Site) -> None:
    errors: list[str] = []
    third_party: list[str] = []
    person = visitor(browser, site, "en-GB", third_party)
    page = open_page(person, f"{site.url}/safety", errors)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.click("button[name=lang][value=es]")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert page.url == f"{site.url}/safety"  # back on the same page, nothing in the address
    expect(page.locator("h1")).to_have_text("Comprométete con seguridad")
    page.screenshot(path=str(site.shots / "safety-es.png"))
    for path in ("/", "/create"):
        page.goto(site.url + path)
        expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("#create-submit")).to_have_text("Crear la campaña")
    cookies = person.cookies()
    assert [(c["name"], c["value"]) for c in cookies] == [("lang", "es")]
    page.click("button[name=lang][value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#create-submit")).to_have_text("Create the campaign")
    assert errors == [] and third_party == []
