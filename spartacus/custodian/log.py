"""Structured logs: one JSON object per line on stderr, each with an ``event`` name.

Events: ``watcher_started``, ``watcher_stopped``, ``campaign_found``, ``release_sent``,
``release_mined``, ``release_pending``, ``release_dropped``, ``finalize_sent``,
``expire_sent``, ``key_destroyed``, ``rpc_unavailable`` and ``problem``. No secret
(campaign secret key, passphrase, release key) is ever passed to ``emit``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

LOGGER = logging.getLogger("spartacus.watcher")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        out: dict[str, Any] = {
            "time": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        out.update(getattr(record, "fields", {}))
        return json.dumps(out, default=str)


def configure(level: int = logging.INFO) -> None:
    """Send the watcher's events to stderr as JSON lines (idempotent)."""
    if any(getattr(h, "_spartacus", False) for h in LOGGER.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._spartacus = True  # type: ignore[attr-defined]
    LOGGER.addHandler(handler)
    LOGGER.setLevel(level)
    LOGGER.propagate = False


def emit(event: str, level: int = logging.INFO, **fields: Any) -> None:
    LOGGER.log(level, event, extra={"fields": fields})


def problem(what: str, **fields: Any) -> None:
    """Something the operator should look at; the daemon carries on."""
    emit("problem", logging.WARNING, problem=what, **fields)
