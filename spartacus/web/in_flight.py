"""Relayed items in flight, and the requests held for their outcome (for ``mixer``).

An item is in flight from the moment it is queued until its outcome is known: mined (its
event's arguments), refused (409 with the registry's reason), or not sent (503). Any number
of requests may wait for one item: the request that made it, and the very same request sent
again after a broken connection (``join``). A different request for the same (campaign,
account) is refused while one is in flight, as it would revert once mined.

When the mixer cannot learn an item's fate for now (the node went away with its batch, the
relayer stops), the requests held are answered 504 at once (``tell``); the item stays in
flight and in the queue file, and may still be mined.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..chain.batches import BatchKind
from ..chain.records import iso
from ..exceptions import RequestRefused
from .submit import CHECK_FIRST


@dataclass(frozen=True)
class Mined:
    """An accepted item: its batch's transaction and block, and its event's arguments."""

    tx_hash: str
    block: int
    event: dict[str, Any]


@dataclass(eq=False)
class Item:
    id: int
    kind: BatchKind
    campaign_id: int
    account: str
    body: dict[str, Any]
    args: tuple[Any, ...]  # the single call's arguments, as its batch struct holds them
    valid_until: int
    waiting: int = 0  # requests held for its outcome
    done: bool = False  # settled: ``result`` or ``error`` is its outcome
    result: Mined | None = None
    error: RequestRefused | None = None
    # What the requests held now are told when no outcome can be known for a while (504:
    # the node went away with the batch, the relayer stops); the item itself stays queued.
    notice: RequestRefused | None = None
    notices: int = 0
    on_settled: list[Callable[[Item], None]] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, str]:
        return (self.campaign_id, self.account.lower())


class InFlight:
    """The items in flight by (campaign, account) and by queue id, under one condition."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self._by_key: dict[tuple[int, str], Item] = {}
        self._by_id: dict[int, Item] = {}

    def __len__(self) -> int:
        with self.cond:
            return len(self._by_key)

    def join(self, campaign_id: int, account: str, body: dict[str, Any]) -> Item | None:
        """The item in flight for (campaign, account), to be waited for, if ``body`` is the
        very request it was made from (a retry); else None: the request is checked as new,
        and ``check_free`` refuses it while another for the account is in flight."""
        with self.cond:
            item = self._by_key.get((campaign_id, account.lower()))
            if item is None or item.body != body:
                return None
            item.waiting += 1
            return item

    def check_free(self, item: Item) -> None:
        with self.cond:
            if item.key in self._by_key:
                raise RequestRefused(
                    f"a request for {item.account} in campaign {item.campaign_id} is already "
                    "on its way",
                    409,
                )

    def register(self, item: Item) -> None:
        with self.cond:
            self._by_key[item.key] = item
            self._by_id[item.id] = item

    def by_ids(self, ids: Iterable[int]) -> list[Item]:
        with self.cond:
            return [self._by_id[i] for i in ids if i in self._by_id]

    def wait(self, item: Item, hold: float) -> Mined:
        """Hold a request until ``item`` is settled; 504 after ``hold`` seconds, or at once
        when ``tell`` says no outcome can be known for now (the item stays in flight)."""
        deadline = time.monotonic() + hold
        with self.cond:
            seen = item.notices
            while not item.done and item.notices == seen:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            item.waiting -= 1
            if item.done:
                if item.error is not None:
                    raise item.error
                assert item.result is not None
                return item.result
            if item.notices != seen and item.notice is not None:
                raise item.notice
        raise RequestRefused(
            f"your request is queued or on its way but not mined yet; it may still be "
            f"recorded until {iso(item.valid_until)}: {CHECK_FIRST}",
            504,
        )

    def tell(self, items: Iterable[Item], notice: RequestRefused) -> None:
        """Answer the requests held for ``items`` with ``notice`` now."""
        with self.cond:
            for item in items:
                if not item.done:
                    item.notice = notice
                    item.notices += 1
            self.cond.notify_all()

    def tell_all(self, notice: RequestRefused) -> None:
        with self.cond:
            self.tell(list(self._by_key.values()), notice)

    def settle(self, item: Item, result: Mined | None, error: RequestRefused | None) -> None:
        """``item``'s outcome is known: it leaves, whoever waits is answered, and its
        callbacks run (once)."""
        with self.cond:
            if item.done:
                return
            if self._by_key.get(item.key) is item:
                del self._by_key[item.key]
            self._by_id.pop(item.id, None)
            item.result, item.error, item.done = result, error, True
            self.cond.notify_all()
        for callback in item.on_settled:
            callback(item)
