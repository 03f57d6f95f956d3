"""The operator's moderation store: hidden campaigns and anonymous reports.

The chain record of a campaign cannot be removed; an operator can only stop their own web
front from showing and relaying it. The store is one SQLite file in the app's home folder,
shared by the web app and ``spartacus moderate``. Reports keep what the reporter typed and
when, nothing about who sent them (no address, no headers).
"""

from __future__ import annotations

import sqlite3
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..chain.records import iso
from ..exceptions import TooManyReports, UsageError

REASONS = ("threats", "doxxing", "illegal", "spam", "other")
MAX_DETAILS = 2000
MAX_HIDE_REASON = 500
# Reports kept per campaign. Past this many the operator has been told enough to look;
# more would only let a flood (a script, or a hostile page posting from its visitors'
# browsers) grow the store without bound. ``spartacus moderate dismiss`` makes room again.
MAX_REPORTS_PER_CAMPAIGN = 100

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hidden (
    campaign_id INTEGER PRIMARY KEY,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL,
    reason TEXT NOT NULL,
    details TEXT NOT NULL,
    at INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Hidden:
    campaign_id: int
    reason: str
    at: int

    def as_json(self) -> dict[str, str | int]:
        return {"reason": self.reason, "at": iso(self.at)}


@dataclass(frozen=True)
class Report:
    id: int
    campaign_id: int
    reason: str
    details: str
    at: int


class ModerationStore:
    """Hidden campaigns and reports in ``<folder>/moderation.sqlite3``."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = folder / "moderation.sqlite3"
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # commits, or rolls back on error
                yield db
        finally:
            db.close()

    def hide(self, campaign_id: int, reason: str) -> Hidden:
        reason = reason.strip()
        if not reason:
            raise UsageError("say why the campaign is hidden with --reason")
        if len(reason) > MAX_HIDE_REASON:
            raise UsageError(f"the reason is longer than {MAX_HIDE_REASON} characters")
        hidden = Hidden(campaign_id, reason, int(time.time()))
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO hidden (campaign_id, reason, at) VALUES (?, ?, ?)",
                (hidden.campaign_id, hidden.reason, hidden.at),
            )
        return hidden

    def unhide(self, campaign_id: int) -> bool:
        with self._db() as db:
            return (
                db.execute("DELETE FROM hidden WHERE campaign_id = ?", (campaign_id,)).rowcount > 0
            )

    def hidden(self, campaign_id: int) -> Hidden | None:
        with self._db() as db:
            row = db.execute(
                "SELECT campaign_id, reason, at FROM hidden WHERE campaign_id = ?", (campaign_id,)
            ).fetchone()
        return Hidden(*row) if row else None

    def hidden_ids(self) -> set[int]:
        with self._db() as db:
            return {row[0] for row in db.execute("SELECT campaign_id FROM hidden")}

    def all_hidden(self) -> list[Hidden]:
        with self._db() as db:
            rows = db.execute("SELECT campaign_id, reason, at FROM hidden ORDER BY campaign_id")
            return [Hidden(*row) for row in rows]

    def report(self, campaign_id: int, reason: str, details: str) -> Report:
        if reason not in REASONS:
            raise UsageError(f"the reason must be one of {', '.join(REASONS)}")
        if len(details) > MAX_DETAILS:
            raise UsageError(f"the details are longer than {MAX_DETAILS} characters")
        at = int(time.time())
        with self._db() as db:  # counted and inserted in one statement: no race past the cap
            cursor = db.execute(
                "INSERT INTO reports (campaign_id, reason, details, at) SELECT ?, ?, ?, ? "
                "WHERE (SELECT COUNT(*) FROM reports WHERE campaign_id = ?) < ?",
                (campaign_id, reason, details.strip(), at, campaign_id, MAX_REPORTS_PER_CAMPAIGN),
            )
            if cursor.rowcount == 0:
                raise TooManyReports(
                    f"campaign {campaign_id} already has {MAX_REPORTS_PER_CAMPAIGN} reports "
                    "waiting for this site's operator; thank you, it will be looked at"
                )
            report_id = int(cursor.lastrowid or 0)
        return Report(report_id, campaign_id, reason, details.strip(), at)

    def dismiss(self, campaign_id: int) -> int:
        """Delete a campaign's reports (once read); returns how many there were."""
        with self._db() as db:
            return db.execute("DELETE FROM reports WHERE campaign_id = ?", (campaign_id,)).rowcount

    def reports(self, campaign_id: int | None = None) -> list[Report]:
        query = "SELECT id, campaign_id, reason, details, at FROM reports"
        args: tuple[int, ...] = ()
        if campaign_id is not None:
            query += " WHERE campaign_id = ?"
            args = (campaign_id,)
        with self._db() as db:
            return [Report(*row) for row in db.execute(query + " ORDER BY id", args)]


def printable(text: str) -> str:
    """``text`` safe to print on an operator's terminal: control characters (ANSI escape
    sequences, carriage returns, backspaces, C1 codes) and bidirectional overrides are
    dropped, line breaks and tabs become spaces, so a report cannot repaint the screen,
    forge a line of the listing or hide its own words."""
    out = []
    for char in text:
        if char in "\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029":
            out.append(" ")
        elif unicodedata.category(char) == "Cc" or char in _BIDI:
            continue
        else:
            out.append(char)
    return "".join(out)


# Bidirectional embeddings, overrides and isolates: they reorder how a terminal shows text.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
