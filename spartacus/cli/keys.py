"""Checking custodian keys before the CLI seals anything to them (``spartacus.chain.key_check``).

Shared by ``pledge`` (which refuses on a mismatch) and ``status`` (which reports it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..chain.directory import custodian_label
from ..chain.key_check import verify_campaign_keys
from ..chain.records import History
from ..exceptions import CustodianKeyMismatch, KeysUnchecked
from .context import Context

F = TypeVar("F", bound=Callable[..., Any])

LISTED = "listed in your custodian directory"


def unchecked_keys_option(fn: F) -> F:
    return click.option(
        "--unchecked-keys",
        is_flag=True,
        help="Seal to the custodian keys the node serves even when they cannot be checked "
        "against the custodians' signatures (a campaign created through another contract). "
        "A lying node could then read your pledge; a key that fails the check is never used.",
    )(fn)


def checked_keys(ctx: Context, history: History, unchecked: bool = False) -> list[bytes]:
    """The campaign keys to seal to, in custodian order, each checked against the signature
    its custodian made; ``CustodianKeyMismatch`` (never overridden) or ``KeysUnchecked``
    (unless ``unchecked``: then a warning on stderr) otherwise."""
    try:
        return [c.campaign_key for c in verify_campaign_keys(
            ctx.registry, history, ctx.directory, listed=LISTED
        )]  # fmt: skip
    except KeysUnchecked as exc:
        if not unchecked:
            raise KeysUnchecked(
                f"the custodian keys of campaign {history.campaign_id} cannot be checked: "
                f"{exc}. Nothing was sealed or sent. Check the keys another way (the "
                "custodians, a block explorer, another node), then pass --unchecked-keys"
            ) from None
        click.echo(
            f"warning: the custodian keys could NOT be checked ({exc}); sealing to the keys "
            "this node serves, as --unchecked-keys asks",
            err=True,
        )
        return [c.campaign_key for c in sorted(history.custodians, key=lambda c: c.index)]


def key_report(ctx: Context, history: History) -> tuple[list[dict[str, Any]], str]:
    """Each custodian labelled (named only if its key checks out) and a line on the check."""
    labels = {c.index: custodian_label(c.account, ctx.directory, listed=LISTED)
              for c in history.custodians}  # fmt: skip
    try:
        checked = verify_campaign_keys(ctx.registry, history, ctx.directory, listed=LISTED)
        labels = {c.index: c.label for c in checked}
        line = "checked: every key is signed by the custodian listed with it"
    except CustodianKeyMismatch as exc:
        line = f"MISMATCH: {exc}"
    except KeysUnchecked as exc:
        line = f"not checked: {exc}"
    custodians = [
        {
            "index": c.index,
            "account": c.account,
            "campaignKey": c.campaign_key,
            **{k: labels[c.index][k] for k in ("name", "listed", "operator", "label")},
        }
        for c in history.custodians
    ]
    return custodians, line
