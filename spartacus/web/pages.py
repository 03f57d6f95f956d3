"""The HTML pages: home, a campaign at its static URL, create, report, and the QR code.

Pages are rendered from the shared index with Jinja's autoescaping; the browser script
(frontend/src/app.js) does the pledging, withdrawing and roster reading. Reports are
plain HTML forms that work without a script and ask for no identity.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import segno
from flask import Blueprint, Response, render_template, request
from flask_babel import gettext

from ..chain import rules
from ..exceptions import RequestRefused, TooManyReports, UsageError
from .api import campaign_or_404, listing
from .moderation import MAX_DETAILS, REASONS
from .state import state
from .summaries import detail, summary

bp = Blueprint("pages", __name__)

HOME_LIVE = 20
HOME_RECENT = 10


def _public_url(path: str) -> str:
    """``path`` on this site as people should share it: under PUBLIC_URL, never under the
    request's Host header (which a request may set to anything); only a local chain
    without PUBLIC_URL uses the request's host."""
    return _base().rstrip("/") + path


def _base() -> str:
    try:
        return state().public_url or request.host_url
    except UsageError as exc:  # off a local chain without PUBLIC_URL: never the Host header
        raise RequestRefused(str(exc), 503) from None


def _own_origin() -> str:
    """This site's origin (scheme://host[:port]) as a browser names it in ``Origin``."""
    parts = urlsplit(_base())
    default = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{parts.hostname}{port}".lower()


