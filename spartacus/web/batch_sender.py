"""One mixed batch on its way: sent as one transaction, then each of its items answered.

The mixer (``mixer``) decides when items go and in which order; this sends what it hands
over. Just before a batch is built every item is checked again, alone, against the latest
state (``batches.check_alone``) and its ``validUntil``: what would now be refused is
answered 409 and never sent. The batch is bound to its items in the durable queue
(``relay_queue``) and its signed bytes are kept before it is sent, so its fate can be read
again after a node outage or a restart. From the receipt each item is settled
(``in_flight``): 200 with the transaction, 409 with the registry's reason in words for an
item skipped on-chain (``BatchItemRefused``), 503 when nothing was sent, 504 while the batch
may still land.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from hexbytes import HexBytes
from web3.exceptions import Web3Exception

from ..chain.batches import KINDS, BatchKind, batch_call, check_alone, explain_refusal, outcomes
from ..chain.records import iso
from ..chain.registry import Registry
from ..chain.sender import RECEIPT_TIMEOUT
from ..exceptions import ContractRevert, RequestRefused, TransactionDropped
from .in_flight import InFlight, Item, Mined
from .relay_queue import RelayQueue, StoredBatch
from .submit import CHECK_FIRST, Submitter

# An item whose validUntil is nearer than this when its batch is built is not sent: it
# could expire before it is mined (and the registry would refuse it, in a mined batch).
EXPIRY_MARGIN = 30


class BatchSender:
    """Sends the mixer's batches through one submitter and answers each item's request.

    ``requeue(items, later)`` gives items back to the mixer (``later``: after a failed
    attempt, not before its next window); ``stopping()`` says the relayer is shutting down.
    """

    def __init__(
        self,
        registry: Registry,
        submitter: Submitter,
        queue: RelayQueue,
        in_flight: InFlight,
        *,
        funds: Callable[[bool], None],
        on_mined: Callable[[BatchKind, Item, Mined], None],
        requeue: Callable[[list[Item], bool], None],
        stopping: Callable[[], bool],
    ) -> None:
        self.registry = registry
        self.submitter = submitter
        self.queue = queue
        self.in_flight = in_flight
        self.funds = funds
        self.on_mined = on_mined
        self.requeue = requeue
        self.stopping = stopping
        self.sender_address = str(submitter.sender.account.address)
        self.batches_sent = 0  # transactions sent (for /api/health and the tests)

    def resolve_all(self) -> bool:
        """Settle the batches already signed (by this run or one before a restart); False
        while one's fate cannot be known yet (nothing new is sent before it is)."""
        for stored in self.queue.batches():
            if not self.resolve(stored):
                return False
        return True

    def send(self, kind: BatchKind, chunk: list[Item]) -> None:
        """Send ``chunk`` as one transaction (what would now be refused alone is answered and
        left out), then settle its items from the receipt."""
        try:
            live = self._still_good(kind, chunk)
            if not live:
                return
            self.funds(kind.leaving)
        except RequestRefused as exc:
            self._not_sent(chunk, exc)
            return
        except (requests.RequestException, Web3Exception):
            self._not_sent(chunk, _node_down())
            return
        batch = self.queue.bind(kind.name, [item.id for item in live])
        fn = batch_call(self.registry, kind, [item.args for item in live])
        try:
            signed = self.submitter.send(
                fn, before_send=lambda s: self.queue.signed(batch, s.tx_hash, s.raw)
            )
        except RequestRefused as exc:
            if exc.status == 504:  # it may have left: its fate is read like a restart's
                self.in_flight.tell(live, exc)
                self.resolve_all()
                return
            self.queue.unbind(batch)
            if exc.status == 409:
                for item in live:
                    self._settle(item, error=exc)
            else:
                self._not_sent(live, exc)
            return
        except (requests.RequestException, Web3Exception):
            self.queue.unbind(batch)
            self._not_sent(live, _node_down())
            return
        self.batches_sent += 1
        ids = tuple(item.id for item in live)
        self.resolve(StoredBatch(batch, kind.name, signed.tx_hash, signed.raw, ids))

    def _still_good(self, kind: BatchKind, chunk: list[Item]) -> list[Item]:
        """The items that would pass alone now; the others are answered and dropped."""
        now = self.registry.latest_timestamp()
        live = []
        for item in chunk:
            try:
                check_alone(self.registry, kind, item.args, self.sender_address)
            except ContractRevert as exc:
                self._settle(item, error=RequestRefused(f"{exc}; nothing was sent", 409))
                continue
            if item.valid_until < now + EXPIRY_MARGIN:
                message = (
                    f"the signature is valid until {iso(item.valid_until)}, too soon for it to "
                    "be mined; nothing was sent: sign again"
                )
                self._settle(item, error=RequestRefused(message, 409))
                continue
            live.append(item)
        return live

    def _not_sent(self, items: list[Item], error: RequestRefused) -> None:
        """Nothing was sent: a held request is told so (503 and the like) and its item
        dropped; an item nobody waits for (reloaded after a restart) waits for the next
        attempt."""
        for item in items:
            if item.done:  # answered already (refused when checked again)
                continue
            if item.waiting > 0:
                self._settle(item, error=error)
            else:
                self.requeue([item], True)

    def resolve(self, stored: StoredBatch) -> bool:
        """Settle a signed batch from its receipt; False while it is not known."""
        kind = KINDS[stored.kind]
        items = self.in_flight.by_ids(stored.items)
        if stored.tx_hash is None or stored.raw is None:  # never signed, so never sent
            self.queue.unbind(stored.id)
            self.requeue(items, False)
            return True
        sender = self.submitter.sender
        deadline = time.monotonic() + RECEIPT_TIMEOUT
        receipt = None
        try:
            while receipt is None and not self.stopping() and time.monotonic() < deadline:
                receipt = sender.wait(stored.tx_hash, 2.0, raw=stored.raw)
        except TransactionDropped:
            # Its nonce went to another transaction: it will never be mined. The items
            # are checked again and sent in the next batch.
            self.queue.unbind(stored.id)
            self.requeue(items, False)
            return True
        except (requests.RequestException, Web3Exception):
            self._unsure(items, f"transaction {stored.tx_hash} was sent, but the node stopped "
                                "answering before it was mined")  # fmt: skip
            return False
        if receipt is None:
            if not self.stopping():
                self._unsure(items, f"transaction {stored.tx_hash} was sent but not mined "
                                    f"within {RECEIPT_TIMEOUT} s")  # fmt: skip
            return False
        self._settle_batch(kind, stored, items, receipt)
        return True

    def _unsure(self, items: list[Item], what: str) -> None:
        """The batch may land or not: held requests are answered 504 (the page keeps the
        receipt code), and the mixer keeps looking."""
        self.in_flight.tell(items, RequestRefused(f"{what}; {CHECK_FIRST}", 504))

    def _settle_batch(
        self, kind: BatchKind, stored: StoredBatch, items: list[Item], receipt: Any
    ) -> None:
        tx = HexBytes(receipt["transactionHash"]).to_0x_hex()
        block = int(receipt["blockNumber"])
        if receipt["status"] != 1:
            reason = self.submitter.sender.explain(tx, receipt)
            error = RequestRefused(f"{reason}; nothing was recorded", 409)
            for each in items:
                self._settle(each, error=error, forget=False)
        else:
            by_id = {each.id: each for each in items}
            ordered = [by_id.get(i) for i in stored.items]
            for item, outcome in zip(
                ordered, outcomes(self.registry, kind, receipt, len(ordered)), strict=True
            ):
                if item is None:
                    continue
                if outcome.refused is not None:
                    reason = explain_refusal(
                        self.registry, kind, item.args, outcome.refused, self.sender_address,
                        block,
                    )  # fmt: skip
                    error = RequestRefused(f"{reason}; nothing was recorded", 409)
                    self._settle(item, error=error, forget=False)
                else:
                    mined = Mined(tx, block, outcome.event)
                    self.on_mined(kind, item, mined)
                    self._settle(item, result=mined, forget=False)
        self.queue.finish(stored.id)

    def _settle(
        self,
        item: Item,
        *,
        result: Mined | None = None,
        error: RequestRefused | None = None,
        forget: bool = True,
    ) -> None:
        """``item``'s outcome is known: forget it (its row too, unless its batch's row goes
        with it) and tell whoever waits."""
        if forget:
            self.queue.remove([item.id])
        self.in_flight.settle(item, result, error)


def _node_down() -> RequestRefused:
    return RequestRefused(
        "the node cannot be reached right now; nothing was sent, try again in a moment", 503, 5
    )
