"""How the relayer sends: its wallet's transactions go through the chain's one sender
(``spartacus.chain.sender``), and what becomes of them is told in HTTP statuses.

Submissions are serialised (one nonce sequence); waiting for the receipt happens outside
the lock. What a status tells the page:

- 409: the registry refused, when the gas estimate ran the call or once mined: nothing
  was recorded;
- 502: the node refused the transaction: nothing was sent;
- 503: nothing was sent, try again (the relayer is stopping; a node unreachable before
  anything was signed is answered 503 by the app's error handler);
- 504: sent, and whether it lands is not known: the page keeps the receipt code and checks
  the campaign before trying again. Never 503 once a transaction may have reached the node.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import requests
from web3.exceptions import Web3Exception

from ..chain.sender import RECEIPT_TIMEOUT, Sender, Signed
from ..exceptions import (
    ContractRevert,
    FeeAboveCap,
    InsufficientFunds,
    RequestRefused,
    SendInterrupted,
    TransactionDropped,
    TransactionRefused,
)
from .i18n import N_

CHECK_FIRST = "check the campaign page before trying again"


class Submitter:
    """One wallet's submissions (relayed items through the mixer, campaigns directly)."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.closed = False  # set when the app stops: nothing more is sent
        self._send_lock = threading.Lock()

    def submit(self, fn: Any, *, sender: Sender | None = None) -> Any:
        """Send ``fn`` (its gas estimate runs the call: a revert is refused unmined) and
        wait for it to be mined; returns the receipt of a transaction that succeeded.

        ``sender``: the same wallet's sender for another contract (the groups contract, whose
        custom errors it decodes); it shares this wallet's lock, so nonces never race."""
        return self.wait(self.send(fn, sender=sender), sender=sender)

    def send(
        self,
        fn: Any,
        *,
        before_send: Callable[[Signed], None] | None = None,
        sender: Sender | None = None,
    ) -> Signed:
        """Sign and send ``fn`` (one at a time: one nonce sequence); what went wrong is a
        ``RequestRefused`` with its status (504: it may have left, ``before_send`` was
        given its hash and bytes)."""
        with self._send_lock:
            if self.closed:
                raise RequestRefused(N_("the relayer is restarting; try again in a moment"), 503, 1)
            try:
                return (sender or self.sender).send(fn, before_send=before_send)
            except ContractRevert as exc:
                raise RequestRefused(str(exc), 409) from None
            except FeeAboveCap:
                raise RequestRefused(
                    N_(
                        "network fees are above what this relayer pays (its operator's cap); "
                        "nothing was sent: try again later or use a wallet"
                    ),
                    503,
                    60,
                ) from None
            except InsufficientFunds:
                # Gas at the max fee, plus the L1 data fee on OP-stack chains (chain.fees).
                raise RequestRefused(
                    N_(
                        "the relayer cannot pay for this transaction right now; nothing was "
                        "sent: try later or use a wallet"
                    ),
                    503,
                    60,
                ) from None
            except TransactionRefused as exc:
                raise RequestRefused(str(exc), 502) from None
            except SendInterrupted as exc:
                raise RequestRefused(
                    f"the node stopped answering while transaction {exc.tx_hash} was being "
                    f"sent; {CHECK_FIRST}",
                    504,
                ) from None

    def wait(self, signed: Signed, *, sender: Sender | None = None) -> Any:
        """Wait for a sent transaction; its receipt if it succeeded, else ``RequestRefused``."""
        sender = sender or self.sender
        tx = signed.tx_hash
        try:
            receipt = sender.wait(tx, RECEIPT_TIMEOUT, raw=signed.raw)
        except TransactionDropped:
            raise RequestRefused(
                f"transaction {tx} was dropped by the node and its nonce was used by another; "
                + CHECK_FIRST,
                504,
            ) from None
        except (requests.RequestException, Web3Exception):
            # The node went away after taking the transaction: it may be mined, or lost
            # with the node's pool. Never 503 here: the page reads 503 as "nothing was
            # recorded" and forgets the receipt code of a pledge that may have landed.
            raise RequestRefused(
                f"transaction {tx} was sent, but the node stopped answering before it was "
                f"mined; {CHECK_FIRST}",
                504,
            ) from None
        if receipt is None:
            raise RequestRefused(
                f"transaction {tx} was sent but not mined within {RECEIPT_TIMEOUT} s; "
                + CHECK_FIRST,
                504,
            )
        if receipt["status"] != 1:
            # Mined and refused: nothing was recorded, so a 409 with the registry's reason
            # (e.g. a withdrawal overtaken by the pledge that revealed the campaign).
            raise RequestRefused(sender.explain(tx, receipt), 409)
        return receipt
