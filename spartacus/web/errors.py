"""Errors as HTTP answers, in one place: a typed error from any layer gets its status
here (JSON under /api/, the error page elsewhere), with Retry-After where waiting helps."""

from __future__ import annotations

from typing import Any

import requests
from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext
from web3.exceptions import Web3Exception
from werkzeug.exceptions import HTTPException

from ..exceptions import (
    AlreadyPledged,
    BadSignature,
    CampaignClosed,
    MalformedSignature,
    NotAMember,
    NotPledged,
    NullifierInUse,
    RequestRefused,
    RuleViolation,
    SpartacusError,
    WrongStatus,
)

CHAIN_DOWN_RETRY_AFTER = 5  # seconds a client is asked to wait while the node is away

# The HTTP status of each typed error: the first of its classes (most specific first) that
# is listed here. A ``RequestRefused`` carries its own status and Retry-After instead.
HTTP_STATUS: dict[type[SpartacusError], int] = {
    # A request that breaks a registry rule as sent (a size, N, t, a deadline...): 400.
    RuleViolation: 400,
    MalformedSignature: 400,
    # A request the campaign's state or the account's nonce refuses: sending it again as it
    # is will not help, but it was well formed.
    CampaignClosed: 409,
    WrongStatus: 409,
    AlreadyPledged: 409,
    NotPledged: 409,
    BadSignature: 409,
    NullifierInUse: 409,
    # A gated campaign's group does not count the prover among its members.
    NotAMember: 403,
    # Anything else of ours went wrong behind the app (the chain, a custodian's answer).
    SpartacusError: 502,
}


def http_status(exc: SpartacusError) -> int:
    if isinstance(exc, RequestRefused):
        return exc.status
    return next(HTTP_STATUS[cls] for cls in type(exc).__mro__ if cls in HTTP_STATUS)


def register(app: Flask) -> None:
    """Install the handlers that turn errors into answers."""

    @app.errorhandler(SpartacusError)
    def failed(exc: SpartacusError) -> Any:
        return _error(str(exc), http_status(exc), getattr(exc, "retry_after", None))

    @app.errorhandler(requests.exceptions.RequestException)
    @app.errorhandler(Web3Exception)
    def chain_down(exc: Exception) -> Any:
        # Only failures before anything was sent reach here (the relayer answers 504 itself
        # once a transaction may have reached the node): 503 tells the page that nothing
        # was recorded, and Retry-After when to try again.
        return _error(
            gettext(
                "the chain cannot be reached right now (%(problem)s); try again in a moment",
                problem=type(exc).__name__,
            ),
            503,
            CHAIN_DOWN_RETRY_AFTER,
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        messages = {
            404: gettext("there is nothing at this address"),
            405: gettext("this address does not take that method"),
            413: gettext("the request is too large"),
        }
        code = exc.code or 500
        return _error(messages.get(code) or exc.description or exc.name, code)


def _error(message: str, status: int, retry_after: int | None = None) -> Any:
    # In the page's language when the catalogue has it (i18n.N_ marks those); else as it is.
    message = gettext(message)
    if request.path.startswith("/api/"):
        response = jsonify(error=message)
    else:
        response = Response(render_template("error.html", status=status, message=message))
    response.status_code = status
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response
