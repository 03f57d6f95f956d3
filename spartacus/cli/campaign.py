"""Commands on an existing campaign, for anyone: ``status``, ``verify``, ``finalize``,
``expire``, and the organiser's ``admit`` (``create`` is in ``create``).
"""

from __future__ import annotations

import time

import click

from ..chain import risks, rules
from ..chain.activity import recent_pledges
from ..chain.records import Status, iso
from ..chain.verify import verify_campaign
from ..exceptions import CampaignStateError, ChainError
from .context import Context
from .keys import key_report
from .options import json_option, output, pass_context


@click.command()
@click.argument("campaign_id", type=int)
@click.option(
    "--follow",
    is_flag=True,
    help="Then print a line each time the status or the count changes, until the campaign "
    "is revealed or expired (Ctrl-C stops): alerts with no account anywhere.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=12.0,
    show_default=True,
    help="Seconds between reads with --follow.",
)
@json_option
@pass_context
def status(ctx: Context, campaign_id: int, follow: bool, interval: float) -> None:
    """Show a campaign's status, active count, recent pledges, deadline and custodians."""
    _status(ctx, campaign_id)
    if follow:
        _follow(ctx, campaign_id, interval)


def _status(ctx: Context, campaign_id: int) -> None:
    registry = ctx.registry
    info = registry.info(campaign_id)
    current = registry.status_of(campaign_id)
    history = registry.history(campaign_id)
    terms = history.terms
    custodians, keys_line = key_report(ctx, history)
    recent = recent_pledges(
        history, ctx.chain_now(), lambda block: int(ctx.w3.eth.get_block(block)["timestamp"])
    )
    group = registry.groups.info(info.group) if info.group else None
    warnings = risks.unsafe_terms(info.custodian_threshold, info.grace_period) + (
        risks.small_group(group.size, info.threshold) if group else []
    )
    joining = (
        risks.who_may_join(info.group, group.name, group.size, group.admin)
        if group
        else risks.who_may_join(0)
    )
    data = {
        "campaign": campaign_id,
        "title": terms.title if terms else "",
        "status": current.label,
        "active": info.active,
        "threshold": info.threshold,
        "pledges": info.pledges,
        "deadline": info.deadline,
        "gracePeriod": info.grace_period,
        "graceEnd": info.grace_end,
        "custodianThreshold": info.custodian_threshold,
        "rosterMode": info.roster_mode.label,
        "custodians": custodians,
        "keys": keys_line,
        "recentPledges": recent.as_dict(),
        "warnings": warnings,
        "group": info.group,
        "groupSize": group.size if group else None,
        "groupAdmin": group.admin if group else None,
        "whoMayJoin": joining,
    }
    lines = [
        f"Campaign {campaign_id}: {data['title']}",
        f"  status     {current.label}"
        + (f" (grace ends {iso(info.grace_end)})" if current == Status.PENDING else ""),
        f"  active     {info.active} of {info.threshold}",
        f"  pledged    {recent.text()}",
        f"  deadline   {iso(info.deadline)}",
        f"  roster     {info.roster_mode.label}",
        f"  who        {joining}",
        f"  custodians {info.custodian_threshold} of {len(custodians)} must release "
        f"(any {info.custodian_threshold} together could read every pledge):",
        *[f"    {c['index'] + 1}. {c['label']}: {c['account']}" for c in custodians],
        f"  keys       {keys_line}",
        *[f"  warning    {w}" for w in warnings],
    ]
    output(ctx, data, "\n".join(lines))


def _follow(ctx: Context, campaign_id: int, interval: float) -> None:
    """A line per change of status, active count or grace end; ends once decided."""
    last = None
    while True:
        try:
            info = ctx.registry.info(campaign_id)
            current = ctx.registry.status_of(campaign_id)
        except ChainError as exc:  # the node went away for a moment: say so, keep going
            click.echo(f"warning: {exc}; trying again in {interval:g} s", err=True)
            time.sleep(interval)
            continue
        grace_end = info.grace_end if current == Status.PENDING else 0
        now = (current.label, info.active, grace_end)
        if now != last:
            if last is not None:
                data = {"campaign": campaign_id, "status": current.label, "active": info.active,
                        "threshold": info.threshold, "graceEnd": grace_end,
                        "time": ctx.chain_now()}  # fmt: skip
                text = (
                    f"{iso(ctx.chain_now())}  {current.label}  {info.active} of {info.threshold}"
                    + (f"  (grace ends {iso(grace_end)})" if grace_end else "")
                )
                output(ctx, data, text)
            last = now
        if current in (Status.REVEALED, Status.EXPIRED):
            return
        time.sleep(interval)


