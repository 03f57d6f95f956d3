"""A campaign's custodians as the site shows them: named from the operator's directory, with
the endorsements of the creation call so that the page checks every key itself.

The page must not trust the site's verdict (the site may be the liar, issue #14): it gets the
custodians the logs name, the endorsements the creation transaction carries and the
directory, and checks the signatures in the browser (frontend/src/custodians.js) before it
seals. The site's own check (``keyCheck``) is shown on the page and in the API; it catches a
lying node behind an honest site even for visitors without the script.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..chain.creation import Endorsement
from ..chain.directory import custodian_label
from ..chain.health import describe_failure
from ..chain.key_check import check_keys, creation_endorsements
from ..chain.records import History
from ..chain.registry import Registry
from ..exceptions import CustodianKeyMismatch, KeysUnchecked

if TYPE_CHECKING:
    from .index import CampaignIndex


class CreationEndorsements:
    """The endorsements of each campaign's creation call, read once per campaign (one
    ``eth_getTransactionByHash``), or why they cannot be read."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        # campaign id -> (creation transaction, its endorsements or None, why none)
        self._known: dict[int, tuple[str, list[Endorsement] | None, str | None]] = {}

    def get(self, history: History) -> tuple[list[Endorsement] | None, str | None]:
        """A node that fails now is asked again on the next request; a definite answer
        (found, or not a direct createCampaign call) is kept."""
        terms = history.terms
        assert terms is not None
        with self._lock:
            known = self._known.get(history.campaign_id)
        if known is not None and known[0] == terms.transaction_hash:
            return known[1], known[2]
        try:
            found: list[Endorsement] | None = creation_endorsements(self.registry, history)
            problem = None
        except KeysUnchecked as exc:
            found, problem = None, str(exc)
        except Exception as exc:  # noqa: BLE001 - the node failed: not kept, asked again
            reason = describe_failure(exc)
            return None, f"the creation transaction cannot be read now ({reason})"
        with self._lock:
            self._known[history.campaign_id] = (terms.transaction_hash, found, problem)
        return found, problem


def custodians(index: CampaignIndex, history: History) -> dict[str, Any]:
    """``custodians`` (as the logs name them, labelled), ``endorsements`` (None when they
    cannot be read) and ``keyCheck`` (the site's own verdict) for a campaign's detail."""
    endorsements, problem = index.endorsements.get(history)
    if endorsements is not None:
        try:
            check_keys(
                index.registry.chain_id,
                index.registry.address,
                history.custodians,
                endorsements,
                index.directory,
            )
        except CustodianKeyMismatch as exc:
            problem = str(exc)
    listed = [
        {
            "index": c.index,
            "account": c.account,
            "campaignKey": "0x" + c.campaign_key.hex(),
            **custodian_label(c.account, index.directory, operator_account=index.operator),
        }
        for c in history.custodians
    ]
    signed = None
    if endorsements is not None:
        signed = [
            {
                "custodian": e.custodian,
                "campaignKey": "0x" + e.campaign_key.hex(),
                "expiry": e.expiry,
                "signature": "0x" + e.signature.hex(),
            }
            for e in endorsements
        ]
    return {
        "custodians": listed,
        "endorsements": signed,
        "keyCheck": {"ok": problem is None, "problem": problem},
    }
