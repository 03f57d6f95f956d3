"""``spartacus create``: a campaign's terms checked, its custodians' keys fetched, sent."""

from __future__ import annotations

from pathlib import Path

import click

from ..chain import risks, rules
from ..chain.creation import load_endorsement, prepare_campaign
from ..chain.records import iso
from ..exceptions import UsageError
from ..files import write_json
from ..web.config import public_url
from .context import Context, parse_deadline, parse_duration
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
    for warning in risks.unsafe_terms(custodian_threshold, grace_seconds):  # allowed, unsafe
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
