"""The public web app: campaign pages, live counts, in-browser pledging, the relayer.

``create_app(config=None)`` is the application factory. It touches no network: the chain
is reached on the first request (or when ``spartacus serve`` starts the poller), so the
app can be built anywhere. Everything secret happens in the visitor's browser; the server
only ever sees sealed pledges, signatures and public chain data. It keeps no request log,
and sets no cookie unless the visitor picks a language (one that holds only that: i18n.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request

from ..exceptions import RequestRefused
from . import errors, i18n
from . import site as site_files
from .bundle import bundle_problem
from .config import DEFAULTS
from .state import WebState, state

CSP = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; "
    # The group pages' prover (snarkjs) runs in Web Workers made from blob: URLs; without
    # this the proof hangs with no error (docs/v2-plan.md §4).
    "worker-src 'self' blob:; "
    "base-uri 'none'; frame-ancestors 'none'; manifest-src 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


# Pages that work without the script: the explanation a scriptless form lands on, the QR
# code, the safety advice and the plain report form.
NO_SCRIPT = frozenset({"pages.needs_script", "pages.qr", "pages.safety", "pages.report"})


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The application factory; ``config`` overrides ``spartacus.web.config.DEFAULTS``."""
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    app.extensions["spartacus"] = WebState(app.config)
    app.jinja_env.globals["integrity"] = lambda filename: site_files.static_integrity(
        app.static_folder or "", filename
    )
    i18n.init(app)

    from . import api, feed, groups, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(feed.bp)
    app.register_blueprint(groups.pages)
    app.register_blueprint(groups.api)

    @app.before_request
    def connect() -> None:
        if request.endpoint != "static":
            state().start()

    @app.before_request
    def need_bundle() -> None:
        # A page without its script cannot seal anything: say so rather than serve it.
        endpoint = request.endpoint or ""
        if endpoint.startswith(("pages.", "group_pages.")) and endpoint not in NO_SCRIPT:
            problem = bundle_problem(app.static_folder, groups=endpoint.startswith("group_"))
            if problem:
                raise RequestRefused(problem, 503)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def site() -> dict[str, Any]:
        try:
            return {"site": state().site()}
        except Exception:  # noqa: BLE001 - an error page must render even without a chain
            return {"site": {"name": "Spartacus", "chainId": None, "registry": None}}

    errors.register(app)
    return app