@click.command()
@click.argument("campaign_id", type=int)
@json_option
@pass_context
def verify(ctx: Context, campaign_id: int) -> None:
    """Recount a campaign from its logs alone and compare with the contract's state."""
    report = verify_campaign(ctx.registry, campaign_id)
    text = "\n".join(
        [f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}" for c in report.checks]
        + [f"campaign {campaign_id}: {'consistent' if report.ok else 'INCONSISTENT'}"]
    )
    output(ctx, {"ok": report.ok, "checks": [c.as_dict() for c in report.checks]}, text)
    if not report.ok:
        raise SystemExit(1)


@click.command()
@click.argument("campaign_id", type=int)
@json_option
@pass_context
def finalize(ctx: Context, campaign_id: int) -> None:
    """End a pending campaign's grace period: reveal it, or reopen it if below N."""
    registry = ctx.registry
    info = registry.info(campaign_id)
    if info.status != Status.PENDING:
        raise CampaignStateError(f"campaign {campaign_id} is {info.status.label}, not pending")
    if ctx.chain_now() < info.grace_end:
        raise CampaignStateError(
            f"campaign {campaign_id}'s grace period ends at {iso(info.grace_end)}"
        )
    registry.finalize(ctx.sender, campaign_id)
    after = registry.status_of(campaign_id)
    output(
        ctx,
        {"campaign": campaign_id, "status": after.label},
        f"campaign {campaign_id} is {after.label}",
    )


@click.command()
@click.argument("campaign_id", type=int)
@json_option
@pass_context
def expire(ctx: Context, campaign_id: int) -> None:
    """Mark an open campaign past its deadline as expired (emits the public event)."""
    registry = ctx.registry
    info = registry.info(campaign_id)
    if info.status != Status.OPEN:
        raise CampaignStateError(f"campaign {campaign_id} is {info.status.label}, not open")
    if ctx.chain_now() <= info.deadline:
        raise CampaignStateError(
            f"campaign {campaign_id}'s deadline {iso(info.deadline)} has not passed"
        )
    registry.expire(ctx.sender, campaign_id)
    output(
        ctx, {"campaign": campaign_id, "status": "expired"}, f"campaign {campaign_id} is expired"
    )


@click.command()
@click.argument("campaign_id", type=int)
@click.argument("indices", type=int, nargs=-1)
@click.option("--all", "admit_all", is_flag=True, help="Admit every late pledge waiting.")
@json_option
@pass_context
def admit(ctx: Context, campaign_id: int, indices: tuple[int, ...], admit_all: bool) -> None:
    """Admit late pledges (by index) of a late-joining campaign you created.

    A late pledge (made after the reveal) is recorded but not on the roster: custodians
    release its key only once admitted. Without INDICES or --all, lists those waiting.
    """
    registry = ctx.registry
    info = registry.info(campaign_id)
    history = registry.history(campaign_id)
    waiting = {r.index for r in history.waiting_records()}
    chosen = sorted(waiting) if admit_all else list(indices)
    if not chosen:
        output(
            ctx,
            {"campaign": campaign_id, "waiting": sorted(waiting)},
            f"campaign {campaign_id}: late pledges waiting: {sorted(waiting) or 'none'}",
        )
        return
    rules.check_admit(
        campaign_id,
        chosen,
        caller=ctx.sender.address,
        creator=info.creator,
        status=registry.status_of(campaign_id),
        deadline=info.deadline,
        now=ctx.chain_now(),
        late=waiting,
    )
    admitted = registry.admit(ctx.sender, campaign_id, chosen)
    output(
        ctx,
        {"campaign": campaign_id, "admitted": admitted},
        f"campaign {campaign_id}: admitted {', '.join(map(str, admitted))}",
    )
