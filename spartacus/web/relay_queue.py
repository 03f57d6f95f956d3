"""The relayer's durable queue: signed items waiting to be mixed, and batches on their way.

One SQLite file in the web app's home folder (``web/relay-queue.sqlite3``). An item is
written before its requester is told anything, and stays until its outcome is known; a
batch is written with the items it holds before it is signed, and gets its transaction's
hash and signed bytes just before they leave (``Sender.send``'s ``before_send``). So after
a crash at any point a restarted relayer finds each item either waiting (it joins the next
batch) or in a batch whose transaction it can look up and send again byte for byte (the
same nonce: never a second transaction), never both.

What is kept is what the chain will show anyway (sealed pledges, signatures, accounts), for
as long as it takes to mine it: no arrival time, no client address. Rows are deleted once
settled, with ``secure_delete`` so that their bytes are overwritten in the file too.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    tx_hash TEXT,
    raw BLOB
);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    batch INTEGER REFERENCES batches(id),
    position INTEGER
);
"""


@dataclass(frozen=True)
class StoredItem:
    id: int
    kind: str
    body: dict[str, Any]
    batch: int | None


@dataclass(frozen=True)
class StoredBatch:
    id: int
    kind: str
    tx_hash: str | None  # None: not signed yet, so never sent
    raw: bytes | None
    items: tuple[int, ...]  # in the batch's order


class RelayQueue:
    """The queue file; safe to use from several threads."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "relay-queue.sqlite3"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA secure_delete = ON")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.executescript(_SCHEMA)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def add(self, kind: str, body: dict[str, Any]) -> int:
        """Keep an item (its request body as received); returns its id."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO items (kind, body) VALUES (?, ?)", (kind, json.dumps(body))
            )
            return int(cursor.lastrowid or 0)

    def items(self) -> list[StoredItem]:
        with self._lock:
            rows = self._db.execute("SELECT id, kind, body, batch FROM items").fetchall()
        return [StoredItem(r[0], r[1], json.loads(r[2]), r[3]) for r in rows]

    def bind(self, kind: str, item_ids: list[int]) -> int:
        """A new batch of these items, in this order; returns its id."""
        with self._transaction() as db:
            cursor = db.execute("INSERT INTO batches (kind) VALUES (?)", (kind,))
            batch = int(cursor.lastrowid or 0)
            db.executemany(
                "UPDATE items SET batch = ?, position = ? WHERE id = ?",
                [(batch, position, item) for position, item in enumerate(item_ids)],
            )
            return batch

    def signed(self, batch: int, tx_hash: str, raw: bytes) -> None:
        """The batch's transaction, about to leave."""
        with self._transaction() as db:
            db.execute(
                "UPDATE batches SET tx_hash = ?, raw = ? WHERE id = ?", (tx_hash, raw, batch)
            )

    def unbind(self, batch: int) -> None:
        """The batch was not sent (or was dropped): its items wait again."""
        with self._transaction() as db:
            db.execute("UPDATE items SET batch = NULL, position = NULL WHERE batch = ?", (batch,))
            db.execute("DELETE FROM batches WHERE id = ?", (batch,))

    def batches(self) -> list[StoredBatch]:
        with self._lock:
            rows = self._db.execute("SELECT id, kind, tx_hash, raw FROM batches").fetchall()
            out = []
            for batch, kind, tx_hash, raw in rows:
                items = self._db.execute(
                    "SELECT id FROM items WHERE batch = ? ORDER BY position", (batch,)
                ).fetchall()
                out.append(
                    StoredBatch(batch, kind, tx_hash, bytes(raw) if raw else None,
                                tuple(i[0] for i in items))
                )  # fmt: skip
        return out

    def remove(self, item_ids: list[int]) -> None:
        """Settled items: forget them."""
        with self._transaction() as db:
            db.executemany("DELETE FROM items WHERE id = ?", [(i,) for i in item_ids])

    def finish(self, batch: int) -> None:
        """A batch whose outcome is known: forget it and its items."""
        with self._transaction() as db:
            db.execute("DELETE FROM items WHERE batch = ?", (batch,))
            db.execute("DELETE FROM batches WHERE id = ?", (batch,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
