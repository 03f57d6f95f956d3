"""The custodian's key-issuance endpoint, served by the daemon (``spartacus watch --listen``).

- ``POST /keys`` with an optional JSON body ``{"expiresIn": seconds, "registry": "0x..",
  "chainId": n, "mailRoster": true}`` creates a fresh campaign key and returns its
  endorsement (the object ``spartacus create --endorsement`` reads), status 201.
  ``registry`` and ``chainId``, when given, must match the registry this custodian
  watches, so a creator never receives a key for another chain. ``mailRoster`` (default
  false) asks this custodian to e-mail the roster to the members after the reveal; it is
  kept with the key, and the daemon acts on it only with ``--smtp`` and a custodian
  threshold of 1.
- ``GET /health``: 200 while passes succeed, 503 after repeated failures or passes that did
  nothing because the RPC sources disagree (``held`` says why), and while a campaign is left
  alone for that reason (``campaignsHeld``).

Bad requests get a 4xx JSON ``{"error": reason}``; too many requests get 429 with
``Retry-After``. Only public facts ever leave: the campaign key's public half and the
custodian's signature.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, make_server

from ..ratelimit import RateLimiter
from .endorsement import endorse
from .log import emit

if TYPE_CHECKING:
    from .daemon import Watcher

DEFAULTS: dict[str, Any] = {
    "DEFAULT_EXPIRY": 7 * 86400,
    "MIN_EXPIRY": 600,
    "MAX_EXPIRY": 30 * 86400,
    # Keys issued per client address (held in memory only, for the hour) and for everyone.
    # A client gets at most half the hour, so no one client spends it for everyone; a web
    # app asking for its creators is one client here, and shares its part out among them
    # itself (spartacus.web's /api/endorsements limit per visitor).
    "RATE_PER_MINUTE": 6,
    "RATE_PER_CLIENT_HOUR": 30,
    "RATE_PER_HOUR": 60,
    "MAX_BODY": 4096,
}


class BadRequest(Exception):
    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


def create_app(watcher: Watcher, config: Mapping[str, Any] | None = None) -> Flask:
    """The application factory; ``watcher`` gives the keystore, account and registry."""
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY"]
    limiter = RateLimiter(
        app.config["RATE_PER_MINUTE"],
        app.config["RATE_PER_HOUR"],
        per_client_hour=app.config["RATE_PER_CLIENT_HOUR"],
    )
    issuing = threading.Lock()

    @app.errorhandler(BadRequest)
    def bad_request(exc: BadRequest) -> Any:
        return jsonify(error=str(exc)), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        return jsonify(error=exc.description or exc.name), exc.code or 500

    @app.post("/keys")
    def issue_key() -> Any:
        body = _body()
        unknown = set(body) - {"expiresIn", "registry", "chainId", "mailRoster"}
        if unknown:
            raise BadRequest(f"unknown field(s): {', '.join(sorted(unknown))}")
        expires_in = body.get("expiresIn", app.config["DEFAULT_EXPIRY"])
        low, high = app.config["MIN_EXPIRY"], app.config["MAX_EXPIRY"]
        if not isinstance(expires_in, int) or isinstance(expires_in, bool):
            raise BadRequest("expiresIn must be a whole number of seconds")
        if not low <= expires_in <= high:
            raise BadRequest(f"expiresIn must be between {low} and {high} seconds")
        mail_roster = body.get("mailRoster", False)
        if not isinstance(mail_roster, bool):
            raise BadRequest("mailRoster must be true or false")
        wait = limiter.check(request.remote_addr or "unknown")
        if wait:
            response = jsonify(error=f"too many key requests; try again in {wait} s")
            response.headers["Retry-After"] = str(wait)
            return response, 429
        try:
            registry = watcher.registry
            now = registry.latest_timestamp()
        except Exception as exc:  # noqa: BLE001 - the node is down: say so, do not crash
            reason = f"the custodian cannot reach its chain ({type(exc).__name__})"
            raise BadRequest(reason, 503) from None
        wanted = body.get("registry")
        if wanted is not None and str(wanted).lower() != registry.address.lower():
            raise BadRequest(f"this custodian serves registry {registry.address}", 409)
        if body.get("chainId") is not None and body["chainId"] != registry.chain_id:
            raise BadRequest(f"this custodian serves chain {registry.chain_id}", 409)
        with issuing:
            endorsement = endorse(
                watcher.keystore, registry, now + expires_in, mail_roster=mail_roster
            )
        emit(
            "key_issued",
            campaign_key=endorsement["campaignKey"],
            expiry=endorsement["expiry"],
            mail_roster=mail_roster,
        )
        return jsonify(endorsement), 201

    @app.get("/health")
    def health() -> Any:
        report = health_report(watcher)
        return jsonify(report), 200 if report["ok"] else 503

    return app


def health_report(watcher: Watcher) -> dict[str, Any]:
    """For ``GET /health``: ok while passes succeed and act on every campaign. A pass that
    did nothing because the RPC sources disagree, too few answered or the block's clock
    jumped counts as failed and says why in ``held``; a campaign left alone for that reason
    is in ``campaignsHeld``. Sources are named by position, never by URL."""
    failures = watcher.failures
    report = {
        "ok": failures < 3
        and (watcher.last_pass is not None or time.time() - watcher.started < 60)
        and not watcher.report.get("campaignsHeld"),
        "custodian": watcher.account.address,
        "lastPass": int(watcher.last_pass) if watcher.last_pass else None,
        "failures": failures,
        "lastError": watcher.public_error if failures else None,
        "held": watcher.held,
    }
    return {**report, **watcher.report}


def _body() -> dict[str, Any]:
    if not request.get_data():
        return {}
    if not request.is_json:
        raise BadRequest("send a JSON object with Content-Type: application/json", 415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the body is not a JSON object")
    return body


def parse_listen(text: str) -> tuple[str, int]:
    """``PORT`` (loopback) or ``HOST:PORT``; ``[::1]:PORT`` for IPv6."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen {text!r} is not HOST:PORT")
    return host, int(port)


def serve(app: Flask, host: str, port: int) -> BaseWSGIServer:
    """Serve ``app`` on a background thread; returns the server (``shutdown()`` stops it)."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(host, port, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="spartacus-http", daemon=True).start()
    emit("http_listening", host=host, port=server.server_port)
    return server
