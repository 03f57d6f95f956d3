"""Pledger commands: ``pledge``, ``withdraw`` and ``roster``, with receipts kept under the
home folder.
"""

from __future__ import annotations

from typing import Any

import click
from eth_account import Account

from .. import mail, protocol
from ..chain import rules
from ..chain.gated import prove_pledge
from ..chain.records import RosterMode, Status
from ..exceptions import CampaignStateError, RelayInDoubt, RelayRefused, UsageError
from ..web import bodies
from .context import Context
from .group import saved_identity
from .keys import checked_keys, unchecked_keys_option
from .options import json_option, output, pass_context
from .receipts import ReceiptBook, receipt_from_code
from .relay import Relay


def _book(ctx: Context) -> ReceiptBook:
    return ReceiptBook(ctx.home, ctx.chain_id, ctx.registry.address)


RELAY_HELP = (
    "Send the signed {what} to the relayer of the Spartacus site at URL, which pays the gas: "
    "no ether and no account of yours is needed, and none appears on the chain. The site "
    "sees the pledge account, the time, and this machine's IP address (run spartacus under "
    "torsocks to hide it)."
)


@click.command()
@click.argument("campaign_id", type=int)
@click.option("--name", required=True, help="Your name as the other members will see it.")
@click.option("--contact", required=True, help="How members reach you (e-mail, phone, ...).")
@click.option("--message", default="", help="A short message to the other members.")
@click.option(
    "--mail-me",
    is_flag=True,
    help="Ask (sealed in the pledge) to be e-mailed the roster at the reveal, where the "
    "campaign's custodian mails it; --contact must be one e-mail address. Do not give a "
    "work address: your employer may read that mail.",
)
@unchecked_keys_option
@click.option("--relay", metavar="URL", help=RELAY_HELP.format(what="pledge"))
@json_option
@pass_context
def pledge(
    ctx: Context,
    campaign_id: int,
    name: str,
    contact: str,
    message: str,
    mail_me: bool,
    unchecked_keys: bool,
    relay: str | None,
) -> None:
    """Pledge to a campaign; prints the receipt code that restores your pledge.

    Your name, contact and message are sealed here: nobody can read them before the reveal.
    The pledge is signed by a fresh pledge account made for it. Without --relay, the paying
    account (SPARTACUS_PRIVATE_KEY or --dev-account) sends the pledge transaction itself:
    anyone reading the chain sees that this account paid for this pledge (not your details),
    so pay from one that is not tied to you, or use --relay.

    A campaign gated to a membership group (`create --group`) takes pledges from its members
    only, one active pledge each: the pledge then carries a membership proof, made here (a
    few seconds, under Node) with the identity `spartacus group join` saved under --home.
    """
    if mail_me and mail.email_address(contact) is None:
        raise UsageError(
            f"--mail-me needs --contact to be one plain e-mail address, not {contact!r}: "
            "the roster can only be mailed to an address"
        )
    registry = ctx.registry
    relayer = Relay(relay) if relay else None
    if relayer is not None:
        relayer.check(ctx.chain_id, registry.address)
    payer = ctx.sender if relayer is None else None  # refused before anything is written
    info = registry.info(campaign_id)
    # The pledge account is fresh, so it has no active pledge: only the campaign is checked.
    rules.check_pledge_open(
        campaign_id,
        registry.status_of(campaign_id),
        info.deadline,
        ctx.chain_now(),
        late_joining=info.late_joining,
    )
    history = registry.history(campaign_id)
    identity = saved_identity(ctx, registry.groups, info.group) if info.group else None
    custodian_keys = checked_keys(ctx, history, unchecked_keys)  # before anything is sealed
    contact_obj = protocol.Contact(name, contact, message, mail_me)
    protocol.encode_contact(contact_obj)  # refuses oversize details before anything is sent
    keys = protocol.derive_keys(protocol.new_secret())
    sealed = protocol.seal_pledge(
        registry.deployment,
        campaign_id,
        keys,
        contact_obj,
        custodian_keys,
        info.custodian_threshold,
    )
    rules.check_sealed_pledge(sealed, len(history.custodians), info.custodian_threshold)
    account = Account.from_key(keys.account_key)
    nonce = registry.nonce_of(campaign_id, account.address)
    signature = registry.sign_pledge(account, campaign_id, sealed, nonce=nonce)
    proof = None
    if identity is not None:  # gated: a membership proof for this very signed pledge
        proof = prove_pledge(
            registry, identity.backup, identity.commitment, campaign_id, info.group,
            account.address, sealed, signature, nonce,
        )  # fmt: skip
    code = protocol.encode_receipt(campaign_id, keys.secret)
    book = _book(ctx)
    book.save(campaign_id, code, account.address, None, "sending")
    if payer is not None and proof is not None:
        index = registry.pledge_gated_with_sig(
            payer, campaign_id, account.address, sealed, signature, proof
        )
    elif payer is not None:
        index = registry.pledge_with_sig(payer, campaign_id, account.address, sealed, signature)
    else:
        assert relayer is not None
        body = bodies.pledge_request(
            campaign_id, account.address, sealed, signature.valid_until, signature.signature,
            proof,
        )  # fmt: skip
        index = _relayed(ctx, relayer, "pledge", body, account.address, code)
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


