"""Structured logs on stderr, each with an ``event`` name: one JSON object per line, or
(``--log-format text``, the default on a terminal) one readable line per event.

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


class TextFormatter(logging.Formatter):
    """``2026-12-03 07:30:01 info    release_sent campaign=1 tx=0x...``: for a person."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        fields = getattr(record, "fields", {})
        pairs = " ".join(f"{k}={_text(v)}" for k, v in fields.items())
        return f"{stamp} {record.levelname.lower():7} {record.getMessage()} {pairs}".rstrip()


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if not text or any(c.isspace() or c == '"' for c in text) else text


FORMATS = ("text", "json")


def default_format() -> str:
    """Readable lines on a terminal, JSON lines otherwise (files, journald, collectors)."""
    return "text" if sys.stderr.isatty() else "json"


def configure(level: int = logging.INFO, fmt: str = "json") -> None:
    """Send the watcher's events to stderr as JSON lines or text lines (idempotent)."""
    if any(getattr(h, "_spartacus", False) for h in LOGGER.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter() if fmt == "text" else JsonFormatter())
    handler._spartacus = True  # type: ignore[attr-defined]
    LOGGER.addHandler(handler)
    LOGGER.setLevel(level)
    LOGGER.propagate = False


def emit(event: str, level: int = logging.INFO, **fields: Any) -> None:
    LOGGER.log(level, event, extra={"fields": fields})


def problem(what: str, **fields: Any) -> None:
    """Something the operator should look at; the daemon carries on."""
    emit("problem", logging.WARNING, problem=what, **fields)
