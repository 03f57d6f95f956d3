"""A campaign's custodians as the site shows them: named from the operator's directory, with
the endorsements their ``CustodianAssigned`` logs carry, so that the page checks every key
itself.

The page must not trust the site's verdict (the site may be the liar, issue #14): it gets the
custodians and endorsements the logs name and the directory, and checks the signatures in
the browser (frontend/src/custodians.js) before it seals. The site's own check
(``keyCheck``) is shown on the page and in the API; it catches a lying node behind an honest
site even for visitors without the script.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..chain.creation import Endorsement
from ..chain.directory import custodian_label
from ..chain.key_check import check_keys, logged_endorsements
from ..chain.records import History
from ..chain.registry import Registry
from ..exceptions import CustodianKeyMismatch, KeysUnchecked

if TYPE_CHECKING:
    from .index import CampaignIndex


class CreationEndorsements:
    """The endorsements of each campaign, from its ``CustodianAssigned`` logs (protocol v2:
    no node call), or why they cannot be read."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def get(self, history: History) -> tuple[list[Endorsement] | None, str | None]:
        try:
            return logged_endorsements(history), None
        except KeysUnchecked as exc:
            return None, str(exc)


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
            # The endorsement the CustodianAssigned log carries: the page checks it itself.
            "expiry": c.expiry,
            "signature": "0x" + c.signature.hex(),
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