def _relayed(
    ctx: Context, relayer: Relay, kind: str, body: dict[str, Any], account: str, code: str
) -> int:
    """Send a pledge or withdrawal through the relayer; the pledge's index. A refusal drops
    a pledge's receipt (nothing was recorded); no clear answer keeps it, unless the chain
    already shows the outcome."""
    campaign_id = int(body["campaignId"])
    try:
        return int(relayer.send(kind, body).get("index", 0))
    except RelayRefused:
        if kind == "pledge":
            _book(ctx).forget(campaign_id, account)
        raise
    except RelayInDoubt as exc:
        active, index, _ = ctx.registry.pledge_of(campaign_id, account)
        if active == (kind == "pledge"):
            return index  # it was recorded after all
        if kind == "pledge":
            raise RelayInDoubt(
                f"{exc}: your pledge may still be recorded. Keep this receipt code (also kept "
                f"under {ctx.home}), the only way to withdraw it:\n{code}\nIn a few minutes, "
                f"check the count with `spartacus status {campaign_id}` before pledging again: "
                "pledging again would make a second pledge"
            ) from None
        raise RelayInDoubt(
            f"{exc}: your withdrawal may still be recorded. Your receipt is kept; run "
            f"`spartacus withdraw {campaign_id}` again in a few minutes: it says whether the "
            "pledge is still active"
        ) from None


def _reader(
    ctx: Context, campaign_id: int, receipt: str | None
) -> tuple[protocol.PledgeKeys, str] | None:
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


@click.command()
@click.argument("campaign_id", type=int)
@click.option("--receipt", help="The receipt code (default: the one saved under --home).")
@click.option("--relay", metavar="URL", help=RELAY_HELP.format(what="withdrawal"))
@json_option
@pass_context
def withdraw(ctx: Context, campaign_id: int, receipt: str | None, relay: str | None) -> None:
    """Withdraw your pledge before the reveal; its contact details are never released.

    Once it is withdrawn, its receipt is deleted from --home. Without --relay, the paying
    account sends the withdrawal: anyone reading the chain links that account to this pledge.
    """
    registry = ctx.registry
    relayer = Relay(relay) if relay else None
    if relayer is not None:
        relayer.check(ctx.chain_id, registry.address)
    found = _reader(ctx, campaign_id, receipt)
    if found is None or found[1] != "receipt":
        raise UsageError(f"no pledge receipt for campaign {campaign_id}; pass --receipt CODE")
    keys = found[0]
    account = Account.from_key(keys.account_key)
    status = registry.status_of(campaign_id)
    active, index, _ = registry.pledge_of(campaign_id, account.address)
    rules.check_withdraw(campaign_id, account.address, status=status, active=active)
    signature = registry.sign_withdraw(account, campaign_id)
    if relayer is None:
        registry.withdraw_with_sig(ctx.sender, campaign_id, account.address, signature)
    else:
        body = bodies.withdraw_request(
            campaign_id, account.address, signature.valid_until, signature.signature
        )
        _relayed(ctx, relayer, "withdraw", body, account.address, "")
    # Withdrawn for good: nothing on this machine needs to say it ever pledged here.
    _book(ctx).forget(campaign_id, account.address)
    info = registry.info(campaign_id)
    output(
        ctx,
        {"campaign": campaign_id, "index": index, "withdrawn": True, "active": info.active},
        f"Withdrew pledge #{index} from campaign {campaign_id} "
        f"({info.active} of {info.threshold} active). It stays sealed for good.",
    )


@click.command()
@click.argument("campaign_id", type=int)
@click.option("--receipt", help="Your receipt code (default: the one saved under --home).")
@click.option(
    "--mail",
    "send_mail",
    is_flag=True,
    help="Also e-mail the roster and instructions to every member who asked for it in the "
    "pledge (--mail-me, or the page's box) with an e-mail contact, once each (recorded "
    "under --home); later runs mail only members not mailed yet.",
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
    result = protocol.read_roster(
        registry.deployment,
        campaign_id,
        len(history.custodians),
        info.custodian_threshold,
        [history.instructions, *history.active_records()],
        [protocol.ReleaseRecord(r.custodian_index, r.data) for r in history.releases],
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
