"""A release transaction in flight: saved before it is sent, settled on a later pass.

The daemon saves a release's hash before the transaction leaves (``PendingRelease`` in the
campaign's record). Here it is settled: mined means recorded (``release_mined``), still in
the node's pool means wait, unknown to the node means dropped (``release_dropped``), and
the release is planned again from the logs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..chain.sender import Sender
from ..exceptions import TransactionDropped
from .log import emit, problem
from .state import CampaignRecord, MinedRelease, WatchState


class InFlight:
    """Settles the release saved as sent for a campaign; ``sender`` and ``state`` are asked
    for each time, as the daemon builds them lazily."""

    def __init__(
        self,
        sender: Callable[[], Sender],
        state: Callable[[], WatchState],
        receipt_timeout: float,
    ) -> None:
        self._sender = sender
        self._state = state
        self.receipt_timeout = receipt_timeout

    def resolve(self, campaign_id: int, record: CampaignRecord) -> bool:
        """Settle a release saved as sent; True when nothing is in flight any more."""
        pending = record.pending
        if pending is None:
            return True
        sender = self._sender()
        if not sender.known(pending.tx):
            receipt = sender.receipt(pending.tx)
            if receipt is None:
                emit("release_dropped", campaign=campaign_id, tx=pending.tx)
                record.pending = None
                return True
            self._mined(campaign_id, record, receipt)
            return True
        return self.wait(campaign_id, record, min(self.receipt_timeout, 5.0))

    def wait(
        self, campaign_id: int, record: CampaignRecord, timeout: float, raw: bytes | None = None
    ) -> bool:
        """Wait for the pending release; True once mined. With its signed bytes (``raw``,
        not kept on disk), a node that lost it is sent them again."""
        assert record.pending is not None
        tx = record.pending.tx
        try:
            receipt = self._sender().wait(tx, timeout, raw=raw)
        except TransactionDropped:
            return False  # its nonce went to another: the next pass finds it dropped
        if receipt is None:
            emit("release_pending", campaign=campaign_id, tx=tx)
            return False
        self._mined(campaign_id, record, receipt)
        return True

    def _mined(self, campaign_id: int, record: CampaignRecord, receipt: Any) -> None:
        pending = record.pending
        assert pending is not None
        record.pending = None
        if receipt["status"] != 1:
            problem("release reverted", campaign=campaign_id, tx=pending.tx)
        else:
            block = int(receipt["blockNumber"])
            record.releases.append(MinedRelease(pending.round, pending.tx, block))
            emit(
                "release_mined",
                campaign=campaign_id,
                round=pending.round,
                tx=pending.tx,
                block=block,
            )
        self._state().save()
