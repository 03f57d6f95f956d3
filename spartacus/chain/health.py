"""Node health in words fit for the public: a failed call says what failed, never the URL."""

from __future__ import annotations

import requests

from ..exceptions import ChainError

# RPC URL, and a hosted node's URL carries its API key (operators' logs keep the whole text).
NODE_UNREACHABLE = "the node cannot be reached"


def is_connection_error(exc: BaseException | None) -> bool:
    """Whether ``exc``, or anything that caused it, means the node could not be reached."""
    while exc is not None:
        if isinstance(exc, requests.exceptions.RequestException | ConnectionError | OSError):
            return True
        if isinstance(exc, ChainError) and "cannot reach the chain" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def describe_failure(exc: BaseException) -> str:
    """A failed node call in words fit for the public (``/health``, ``/api/health``)."""
    if is_connection_error(exc):
        return NODE_UNREACHABLE
    return f"{type(exc).__name__}: {exc}"[:500]
