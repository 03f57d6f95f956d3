"""Commands for creators, pledgers and verifiers."""

from __future__ import annotations

from pathlib import Path

import click
from eth_account import Account

from .. import crypto, mail
from ..activity import recent_pledges
from ..chain import RosterMode, Status, iso
from ..cli import cli, json_option, output, pass_context
from ..context import Context, parse_deadline, parse_duration
from ..creation import load_endorsement, prepare_campaign
from ..exceptions import CampaignStateError, UsageError
from ..files import write_json
from ..receipts import ReceiptBook, receipt_from_code
from ..verify import verify_campaign


def fetch_endorsements(
    ctx: Context, urls: tuple[str, ...], mail_roster: bool = False
) -> tuple[str, ...]:
    """Ask each custodian URL for a key; saves each endorsement and returns the file paths."""
    from ..watcher.client import request_endorsement

    paths = []
    for url in urls:
        data = request_endorsement(
            url, registry=ctx.registry.address, chain_id=ctx.chain_id, mail_roster=mail_roster
        )
        path = ctx.home / "endorsements" / f"{data['campaignKey'][2:]}.json"
        write_json(path, data)
        paths.append(str(path))
    return tuple(paths)


def _book(ctx: Context) -> ReceiptBook:
    return ReceiptBook(ctx.home, ctx.chain_id, ctx.registry.address)


@cli.command()
@click.option("--title", required=True, help="Campaign title (1 to 200 bytes).")
@click.option("--description", default="", help="What the campaign is about.")
@click.option("--plan", default="", help="The public plan: what happens when N have joined.")
@click.option("--instructions", help="Sealed next steps, revealed to members only with the roster.")
@click.option(
    "--instructions-file",
    type=click.Path(dir_okay=False),
    help="Read the instructions from a file.",
)
@click.option("--threshold", type=int, required=True, help="N: active pledges that reveal (>= 2).")
@click.option("--deadline", required=True, help="A duration such as 7d, or an ISO date (UTC).")
@click.option("--grace", default="0", show_default=True, help="Grace period after reaching N.")
@click.option(
    "--endorsement",
    "endorsements",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A custodian's endorsement file (repeat for each custodian, 1 to 5).",
)
@click.option(
    "--custodian",
    "custodian_urls",
    multiple=True,
    metavar="URL",
    help="Ask a custodian's daemon (spartacus watch --listen) for a key; after any files.",
)
@click.option("--custodian-threshold", type=int, default=1, show_default=True, help="t of n.")
@click.option("--public-roster", is_flag=True, help="Release the roster to everyone, not members.")
@click.option(
    "--mail-roster",
    is_flag=True,
    help="Ask the --custodian daemons to e-mail the roster to members with an e-mail "
    "contact after the reveal (needs --custodian-threshold 1; the custodian can read the "
    "roster alone then anyway).",
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
    custodian_threshold: int,
    public_roster: bool,
    mail_roster: bool,
) -> None:
    """Create a campaign; prints its id.

    The sealed instructions are encrypted here like a pledge; their secret is kept under
    the home folder so that the organiser can read the roster after the reveal.
    """
    if instructions_file:
        try:
            instructions = Path(instructions_file).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read --instructions-file: {exc}") from exc
    now = ctx.chain_now()
    deadline_ts = parse_deadline(deadline, now)
    registry = ctx.registry
    if mail_roster and (not custodian_urls or custodian_threshold != 1):
        raise UsageError(
            "--mail-roster asks --custodian URL daemons, and only with --custodian-threshold 1 "
            "(for endorsement files, the custodian runs `custodian endorse --mail-roster`)"
        )
    endorsements += fetch_endorsements(ctx, custodian_urls, mail_roster)
    if not endorsements:
        raise UsageError("name the custodians with --endorsement FILE or --custodian URL")
    prepared = prepare_campaign(
        title=title,
        description=description,
        plan=plan,
        instructions=instructions or "",
        threshold=threshold,
        deadline=deadline_ts,
        grace=parse_duration(grace),
        endorsements=[
            load_endorsement(p, i + 1, ctx.chain_id, registry.address, now)
            for i, p in enumerate(endorsements)
        ],
        custodian_threshold=custodian_threshold,
        public_roster=public_roster,
        now=now,
    )
    book = _book(ctx)
    pending = book.save_organiser_pending(prepared.secret)
    campaign_id = registry.create_campaign(
        ctx.sender,
        prepared.terms,
        prepared.instructions,
        [e.as_abi() for e in prepared.endorsements],
    )
    code = book.save_organiser(campaign_id, prepared.secret, pending)
    output(
        ctx,
        {"campaign": campaign_id, "organiserReceipt": code, "deadline": deadline_ts},
        f"{campaign_id}",
    )


