"""The pages' languages: English and Spanish, from the browser or the visitor's choice.

The language is the ``lang`` cookie if the visitor chose one with the switch on every page
(``POST /lang``: the only cookie the site ever sets, and only then), else the browser's
Accept-Language, else English. ``<html lang>`` says it, and the page's script picks its own
catalogue (frontend/src/messages.json) from that attribute.

One source of truth per language: ``translations/<lang>/LC_MESSAGES/messages.po``, read and
compiled in memory the first time a page asks for it (a few milliseconds, once per process),
so no compiled ``.mo`` is kept in git or made at build time. docs/web.md, "Languages", says
how to add one.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from functools import cache, cached_property
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Blueprint, Flask, Response, redirect, request
from flask_babel import Babel, Domain, format_date, format_time, get_locale, gettext
from werkzeug.wrappers import Response as BaseResponse

from ..chain import risks

LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT = "en"
COOKIE = "lang"
COOKIE_AGE = 365 * 24 * 3600
CATALOGUES = Path(__file__).with_name("translations")

bp = Blueprint("i18n", __name__)


def catalogue_path(language: str) -> Path:
    return CATALOGUES / language / "LC_MESSAGES" / "messages.po"


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (English is the msgids themselves)."""
    path = catalogue_path(language)
    if not path.is_file():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


class PoDomain(Domain):
    """Flask-Babel's domain, its catalogues read from the .po files (see the module doc)."""

    def get_translations(self) -> NullTranslations:
        return translations(page_language())


class PoBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return PoDomain(domain=self.domain)


def select_language() -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), DEFAULT) or DEFAULT


def N_(message: str) -> str:  # gettext's name for "mark now, translate later"
    """Mark a fixed error message for the catalogue: it is raised as it is (a relayer thread
    has no page language) and translated where it is answered (errors.py)."""
    return message


def page_language() -> str:
    """The language of this request's page: ``<html lang>`` and the switch say it."""
    return str(get_locale() or DEFAULT)


def when(unix: int | float) -> str:
    """A chain time as every page writes it: the locale's medium date, short time, in UTC
    (the script's Intl.DateTimeFormat in ui.js writes the same)."""
    moment = datetime.fromtimestamp(int(unix), UTC)
    date = format_date(moment, "medium", rebase=False)
    return f"{date}, {format_time(moment, 'short', rebase=False)} UTC"


def status_word(status: str) -> str:
    """A campaign's status in one word, in the page's language."""
    words = {
        "open": gettext("open"),
        "pending": gettext("pending"),
        "revealed": gettext("revealed"),
        "expired": gettext("expired"),
    }
    return words.get(status, status)


def recent_text(recent: dict[str, int | bool] | None) -> str:
    """Pledges in the last hour and day (chain.activity's Recent.as_dict)."""
    if not recent:
        return ""
    more = "+" if recent["atLeast"] else ""
    return gettext(
        "%(hour)s in the last hour, %(day)s in the last day",
        hour=f"{recent['lastHour']}{more}",
        day=f"{recent['lastDay']}{more}",
    )


def reason_word(reason: str) -> str:
    """A report's reason (moderation.REASONS) as the report form offers it."""
    words = {
        "threats": gettext("Threats"),
        "doxxing": gettext("Doxxing"),
        "illegal": gettext("Illegal"),
        "spam": gettext("Spam"),
        "other": gettext("Other"),
    }
    return words.get(reason, reason.capitalize())


# Sentences the chain layer writes for the CLI too (chain/risks.py), shown on the pages: their
# translations are in the catalogues under the English text (tests/web/test_i18n.py checks).
CHAIN_TEXTS = frozenset({risks.SINGLE_CUSTODIAN, risks.NO_GRACE, risks.NOT_SYBIL_PROTECTED})


def chain_text(text: str) -> str:
    return gettext(text) if text in CHAIN_TEXTS else text


def _safe_next(target: str | None) -> str:
    """Back to the page the switch was pressed on: a path on this site, nothing else."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@bp.post("/lang")
def switch() -> BaseResponse:
    """The language switch: a small form on every page, remembered in a cookie that holds
    only the language (no identifier), then back to the same page."""
    language = request.form.get("lang", "")
    response = redirect(_safe_next(request.form.get("next")), 303)
    if language in LANGUAGES:
        response.set_cookie(
            COOKIE, language, max_age=COOKIE_AGE, path="/", samesite="Lax", httponly=True
        )
    return response


def init(app: Flask) -> None:
    PoBabel(app, locale_selector=select_language, default_timezone="UTC")
    app.jinja_env.globals.update(
        languages=LANGUAGES,
        page_language=page_language,
        status_word=status_word,
        recent_text=recent_text,
        chain_text=chain_text,
        reason_word=reason_word,
    )
    app.jinja_env.filters["when"] = when
    app.register_blueprint(bp)

    @app.after_request
    def vary(response: Response) -> Response:
        if response.mimetype == "text/html":
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        return response
