"""The pages in English and Spanish (#16 §7): complete catalogues, the language from the
browser or the switch, one date format per locale, and dir="auto" on user-written text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from spartacus.web import i18n

from .conftest import Web

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "frontend" / "src"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [("spartacus/web/**.py", "python"), ("spartacus/web/templates/**.html", "jinja2")]


def page_msgids() -> set[str]:
    """Every string the pages and the web layer mark for translation, as pybabel finds them
    (babel.cfg), plus the chain layer's sentences the pages show."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found | set(i18n.CHAIN_TEXTS)


def catalogue(language: str) -> dict[str, Any]:
    with i18n.catalogue_path(language).open("rb") as po:
        return {m.id if isinstance(m.id, str) else m.id[0]: m for m in read_po(po) if m.id}


def script_messages() -> dict[str, dict[str, str]]:
    """frontend/src/messages.js: JSON after `export default`."""
    text = (SCRIPTS / "messages.js").read_text()
    body = text[text.index("export default ") + len("export default ") :]
    return json.loads(body[: body.rindex("}") + 1])


def placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\((\w+)\)s|\{(\w+)\}", text))


def test_every_page_message_has_a_spanish_translation() -> None:
    msgids = page_msgids()
    assert len(msgids) > 150  # the extraction found the templates
    spanish = catalogue("es")
    missing = sorted(msgids - set(spanish))
    assert missing == [], "run `make messages` and translate these in es/messages.po"
    for msgid in msgids:
        entry = spanish[msgid]
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(strings) and not entry.fuzzy, f"untranslated: {msgid!r}"
        for string in strings:
            assert placeholders(string) == placeholders(msgid), (msgid, string)


def test_every_script_message_has_both_languages_and_is_used() -> None:
    messages = script_messages()
    assert set(messages) == set(i18n.LANGUAGES)
    english, spanish = messages["en"], messages["es"]
    assert set(english) == set(spanish)
    for key, text in english.items():
        assert spanish[key].strip() and placeholders(spanish[key]) == placeholders(text), key
    # Every t("key") the scripts call is in the catalogue; every key is called somewhere.
    source = "\n".join(
        p.read_text() for p in SCRIPTS.glob("*.js") if p.name not in ("messages.js", "i18n.js")
    )
    called = set(re.findall(r"\bt\(\s*\"(\w+)\"", source))
    assert sorted(called - set(english)) == []
    quoted = set(re.findall(r"\"(\w+)\"", source)) | {"utc"}  # "utc": i18n.js formatDate
    assert sorted(set(english) - quoted) == []  # no key left unused


def test_shared_sentences_read_the_same_in_both_catalogues() -> None:
    """Where the script writes a sentence the pages also write (a status, the recent counts,
    "Copied."...), both catalogues translate it the same way."""
    spanish = catalogue("es")
    messages = script_messages()
    shared = 0
    for key, text in messages["en"].items():
        as_msgid = re.sub(r"\{(\w+)\}", r"%(\1)s", text)
        if as_msgid in spanish:
            shared += 1
            expected = re.sub(r"%\((\w+)\)s", r"{\1}", spanish[as_msgid].string)
            assert messages["es"][key] == expected, key
    assert shared >= 2  # "open", "%(hour)s in the last hour...": the check compares something


def test_a_spanish_browser_gets_spanish_pages(web: Web, create_campaign: Any) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    spanish = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}
    html = web.client.get("/", headers=spanish).get_data(as_text=True)
    assert '<html lang="es">' in html and "Iniciar una campaña" in html
    assert "Start a campaign" not in html
    page = web.client.get(f"/c/{campaign_id}", headers=spanish)
    assert "Accept-Language" in page.headers["Vary"]
    html = page.get_data(as_text=True)
    assert "Unirme, sellado" in html and "Condiciones" in html
    # The chain layer's warnings (no grace period here) read in Spanish too.
    assert "Antes de unirte: sin periodo de gracia" in html and "no grace period" not in html
    assert '<h1 dir="auto">' in html and 'class="plan" dir="auto"' in html
    # One date format per locale: Babel's medium date and short time, in UTC.
    deadline = web.state.registry.info(campaign_id).deadline
    assert re.search(r"Fecha límite: \d{1,2} \w+ \d{4}, \d{1,2}:\d\d UTC\.", html)
    with web.app.test_request_context(headers=spanish):
        assert i18n.when(deadline) in html
    english = web.client.get(f"/c/{campaign_id}", headers={"Accept-Language": "en-US"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert "Join, sealed" in english.get_data(as_text=True)
    # A language without a catalogue falls back to English.
    other = web.client.get("/", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    assert '<html lang="en">' in other and "Start a campaign" in other


def test_the_language_switch_persists_and_sets_only_a_language(web: Web) -> None:
    english = {"Accept-Language": "en"}
    html = web.client.get("/safety", headers=english).get_data(as_text=True)
    assert 'action="/lang"' in html and 'name="lang" value="es"' in html
    assert "Set-Cookie" not in web.client.get("/", headers=english).headers
    answer = web.client.post("/lang", data={"lang": "es", "next": "/safety"}, headers=english)
    assert answer.status_code == 303 and answer.headers["Location"] == "/safety"
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("lang=es;") and "SameSite=Lax" in cookie and "HttpOnly" in cookie
    # The browser keeps saying English; the choice wins on every page after.
    for path in ("/", "/safety", "/create"):
        html = web.client.get(path, headers=english).get_data(as_text=True)
        assert '<html lang="es">' in html, path
        assert 'name="lang" value="en"' in html  # the switch back
    web.client.post("/lang", data={"lang": "en", "next": "/"})
    assert '<html lang="en">' in web.client.get("/").get_data(as_text=True)


def test_the_switch_goes_back_only_to_this_site(web: Web) -> None:
    for target in ("//evil.example/", "https://evil.example/", "\\\\evil", ""):
        answer = web.client.post("/lang", data={"lang": "es", "next": target})
        assert answer.headers["Location"] == "/", target
    answer = web.client.post("/lang", data={"lang": "xx", "next": "/"})
    assert "Set-Cookie" not in answer.headers  # no catalogue, no cookie


def test_error_pages_and_api_errors_speak_the_language(web: Web) -> None:
    page = web.client.get("/no/such/page", headers={"Accept-Language": "es"})
    assert page.status_code == 404
    assert "no hay nada en esta dirección" in page.get_data(as_text=True)
    api = web.client.get("/api/no-such-thing", headers={"Accept-Language": "es"})
    assert api.get_json()["error"] == "no hay nada en esta dirección"
    assert web.client.get("/api/no-such-thing").get_json()["error"] == (
        "there is nothing at this address"
    )


def test_marked_relayer_refusals_are_answered_in_the_page_language(web: Web) -> None:
    """The relayer raises its fixed refusals in English (its threads have no page); the
    answer translates them for the request that asked (errors.py)."""
    from spartacus.exceptions import RequestRefused

    refusal = RequestRefused("the relayer is restarting; try again in a moment", 503, 1)

    @web.app.get("/api/test-refusal")
    def refuse() -> None:
        raise refusal

    spanish = web.client.get("/api/test-refusal", headers={"Accept-Language": "es"})
    assert spanish.status_code == 503 and spanish.headers["Retry-After"] == "1"
    assert spanish.get_json()["error"] == (
        "el retransmisor se está reiniciando; inténtalo de nuevo en un momento"
    )
    english = web.client.get("/api/test-refusal", headers={"Accept-Language": "en"})
    assert english.get_json()["error"] == str(refusal)
