"""Commands for membership groups: deploy, create, invite, redeem (join), restore, add,
status.

A group's admin creates it and invites people (or adds their identity commitments
directly); an invitee redeems a code, which makes a Semaphore identity on this machine,
saves it under the home folder and prints its backup code. docs/protocol.md, "Membership
groups", says what each step signs and checks.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import click
import segno

from ..chain.groups import Groups, InvitationState
from ..exceptions import ContractRevert, UsageError
from ..files import read_json, write_private
from ..protocol.groups import Invitation
from ..semaphore import Identity, import_identity, new_identity
from .context import Context
from .options import json_option, output, pass_context


@click.group()
def group() -> None:
    """Membership groups: who may pledge in a gated campaign (Semaphore v4)."""


@group.command()
@json_option
@pass_context
def deploy(ctx: Context) -> None:
    """Deploy the groups contract (with PoseidonT3 and the Semaphore verifier) and record it."""
    groups = Groups.deploy(ctx.w3, ctx.sender)
    ctx.record_groups(groups)
    output(
        ctx,
        {"groups": groups.address, "chainId": groups.chain_id, "block": groups.from_block},
        groups.address,
    )


@group.command()
@click.option("--name", required=True, help="The group's public name (1 to 100 bytes).")
@json_option
@pass_context
def create(ctx: Context, name: str) -> None:
    """Create a group administered by the paying account."""
    size = len(name.encode())
    if not 0 < size <= ctx.groups.constants["MAX_NAME"]:
        raise UsageError(f"--name must have 1 to 100 bytes (got {size})")
    group_id = ctx.groups.create_group(ctx.sender, name)
    output(ctx, {"group": group_id}, f"group {group_id} created: {name}")


@group.command()
@click.argument("group_id", metavar="GROUP", type=int)
@click.option("--count", default=1, show_default=True, help="Number of invitations.")
@click.option(
    "--url",
    envvar="SPARTACUS_PUBLIC_URL",
    help="Base URL of the site the links point to [env SPARTACUS_PUBLIC_URL]; the code "
    "travels after '#', which browsers never send to the server.",
)
@click.option("--qr", is_flag=True, help="Also print each code (or link) as a QR code.")
@json_option
@pass_context
def invite(ctx: Context, group_id: int, count: int, url: str | None, qr: bool) -> None:
    """Create COUNT single-use invitations and print their codes (shown once: hand each to
    one person, on paper or in person)."""
    if not 1 <= count <= 1000:
        raise UsageError("--count takes 1 to 1000")
    _admin_check(ctx, group_id)
    invitations = ctx.groups.create_invitations(ctx.sender, group_id, count)
    rows = [
        {
            "code": inv.code,
            "address": inv.address,
            "link": f"{url.rstrip('/')}/g/{group_id}/join#{inv.code}" if url else None,
        }
        for inv in invitations
    ]
    lines = [f"{count} invitation(s) to group {group_id}; each works once:"]
    for row in rows:
        lines.append(f"  {row['code']}" + (f"  {row['link']}" if row["link"] else ""))
        if qr:
            out = io.StringIO()
            segno.make(str(row["link"] or row["code"]), error="m").terminal(out=out, compact=True)
            lines.append(out.getvalue())
    output(ctx, {"group": group_id, "invitations": rows}, "\n".join(lines))


@group.command(name="redeem")
@click.argument("code")
@click.option(
    "--backup",
    help="Join with the identity of this backup code instead of a new one (not advised: "
    "one identity in two groups links them).",
)
@json_option
@pass_context
def redeem(ctx: Context, code: str, backup: str | None) -> None:
    """Join a group with an invitation CODE: make an identity, save it, add its commitment.

    Prints the identity's backup code: keep it like a receipt code; it is what proves
    membership when pledging.
    """
    invitation = Invitation.from_code(code)
    groups, group_id = ctx.groups, invitation.group_id
    info = groups.info(group_id)
    state = groups.invitation_state(group_id, invitation.address)
    if state != InvitationState.OUTSTANDING:
        raise UsageError(
            f"this invitation to group {group_id} ({info.name}) is "
            f"{InvitationState.LABELS[state]}"
            + (": check the code, the chain and --groups" if state == InvitationState.NONE else "")
        )
    identity = import_identity(backup) if backup else new_identity()
    path = _identity_path(ctx, groups, group_id)
    _save_identity(path, groups, group_id, identity)  # before sending: never lost after it
    try:
        groups.redeem(ctx.sender, invitation, identity.commitment)
    except ContractRevert as exc:
        # Someone sent this very redemption first (a copy from the mempool adds the same
        # commitment): the identity is in all the same.
        if exc.name != "InvitationUsed" or not groups.is_member(group_id, identity.commitment):
            raise
    output(
        ctx,
        {
            "group": group_id,
            "commitment": str(identity.commitment),
            "backup": identity.backup,
            "identity": str(path),
        },
        f"joined group {group_id} ({info.name})\n"
        f"identity backup code: {identity.backup}\n"
        f"(saved in {path}; keep the code somewhere safe: it proves your membership)",
    )


group.add_command(redeem, name="join")


@group.command()
@click.argument("backup_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@json_option
@pass_context
def restore(ctx: Context, backup_file: str) -> None:
    """Keep the identity of a backup FILE (a web page's "Download a backup", or another
    home's identity file) under this home, so that this CLI proves membership with it."""
    data = read_json(Path(backup_file), "identity backup")
    groups = ctx.groups
    try:
        chain_id, group_id, backup = int(data["chainId"]), int(data["group"]), str(data["backup"])
        address = str(data["groups"])
    except (KeyError, TypeError, ValueError):
        raise UsageError(
            f"{backup_file} is not an identity backup (it needs chainId, groups, group and backup)"
        ) from None
    if chain_id != groups.chain_id or address.lower() != groups.address.lower():
        raise UsageError(
            f"{backup_file} is for chain {chain_id}, groups contract {address}; this command "
            f"uses chain {groups.chain_id}, {groups.address} (see --rpc and --groups)"
        )
    identity = import_identity(backup)
    if "commitment" in data and str(data["commitment"]) != str(identity.commitment):
        raise UsageError(f"{backup_file}: its commitment does not match its backup code")
    member = groups.is_member(group_id, identity.commitment)
    path = _identity_path(ctx, groups, group_id)
    _save_identity(path, groups, group_id, identity)
    output(
        ctx,
        {"group": group_id, "commitment": str(identity.commitment), "identity": str(path),
         "member": member},
        f"identity for group {group_id} kept in {path}"
        + ("" if member else f"\nwarning: it is not a member of group {group_id} (yet)"),
    )  # fmt: skip


@group.command()
@click.argument("group_id", metavar="GROUP", type=int)
@click.argument("commitments", metavar="COMMITMENT...", nargs=-1, required=True)
@json_option
@pass_context
def add(ctx: Context, group_id: int, commitments: tuple[str, ...]) -> None:
    """Add identity commitments to GROUP directly (admin only)."""
    values = []
    for text in commitments:
        if not text.isdigit():
            raise UsageError(f"{text!r} is not an identity commitment (a decimal number)")
        values.append(int(text))
    _admin_check(ctx, group_id)
    receipts = ctx.groups.add_members(ctx.sender, group_id, values)
    size = ctx.groups.info(group_id).size
    output(
        ctx,
        {"group": group_id, "added": len(values), "size": size, "transactions": len(receipts)},
        f"added {len(values)} member(s) to group {group_id}; it has {size}",
    )


@group.command()
@click.argument("group_id", metavar="GROUP", type=int)
@json_option
@pass_context
def status(ctx: Context, group_id: int) -> None:
    """Show GROUP's name, admin, size and outstanding invitations."""
    info = ctx.groups.info(group_id)
    output(
        ctx,
        {
            "group": group_id,
            "name": info.name,
            "admin": info.admin,
            "size": info.size,
            "invitations": info.invitations,
            "redeemed": info.redeemed,
            "root": str(info.root),
        },
        f"group {group_id}: {info.name}\n"
        f"  admin        {info.admin}\n"
        f"  members      {info.size}\n"
        f"  invitations  {info.invitations} outstanding, {info.redeemed} redeemed\n"
        "  (anyone can compare these counts with the people the group claims to hold)",
    )


def _admin_check(ctx: Context, group_id: int) -> None:
    info = ctx.groups.info(group_id)
    if info.admin != ctx.sender.address:
        raise UsageError(
            f"group {group_id} is administered by {info.admin}, not by the paying account "
            f"{ctx.sender.address}"
        )


def _identity_path(ctx: Context, groups: Groups, group_id: int) -> Path:
    return (
        ctx.home / "identities" / str(groups.chain_id) / groups.address.lower() / f"{group_id}.json"
    )


def saved_identity(ctx: Context, groups: Groups, group_id: int) -> Identity:
    """The identity ``group redeem`` saved for ``group_id`` of ``groups``; a clear error when
    there is none."""
    path = _identity_path(ctx, groups, group_id)
    if not path.exists():
        raise UsageError(
            f"this campaign takes pledges from members of group {group_id} only, and no "
            f"identity for that group is saved under {ctx.home}: join it first with "
            "`spartacus group join CODE` (the invitation from the group's admin), or pass the "
            "--home where you joined"
        )
    saved: dict[str, Any] = read_json(path, "identity")
    return Identity(str(saved["backup"]), int(saved["commitment"]))


def _save_identity(path: Path, groups: Groups, group_id: int, identity: Identity) -> None:
    if path.exists():
        saved: dict[str, Any] = read_json(path, "identity")
        if saved.get("backup") != identity.backup:
            raise UsageError(
                f"an identity for group {group_id} is already saved in {path}; move it away "
                "first if you mean to join again"
            )
    record = {
        "chainId": groups.chain_id,
        "groups": groups.address,
        "group": group_id,
        "commitment": str(identity.commitment),
        "backup": identity.backup,
    }
    write_private(path, json.dumps(record, indent=1) + "\n")
