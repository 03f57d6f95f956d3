"""The public web app: campaign pages, live counts, in-browser pledging, the relayer.

``create_app(config=None)`` is the application factory. It touches no network: the chain
is reached on the first request (or when ``spartacus serve`` starts the poller), so the
app can be built anywhere. Everything secret happens in the visitor's browser; the server
only ever sees sealed pledges, signatures and public chain data. It sets no cookies and
keeps no request log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from flask import Flask, Response, current_app, jsonify, render_template, request
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3Exception
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from werkzeug.exceptions import HTTPException

from ..chain import Registry
from ..context import find_registry
from ..exceptions import RequestRefused, SpartacusError
from ..files import resolve_home
from .config import DEFAULTS, EXPLORERS, CustodianEntry, parse_custodians
from .index import CampaignIndex
from .moderation import ModerationStore
from .relay import Relayer

CSP = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; "
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


CHAIN_DOWN_RETRY_AFTER = 5  # seconds a client is asked to wait while the node is away


class WebState:
    """What the app shares across requests: chain, index, relayer, store. Built lazily."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.custodians: list[CustodianEntry] = parse_custodians(config["CUSTODIANS"] or "")
        self.viewers = threading.BoundedSemaphore(int(config["MAX_VIEWERS"]))
        self._start_lock = threading.Lock()
        self._hidden: tuple[float, set[int]] = (0.0, set())

    @cached_property
    def home(self) -> Path:
        return resolve_home(self.config["HOME"])

    @cached_property
    def w3(self) -> Web3:
        given = self.config.get("WEB3")
        if isinstance(given, Web3):
            return given
        retry = ExceptionRetryConfiguration(
            errors=(requests.ConnectionError, requests.HTTPError, requests.Timeout), retries=1
        )
        provider = HTTPProvider(
            self.config["RPC"],
            request_kwargs={"timeout": float(self.config["RPC_TIMEOUT"])},
            exception_retry_configuration=retry,
        )
        return Web3(provider)

    @cached_property
    def registry(self) -> Registry:
        return find_registry(self.w3, self.home, self.config["REGISTRY"])

    @cached_property
    def index(self) -> CampaignIndex:
        return CampaignIndex(self.registry, poll_interval=float(self.config["POLL_INTERVAL"]))

    @cached_property
    def store(self) -> ModerationStore:
        return ModerationStore(self.home / "web")

    @cached_property
    def relayer(self) -> Relayer | None:
        key = self.config["RELAYER_KEY"]
        if not key:
            return None
        account: LocalAccount = key if isinstance(key, LocalAccount) else Account.from_key(key)
        return Relayer(
            self.registry,
            self.index,
            account,
            per_campaign_per_minute=int(self.config["RELAY_PER_CAMPAIGN_PER_MINUTE"]),
            per_hour=int(self.config["RELAY_PER_HOUR"]),
            min_balance=int(self.config["RELAY_MIN_BALANCE_WEI"]),
            withdraw_reserve=int(self.config["RELAY_WITHDRAW_RESERVE_WEI"]),
            is_hidden=self.is_hidden,
        )

    @cached_property
    def explorer(self) -> str | None:
        base = self.config["EXPLORER"] or EXPLORERS.get(self.registry.chain_id)
        return f"{base.rstrip('/')}/address/{self.registry.address}" if base else None

    def start(self) -> None:
        """Connect, catch up with the registry's logs and start the poller (once)."""
        with self._start_lock:
            self.index.start()
            # The chain id never changes: read it now, so that pages, /api/config and
            # /api/health do not need the node (they failed with 503 when the node went
            # away before anything had asked for it).
            try:
                _ = self.registry.chain_id
            except Exception:  # noqa: BLE001 - node down at start: the first use reads it
                pass

    def stop(self) -> None:
        """Stop polling and relaying (a stopping server must not start new transactions)."""
        if "relayer" in self.__dict__ and self.relayer is not None:
            self.relayer.closed = True
        if "index" in self.__dict__:
            self.index.stop()

    def hidden_ids(self) -> set[int]:
        """Hidden campaigns, re-read from the store at most every two seconds."""
        at, ids = self._hidden
        if time.monotonic() - at > 2.0:
            ids = self.store.hidden_ids()
            self._hidden = (time.monotonic(), ids)
        return ids

    def is_hidden(self, campaign_id: int) -> bool:
        return campaign_id in self.hidden_ids()

    def site(self) -> dict[str, Any]:
        return {
            "name": "Spartacus",
            "chainId": self.registry.chain_id,
            "registry": self.registry.address,
            "explorer": self.explorer,
        }


def state() -> WebState:
    """The app's shared state (inside a request or app context)."""
    shared: WebState = current_app.extensions["spartacus"]
    return shared


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The application factory; ``config`` overrides ``spartacus.web.config.DEFAULTS``."""
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    app.extensions["spartacus"] = WebState(app.config)
    app.jinja_env.filters["utc"] = lambda unix: time.strftime(
        "%d %b %Y, %H:%M UTC", time.gmtime(int(unix))
    )

    from . import api, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)

    @app.before_request
    def connect() -> None:
        if request.endpoint != "static":
            state().start()

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

    @app.errorhandler(RequestRefused)
    def refused(exc: RequestRefused) -> Any:
        return _error(str(exc), exc.status, exc.retry_after)

    @app.errorhandler(SpartacusError)
    def failed(exc: SpartacusError) -> Any:
        return _error(str(exc), 502)

    @app.errorhandler(requests.exceptions.RequestException)
    @app.errorhandler(Web3Exception)
    def chain_down(exc: Exception) -> Any:
        # Only failures before anything was sent reach here (the relayer answers 504 itself
        # once a transaction may have reached the node): 503 tells the page that nothing
        # was recorded, and Retry-After when to try again.
        return _error(
            f"the chain cannot be reached right now ({type(exc).__name__}); try again in a moment",
            503,
            CHAIN_DOWN_RETRY_AFTER,
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        messages = {
            404: "there is nothing at this address",
            405: "this address does not take that method",
            413: "the request is too large",
        }
        code = exc.code or 500
        return _error(messages.get(code) or exc.description or exc.name, code)

    return app


def _error(message: str, status: int, retry_after: int | None = None) -> Any:
    if request.path.startswith("/api/"):
        response = jsonify(error=message)
    else:
        response = Response(render_template("error.html", status=status, message=message))
    response.status_code = status
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response