def _refuse_cross_site() -> None:
    """A report must come from this site's own form. The site sets no cookie but the
    language, so a post from another page carries no authority; but a hostile page could make
    every visitor's browser file reports (from as many addresses as it has visitors) to get a
    campaign hidden, or to bury real reports. Browsers name where a post comes from:
    Sec-Fetch-Site (current browsers), else Origin (the report page's referrer policy,
    same-origin, makes older browsers send it). A request with neither is no browser's
    cross-site post."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        if site not in ("same-origin", "none"):
            raise RequestRefused(
                gettext(
                    "reports are taken from this site's own form only (this one came %(site)s)",
                    site=site,
                ),
                403,
            )
        return
    origin = request.headers.get("Origin")
    if origin is not None and origin.lower() != _own_origin():
        if origin == "null":
            message = gettext(
                "reports are taken from this site's own form only (this one came from a page "
                "that hides its origin)"
            )
        else:
            message = gettext(
                "reports are taken from this site's own form only (this one came from a page "
                "of another site)"
            )
        raise RequestRefused(message, 403)


def _page(**extra: Any) -> dict[str, Any]:
    shared = state()
    relayer = shared.relayer
    return {
        "chainId": shared.registry.chain_id,
        "registry": shared.registry.address,
        "relayer": relayer.address if relayer else None,
        "directory": shared.directory.as_json(),  # the page checks custodian keys with it
        **extra,
    }


@bp.get("/")
def home() -> str:
    everything = listing(state())
    live = [c for c in everything if c["status"] in ("open", "pending")][:HOME_LIVE]
    recent = [c for c in everything if c["status"] not in ("open", "pending")][:HOME_RECENT]
    return render_template("home.html", campaigns=live, recent=recent, page=_page())


@bp.get("/c/<int:campaign_id>")
def campaign(campaign_id: int) -> str:
    shared = state()
    history = campaign_or_404(campaign_id)
    hidden = shared.store.hidden(campaign_id)
    hidden_json = hidden.as_json() if hidden else None
    c = detail(shared.index, history, shared.index.head, hidden_json)
    url = _public_url(f"/c/{campaign_id}")
    text = gettext(
        "%(title)s: join when it is safe. Nothing is revealed until %(threshold)s join.",
        title=c["title"],
        threshold=c["threshold"],
    )
    share = {
        "url": url,
        "qr": f"/c/{campaign_id}/qr.svg",
        "links": share_links(url, c["title"], text),
    }
    description = (c["description"] or c["plan"] or text)[:300]
    return render_template(
        "campaign.html",
        c=c,
        hidden=hidden_json,
        share=share,
        explorer=shared.explorer,
        og={"title": c["title"], "description": description, "url": url},
        page=_page(
            campaignId=campaign_id,
            status=c["status"],
            hidden=hidden is not None,
            # A gated campaign's join proves membership in this contract's group c["group"].
            **(
                {"group": c["group"], "groups": shared.registry.groups_address}
                if c["group"]
                else {}
            ),
        ),
    )


def share_links(url: str, title: str, text: str) -> list[dict[str, str]]:
    """Plain links to share a campaign: nothing is loaded from these sites until clicked."""
    both = f"{text} {url}"
    return [
        {"name": "E-mail", "href": "mailto:?" + urlencode(
            {"subject": title, "body": f"{text}\n{url}"}, quote_via=quote)},
        {"name": "Telegram", "href": "https://t.me/share/url?" + urlencode(
            {"url": url, "text": text})},
        {"name": "WhatsApp", "href": "https://wa.me/?" + urlencode({"text": both})},
        {"name": "X", "href": "https://x.com/intent/post?" + urlencode({"url": url, "text": text})},
        {"name": "Bluesky", "href": "https://bsky.app/intent/compose?" + urlencode({"text": both})},
    ]  # fmt: skip


@bp.route("/needs-script", methods=["GET", "POST"])
def needs_script() -> tuple[str, int]:
    """Where the join, withdraw, roster and create forms post without the page's script.

    Those forms seal in the browser; their fields have no ``name``, so a browser without
    the script (JavaScript off, or the bundle not loaded yet) posts nothing of them, and
    their buttons stay disabled until the script enables them. Should a post arrive all
    the same, its body is never read and nothing is kept: this page only explains.
    """
    message = gettext(
        "nothing was sent: this form seals your details in your browser, which needs this "
        "page's script. Turn JavaScript on for this site (or wait until the page has loaded) "
        "and try again"
    )
    return render_template("error.html", status=400, message=message), 400


@bp.get("/safety")
def safety() -> str:
    """Pledge safely: the advice for a worker (docs/pledge-safely.md says the same)."""
    return render_template("safety.html")


@bp.get("/c/<int:campaign_id>/qr.svg")
def qr(campaign_id: int) -> Response:
    campaign_or_404(campaign_id)
    out = io.BytesIO()
    segno.make(_public_url(f"/c/{campaign_id}"), error="m").save(
        out, kind="svg", scale=6, border=2, xmldecl=False, svgns=True
    )
    return Response(
        out.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "max-age=3600"}
    )


@bp.get("/create")
def create() -> str:
    shared = state()
    custodians = [c.as_json() for c in shared.custodians]
    return render_template(
        "create.html",
        custodians=custodians,
        page=_page(
            custodians=custodians,
            # Safe defaults (#12): 72 hours of grace, and two custodians of which both must
            # release whenever the site offers two or more.
            defaults={
                "threshold": 3,
                "deadlineDays": 14,
                "grace": 72,
                "custodians": min(2, len(custodians)),
                "t": 2 if len(custodians) >= 2 else 1,
            },
            # The registry's rules the form checks before asking any custodian for a key,
            # from chain.rules (the one place they are written outside the contract).
            rules={
                "minThreshold": rules.MIN_THRESHOLD,
                "minDeadline": rules.MIN_DEADLINE,
                "maxCustodians": rules.limits().max_custodians,
            },
        ),
    )


@bp.route("/c/<int:campaign_id>/report", methods=["GET", "POST"])
def report(campaign_id: int) -> Any:
    shared = state()
    history = campaign_or_404(campaign_id)
    c = summary(history, shared.index.head, shared.is_hidden(campaign_id))
    if request.method == "GET":
        return render_template(
            "report.html", c=c, done=False, reasons=REASONS, max_details=MAX_DETAILS, page=_page()
        )
    _refuse_cross_site()
    reason = request.form.get("reason", "")
    details = request.form.get("details", "")
    try:
        shared.store.report(campaign_id, reason, details)
    except TooManyReports as exc:
        raise RequestRefused(str(exc), 429) from None
    except UsageError as exc:
        # The form again, its text kept, the refused field marked and focused (no script
        # needed): {"field": "reason" | "details", "message": ...}.
        error = {"field": "reason" if reason not in REASONS else "details", "message": str(exc)}
        page = render_template(
            "report.html", c=c, done=False, reasons=REASONS, max_details=MAX_DETAILS,
            page=_page(), error=error, details=details, reason=reason,
        )  # fmt: skip
        return page, 400
    return render_template(
        "report.html", c=c, done=True, reasons=REASONS, max_details=MAX_DETAILS, page=_page()
    )
