"""Commands for custodians: identity, endorsements, and releasing by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..chain.records import iso
from ..custodian.endorsement import endorse as make_endorsement
from ..custodian.release_plan import plan_release, send_release
from ..custodian.state import describe_passes, describe_watched, passes, watched_campaigns
from ..files import write_json
from .context import Context, parse_duration
from .options import json_option, output, pass_context


@click.group()
def custodian() -> None:
    """Run a custodian: hold campaign keys and release them at the reveal."""


@custodian.command()
@json_option
@pass_context
def init(ctx: Context) -> None:
    """Create this custodian's identity: an account in an encrypted keystore.

    The passphrase comes from SPARTACUS_PASSPHRASE or --passphrase-file (or a prompt on
    a terminal, which asks for it twice). Fund the printed address: it pays for release
    transactions.
    """
    address = ctx.keystore(new=True).create()
    output(
        ctx,
        {"address": address, "keystore": str(ctx.home / "custodian")},
        f"custodian account {address}\nkeystore {ctx.home / 'custodian'} (back it up; "
        "fund the account so it can send releases)",
    )


@custodian.command()
@json_option
@pass_context
def address(ctx: Context) -> None:
    """Print this custodian's account address alone, e.g. for `spartacus fund`."""
    account = ctx.keystore().address()
    output(ctx, {"address": account}, account)


@custodian.command()
@click.option(
    "--expiry", default="7d", show_default=True, help="How long the endorsement is valid."
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the endorsement to this file.")
@click.option(
    "--mail-roster",
    is_flag=True,
    help="The creator asks this custodian to e-mail the roster to members with an e-mail "
    "contact after the reveal; `spartacus watch --smtp` does it when the campaign has "
    "custodian threshold 1.",
)
@json_option
@pass_context
def endorse(ctx: Context, expiry: str, out: str | None, mail_roster: bool) -> None:
    """Issue a fresh campaign key with its signed endorsement (the file `create` takes)."""
    keystore = ctx.keystore()
    expires = ctx.chain_now() + parse_duration(expiry, "--expiry")
    endorsement = make_endorsement(keystore, ctx.registry, expires, mail_roster=mail_roster)
    if out:
        write_json(Path(out), endorsement)
    text = json.dumps(endorsement, indent=2)
    if out and not ctx.as_json:
        text = f"endorsement for key {endorsement['campaignKey']} written to {out}"
    click.echo(json.dumps(endorsement, sort_keys=True) if ctx.as_json else text)


@custodian.command()
@click.argument("campaign_id", type=int)
@json_option
@pass_context
def release(ctx: Context, campaign_id: int) -> None:
    """Release this custodian's shares of a revealed campaign's active pledges.

    Only what is not released yet is sent (later pledges go in later rounds). Boxes that
    do not open or whose binding names another pledge are reported and never released.
    """
    keystore = ctx.keystore()
    account = keystore.account()
    plan = plan_release(ctx.registry, keystore, campaign_id, account)
    problems = [f"problem with pledge #{i}: {why}" for i, why in sorted(plan.problems.items())]
    if not plan.parts:
        output(
            ctx,
            {
                "campaign": campaign_id,
                "released": [],
                "transactions": [],
                "problems": {str(k): v for k, v in plan.problems.items()},
            },
            "\n".join([f"nothing new to release for campaign {campaign_id}", *problems]),
        )
        return
    txs = send_release(ctx.registry, account, plan)
    released = sorted(plan.shares)
    lines = [
        f"released {len(released)} shares of campaign {campaign_id} (round {plan.round}) "
        f"in {len(txs)} transaction(s)"
    ]
    lines += problems
    output(
        ctx,
        {
            "campaign": campaign_id,
            "round": plan.round,
            "released": released,
            "transactions": txs,
            "problems": {str(k): v for k, v in plan.problems.items()},
        },
        "\n".join(lines),
    )


@custodian.command("status")
@json_option
@pass_context
def custodian_status(ctx: Context) -> None:
    """Show this custodian's address, the campaign keys it holds and what the daemon saved:
    the block its RPC sources last agreed on, and why it took no action, if it did not."""
    keystore = ctx.keystore()
    keys: list[dict[str, Any]] = []
    for public in keystore.campaign_keys():
        key = keystore.campaign_key(public)
        keys.append(
            {
                "campaignKey": "0x" + public.hex(),
                "registry": key.registry,
                "chainId": key.chain_id,
                "expiry": key.expiry,
            }
        )
    lines = [f"custodian {keystore.address()}", f"{len(keys)} campaign key(s) held"]
    lines += [f"  {k['campaignKey']} (endorsement expires {iso(int(k['expiry']))})" for k in keys]
    campaigns = watched_campaigns(ctx.home)
    registries = passes(ctx.home)
    lines += describe_passes(registries) + describe_watched(campaigns)
    data = {
        "address": keystore.address(),
        "keys": keys,
        "registries": registries,
        "campaigns": campaigns,
    }
    output(ctx, data, "\n".join(lines))
