"""Membership group pages and their API (docs/web.md, "Groups").

``/g/<id>`` shows a group's name, size, admin and invitations; ``/g/<id>/join`` is where an
invitation link lands: its code travels after ``#``, which browsers never send, so the
server sees only the group id. The browser (frontend/src/group-page.js, bundled as
``dist/groups.js``) makes the Semaphore identity, signs the redemption with the code's key
and posts the commitment and signature to ``/api/groups/<id>/redeem``, which the relayer
sends (``group_relay``). ``/api/groups/<id>/members`` lists the commitments in leaf order,
read from the chain's events, for proving in the browser.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template

from ..chain.groups import GroupInfo
from ..exceptions import ContractRevert, RequestRefused
from .api import _body
from .state import state

pages = Blueprint("group_pages", __name__)
api = Blueprint("group_api", __name__, url_prefix="/api/groups")


def _info(group_id: int) -> GroupInfo:
    shared = state()
    try:
        return shared.groups.info(group_id)
    except ContractRevert as exc:
        if exc.name == "UnknownGroup":
            raise RequestRefused(f"there is no group {group_id} on this site", 404) from None
        raise


def _json(info: GroupInfo) -> dict[str, Any]:
    return {
        "group": info.group_id,
        "name": info.name,
        "admin": info.admin,
        "size": info.size,
        "root": str(info.root),
        "invitations": info.invitations,
        "redeemed": info.redeemed,
    }


def _page_data(info: GroupInfo) -> dict[str, Any]:
    shared = state()
    groups = shared.groups
    return {
        "chainId": groups.chain_id,
        "groups": groups.address,
        "groupId": info.group_id,
        "relayer": shared.relayer.address if shared.relayer else None,
    }


@pages.get("/g/<int:group_id>")
def group(group_id: int) -> str:
    info = _info(group_id)
    return render_template("group.html", g=_json(info), joining=False, page=_page_data(info))


@pages.get("/g/<int:group_id>/join")
def join(group_id: int) -> str:
    info = _info(group_id)
    return render_template("group.html", g=_json(info), joining=True, page=_page_data(info))


@api.get("/<int:group_id>")
def info(group_id: int) -> Any:
    return jsonify(_json(_info(group_id)))


@api.get("/<int:group_id>/members")
def members(group_id: int) -> Any:
    """The group's commitments in leaf order (decimal strings) and the root they make."""
    found = _info(group_id)
    shared = state()
    # Rebuilding the list reads the group's logs from the contract's deployment on: do it
    # once per root (one view call per request), not once per visitor.
    cached = shared.group_members.get(group_id)
    if cached is None or cached[0] != found.root:
        cached = (found.root, [str(c) for c in shared.groups.members(group_id)])
        if len(cached[1]) == found.size:  # the node had every event of this root
            shared.group_members[group_id] = cached
    return jsonify({"group": group_id, "root": str(found.root), "members": cached[1]})


@api.post("/<int:group_id>/redeem")
def redeem(group_id: int) -> Any:
    relay = state().group_relay
    if relay is None:
        raise RequestRefused(
            "this site runs no relayer; redeem the invitation with `spartacus group redeem`", 503
        )
    return jsonify(relay.redeem(group_id, _body()))