@cli.command()
@click.argument("campaign_id", type=int)
@click.option("--name", required=True, help="Your name as the other members will see it.")
@click.option("--contact", required=True, help="How members reach you (e-mail, phone, ...).")
@click.option("--message", default="", help="A short message to the other members.")
@json_option
@pass_context
def pledge(ctx: Context, campaign_id: int, name: str, contact: str, message: str) -> None:
    """Pledge to a campaign; prints the receipt code that restores your pledge.

    Your details are encrypted here; the paying account submits the pledge for a fresh,
    unfunded pledge account, so the two are not linked on-chain by gas.
    """
    registry = ctx.registry
    info = registry.info(campaign_id)
    now = ctx.chain_now()
    status = registry.status_of(campaign_id)
    if status == Status.EXPIRED or now > info.deadline:
        raise CampaignStateError(
            f"campaign {campaign_id} closed on {iso(info.deadline)}: no more pledges"
        )
    history = registry.history(campaign_id)
    contact_obj = crypto.Contact(name, contact, message)
    crypto.encode_contact(contact_obj)  # refuses oversize details before anything is sent
    keys = crypto.derive_keys(crypto.new_secret())
    sealed = crypto.seal_pledge(
        campaign_id,
        keys,
        contact_obj,
        [c.campaign_key for c in history.custodians],
        info.custodian_threshold,
    )
    account = Account.from_key(keys.account_key)
    signature = registry.sign_pledge(account, campaign_id, sealed)
    code = crypto.encode_receipt(campaign_id, keys.secret)
    book = _book(ctx)
    book.save(campaign_id, code, account.address, None, "sending")
    index = registry.pledge_with_sig(ctx.sender, campaign_id, account.address, sealed, signature)
    book.save(campaign_id, code, account.address, index, "active")
    after = registry.info(campaign_id)
    output(
        ctx,
        {
            "receipt": code,
            "campaign": campaign_id,
            "index": index,
            "account": account.address,
            "active": after.active,
            "threshold": after.threshold,
        },
        f"Pledged to campaign {campaign_id} as pledge #{index} "
        f"({after.active} of {after.threshold} active).\n"
        f"Receipt code (keep it secret and safe; it is the only way to withdraw or read the "
        f"roster from another device):\n{code}",
    )


def _reader(
    ctx: Context, campaign_id: int, receipt: str | None
) -> tuple[crypto.PledgeKeys, str] | None:
    """The pledge (or organiser) keys to act with: a pasted code, else the stored receipt."""
    if receipt:
        return receipt_from_code(receipt, campaign_id)[1], "receipt"
    book = _book(ctx)
    receipts = book.for_campaign(campaign_id)
    stored = [r for r in receipts if r.state != "withdrawn"]
    if receipts and not stored:
        raise CampaignStateError(
            f"your pledge in campaign {campaign_id} was withdrawn: it stays sealed, and the "
            "roster is not addressed to you"
        )
    if len(stored) > 1:
        raise UsageError(
            f"you hold {len(stored)} pledges in campaign {campaign_id}; pass --receipt CODE"
        )
    if stored:
        return stored[0].keys, "receipt"
    organiser = book.organiser(campaign_id)
    if organiser:
        return receipt_from_code(organiser, campaign_id)[1], "organiser"
    return None


@cli.command()
@click.argument("campaign_id", type=int)
@click.option("--receipt", help="The receipt code (default: the one saved under --home).")
@json_option
@pass_context
def withdraw(ctx: Context, campaign_id: int, receipt: str | None) -> None:
    """Withdraw your pledge before the reveal; its contact details are never released."""
    registry = ctx.registry
    found = _reader(ctx, campaign_id, receipt)
    if found is None or found[1] != "receipt":
        raise UsageError(f"no pledge receipt for campaign {campaign_id}; pass --receipt CODE")
    keys = found[0]
    account = Account.from_key(keys.account_key)
    status = registry.status_of(campaign_id)
    if status not in (Status.OPEN, Status.PENDING):
        raise CampaignStateError(
            f"campaign {campaign_id} is {status.label}: a pledge can only be withdrawn before "
            "the reveal"
        )
    active, index, _ = registry.pledge_of(campaign_id, account.address)
    if not active:
        raise CampaignStateError(
            f"the pledge of {account.address} in campaign {campaign_id} is not active"
        )
    signature = registry.sign_withdraw(account, campaign_id)
    registry.withdraw_with_sig(ctx.sender, campaign_id, account.address, signature)
    book = _book(ctx)
    for stored in book.for_campaign(campaign_id):
        if stored.account.lower() == account.address.lower():
            book.save(campaign_id, stored.code, stored.account, index, "withdrawn")
    info = registry.info(campaign_id)
    output(
        ctx,
        {"campaign": campaign_id, "index": index, "withdrawn": True, "active": info.active},
        f"Withdrew pledge #{index} from campaign {campaign_id} "
        f"({info.active} of {info.threshold} active). It stays sealed for good.",
    )


