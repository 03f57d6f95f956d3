"""Campaign commands for creators and anyone: ``create``, ``status``, ``verify``, ``finalize``,
``expire``.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..chain import rules
from ..chain.activity import recent_pledges
from ..chain.creation import load_endorsement, prepare_campaign
from ..chain.records import Status, iso
from ..chain.verify import verify_campaign
from ..exceptions import CampaignStateError, ChainError, UsageError
from ..files import write_json
from ..web.config import public_url
from .context import Context, parse_deadline, parse_duration
from .keys import key_report
from .options import json_option, output, pass_context
from .receipts import ReceiptBook

# Long enough for members to notice a burst of pledges and withdraw (issue #12).
DEFAULT_GRACE = "72h"


def fetch_endorsements(
    ctx: Context, urls: tuple[str, ...], mail_roster: bool = False
) -> tuple[str, ...]:
    """Ask each custodian URL for a key; saves each endorsement and returns the file paths."""
    from ..custodian.client import request_endorsement

    paths = []
    for url in urls:
        data = request_endorsement(
            url, registry=ctx.registry.address, chain_id=ctx.chain_id, mail_roster=mail_roster
        )
        path = ctx.home / "endorsements" / f"{data['campaignKey'][2:]}.json"
        write_json(path, data)
        paths.append(str(path))
    return tuple(paths)


@click.command()
@click.option(
    "--title", required=True, help=f"Campaign title (1 to {rules.limits().max_title} bytes)."
)
@click.option("--description", default="", help="What the campaign is about.")
@click.option("--plan", default="", help="The public plan: what happens when N have joined.")
@click.option("--instructions", help="Sealed next steps, revealed to members only with the roster.")
@click.option(
    "--instructions-file",
    type=click.Path(dir_okay=False),
    help="Read the instructions from a file.",
)
@click.option(
    "--threshold",
    type=int,
    required=True,
    help=f"N: active pledges that reveal (>= {rules.MIN_THRESHOLD}).",
)
@click.option("--deadline", required=True, help="A duration such as 7d, or an ISO date (UTC).")
@click.option(
    "--grace",
    default=DEFAULT_GRACE,
    show_default=True,
    help="Grace period after reaching N: members see the count and may still withdraw "
    "before anything is revealed (0: reveal at once, so a burst of fake pledges reveals "
    "everyone before anyone can react).",
)
@click.option(
    "--endorsement",
    "endorsements",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A custodian's endorsement file (repeat for each custodian, 1 to "
    f"{rules.limits().max_custodians}).",
)
@click.option(
    "--custodian",
    "custodian_urls",
    multiple=True,
    metavar="URL",
    help="Ask a custodian's daemon (spartacus watch --listen) for a key; after any files.",
)
@click.option(
    "--custodian-threshold",
    type=int,
    default=None,
    help="t of n: how many custodians must release (default 2 when there are two or more: "
    "then no single custodian can read a pledge alone).",
)
@click.option("--public-roster", is_flag=True, help="Release the roster to everyone, not members.")
@click.option(
    "--site",
    envvar="SPARTACUS_PUBLIC_URL",
    metavar="URL",
    help="The web app that shows this registry (e.g. https://spartacus.example): prints the "
    "campaign's link on it [env SPARTACUS_PUBLIC_URL].",
)
@click.option(
    "--mail-roster",
    is_flag=True,
    help="Ask the --custodian daemons to e-mail the roster to members with an e-mail "
    "contact after the reveal (needs --custodian-threshold 1; the custodian can read the "
    "roster alone then anyway).",
)
@click.option(
    "--late-joining",
    is_flag=True,
    help="Keep taking pledges after the reveal, until the deadline. A late pledge reaches "
    "the roster only once you admit it (`spartacus admit`), within 7 days of the deadline. "
    "Without it, joining closes at the reveal.",
)
@click.option(
    "--group",
    "group_id",
    type=int,
    default=0,
    help="Gate the campaign to a membership group of the registry's groups contract: only its "
    "members pledge, one active pledge each, so N counts distinct members (Sybil-resistant). "
    "Anyone sees the group's admin and size. Default 0: open to anyone.",
)
@json_option
@pass_context
def create(
    ctx: Context,
    title: str,
    description: str,
    plan: str,
    instructions: str | None,
    instructions_file: str | None,
    threshold: int,
    deadline: str,
    grace: str,
    endorsements: tuple[str, ...],
    custodian_urls: tuple[str, ...],
    custodian_threshold: int | None,
    public_roster: bool,
    site: str | None,
    mail_roster: bool,
    late_joining: bool,
    group_id: int,
) -> None:
    """Create a campaign; prints its id, its link (with --site) and the organiser's receipt.

    The sealed instructions are encrypted here like a pledge; their secret is kept under
    the home folder so that the organiser can read the roster after the reveal.
    """
    if instructions_file:
        try:
            instructions = Path(instructions_file).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read --instructions-file: {exc}") from exc
    # Everything the user typed is checked before any custodian is asked for a key.
    grace_seconds = parse_duration(grace, "--grace")
    if group_id < 0:
        raise UsageError("--group takes a group id (1, 2, ...) or 0 for an open campaign")
    if group_id:
        ctx.registry.groups.info(group_id)  # "group 9 does not exist" before any key is used
    base = public_url({"PUBLIC_URL": site}, ctx.chain_id) if site else None
    now = ctx.chain_now()
    deadline_ts = parse_deadline(deadline, now)
    rules.check_deadline_ahead(deadline_ts, now)
    registry = ctx.registry
    if mail_roster and (not custodian_urls or custodian_threshold not in (None, 1)):
        raise UsageError(
            "--mail-roster asks --custodian URL daemons, and only with --custodian-threshold 1 "
            "(for endorsement files, the custodian runs `custodian endorse --mail-roster`)"
        )
    endorsements += fetch_endorsements(ctx, custodian_urls, mail_roster)
    if not endorsements:
        raise UsageError("name the custodians with --endorsement FILE or --custodian URL")
    if custodian_threshold is None:
        custodian_threshold = 2 if len(endorsements) >= 2 and not mail_roster else 1
    prepared = prepare_campaign(
        deployment=registry.deployment,
        title=title,
        description=description,
        plan=plan,
        instructions=instructions or "",
        threshold=threshold,
        deadline=deadline_ts,
        grace=grace_seconds,
        endorsements=[
            load_endorsement(p, i + 1, ctx.chain_id, registry.address, now)
            for i, p in enumerate(endorsements)
        ],
        custodian_threshold=custodian_threshold,
        public_roster=public_roster,
        now=now,
        late_joining=late_joining,
        group=group_id,
    )
    for warning in rules.unsafe_terms(custodian_threshold, grace_seconds):  # allowed, unsafe
        click.echo(f"warning: {warning}", err=True)
    book = ReceiptBook(ctx.home, ctx.chain_id, ctx.registry.address)
    pending = book.save_organiser_pending(prepared.secret)
    campaign_id = registry.create_campaign(
        ctx.sender,
        prepared.terms,
        prepared.instructions,
        [e.as_abi() for e in prepared.endorsements],
    )
    code = book.save_organiser(campaign_id, prepared.secret, pending)
    link = f"{base}/c/{campaign_id}" if base else None
    lines = [f"campaign {campaign_id} created; deadline {iso(deadline_ts)}"]
    if link:
        lines.append(f"link: {link}")
    lines += [
        f"organiser receipt: {code}",
        "  keep it secret: with it you read the roster and your sealed next steps after the "
        f"reveal (a copy is kept under {ctx.home})",
    ]
    output(
        ctx,
        {"campaign": campaign_id, "organiserReceipt": code, "deadline": deadline_ts, "url": link},
        "\n".join(lines),
    )


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
    warnings = rules.unsafe_terms(info.custodian_threshold, info.grace_period) + (
        rules.small_group(group.size, info.threshold) if group else []
    )
    joining = (
        rules.who_may_join(info.group, group.name, group.size, group.admin)
        if group
        else rules.who_may_join(0)
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