@cli.command()
@click.argument("campaign_id", type=int)
@json_option
@pass_context
def status(ctx: Context, campaign_id: int) -> None:
    """Show a campaign's status, active count, recent pledges, deadline and custodians."""
    registry = ctx.registry
    info = registry.info(campaign_id)
    current = registry.status_of(campaign_id)
    history = registry.history(campaign_id)
    terms = history.terms
    custodians = [
        {"index": c.index, "account": c.account, "campaignKey": c.campaign_key}
        for c in history.custodians
    ]
    recent = recent_pledges(
        history, ctx.chain_now(), lambda block: int(ctx.w3.eth.get_block(block)["timestamp"])
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
        "recentPledges": recent.as_dict(),
    }
    lines = [
        f"Campaign {campaign_id}: {data['title']}",
        f"  status     {current.label}"
        + (f" (grace ends {iso(info.grace_end)})" if current == Status.PENDING else ""),
        f"  active     {info.active} of {info.threshold}",
        f"  pledged    {recent.text()}",
        f"  deadline   {iso(info.deadline)}",
        f"  roster     {info.roster_mode.label}",
        f"  custodians {info.custodian_threshold} of {len(custodians)} must release "
        f"(any {info.custodian_threshold} together could read every pledge):",
        *[f"    {c.index + 1}. {c.account}" for c in history.custodians],
    ]
    output(ctx, data, "\n".join(lines))


@cli.command()
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


@cli.command()
@click.argument("campaign_id", type=int)
@click.option("--receipt", help="Your receipt code (default: the one saved under --home).")
@click.option(
    "--mail",
    "send_mail",
    is_flag=True,
    help="Also e-mail the roster and instructions to every member with an e-mail contact, "
    "once each (recorded under --home); later runs mail only members not mailed yet.",
)
@click.option(
    "--smtp",
    envvar="SPARTACUS_SMTP",
    default=mail.DEFAULT_SMTP,
    show_default=True,
    metavar="HOST:PORT",
    help="Mail server for --mail [env SPARTACUS_SMTP; login from SPARTACUS_SMTP_USER and "
    "SPARTACUS_SMTP_PASSWORD]. Other than on loopback, STARTTLS is required.",
)
@click.option(
    "--mail-from",
    envvar="SPARTACUS_MAIL_FROM",
    default=mail.DEFAULT_MAIL_FROM,
    show_default=True,
    help="Sender address for --mail [env SPARTACUS_MAIL_FROM].",
)
@json_option
@pass_context
def roster(
    ctx: Context,
    campaign_id: int,
    receipt: str | None,
    send_mail: bool,
    smtp: str,
    mail_from: str,
) -> None:
    """After the reveal: every active member's name, contact and message, and the instructions.

    Decryption happens here, with your receipt; nothing secret is sent anywhere, unless you
    pass --mail: then the roster leaves this machine as ordinary e-mail to the members.
    """
    registry = ctx.registry
    info = registry.info(campaign_id)
    current = registry.status_of(campaign_id)
    if current != Status.REVEALED:
        raise CampaignStateError(
            f"campaign {campaign_id} is {current.label} ({info.active} of {info.threshold} "
            "active): nothing is readable before the reveal"
        )
    history = registry.history(campaign_id)
    reader = None
    reader_index: int | None = None
    if info.roster_mode == RosterMode.MEMBERS:
        found = _reader(ctx, campaign_id, receipt)
        if found is None:
            raise UsageError(
                f"campaign {campaign_id}'s roster is for members only; pass --receipt CODE"
            )
        reader, role = found
        if role == "organiser":
            reader_index = 0
        else:
            active, reader_index, _ = registry.pledge_of(campaign_id, reader.account)
            if not active:
                raise CampaignStateError(
                    f"your pledge in campaign {campaign_id} is not active (withdrawn), "
                    "so the roster is not addressed to you"
                )
    assert history.instructions is not None
    result = crypto.read_roster(
        campaign_id,
        len(history.custodians),
        info.custodian_threshold,
        [history.instructions, *history.active_records()],
        [crypto.ReleaseRecord(r.custodian_index, r.data) for r in history.releases],
        reader=reader,
        reader_index=reader_index,
    )
    members = [
        {
            "index": m.index,
            "name": m.contact.name,
            "contact": m.contact.contact,
            "message": m.contact.message,
        }
        for m in result.members
    ]
    lines = [f"Campaign {campaign_id}: {len(members)} members readable"]
    lines += [
        f"  #{m['index']} {m['name']} <{m['contact']}>"
        + (f": {m['message']}" if m["message"] else "")
        for m in members
    ]
    if result.missing:
        lines.append(
            f"  not readable yet (waiting for custodians): {', '.join(map(str, result.missing))}"
        )
    lines.append("Instructions:" if result.instructions is not None else "Instructions: not yet")
    if result.instructions is not None:
        lines.append(result.instructions)
    lines += [f"problem: {p}" for p in result.problems]
    data = {
        "members": members,
        "instructions": result.instructions,
        "missing": result.missing,
        "problems": result.problems,
    }
    if send_mail:
        report = mail.mail_roster(
            path=mail.record_path(ctx.home, ctx.chain_id, registry.address, campaign_id),
            campaign_id=campaign_id,
            title=history.terms.title if history.terms else "",
            members=result.members,
            instructions=result.instructions,
            server=mail.Server.parse(
                smtp, ctx.env.get("SPARTACUS_SMTP_USER"), ctx.env.get("SPARTACUS_SMTP_PASSWORD")
            ),
            sender=mail_from,
        )
        data |= report.as_dict()
        lines += report.lines()
    output(ctx, data, "\n".join(lines))


@cli.command()
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


@cli.command()
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
