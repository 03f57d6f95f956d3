"""The JSON API the pages use: campaigns, records for the roster, live events, the relayer.

Every read comes from the shared index; the only chain calls per request are the ones a
relayed transaction needs and ``pledgeOf`` for a signature's nonce. Bytes travel as 0x-hex.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.messages import encode_typed_data
from flask import Blueprint, Response, jsonify, request

from .. import protocol
from ..chain.health import describe_failure
from ..chain.records import History
from ..custodian.client import request_endorsement
from ..exceptions import RequestRefused, SpartacusError
from .index import detail, records, summary
from .state import WebState, state

bp = Blueprint("api", __name__, url_prefix="/api")


def campaign_or_404(campaign_id: int) -> History:
    return state().index.require(campaign_id)


def listing(shared: WebState) -> list[dict[str, Any]]:
    """Visible campaigns: open and pending nearest their threshold first, then the newest."""
    head = shared.index.head
    hidden = shared.hidden_ids()
    out = []
    for campaign_id in shared.index.campaign_ids():
        if campaign_id in hidden:
            continue
        history = shared.index.history(campaign_id)
        if history is not None:
            out.append(summary(history, head, False))

    def order(s: dict[str, Any]) -> tuple[int, int, int]:
        live = s["status"] in ("open", "pending")
        return (0, s["threshold"] - s["active"], -s["id"]) if live else (1, 0, -s["id"])

    return sorted(out, key=order)


@bp.get("/config")
def config() -> Any:
    shared = state()
    relayer = shared.relayer
    return jsonify(
        chainId=shared.registry.chain_id,
        registry=shared.registry.address,
        relayer=relayer.address if relayer else None,
        custodians=[c.as_json() for c in shared.custodians],
        explorer=shared.explorer,
    )


@bp.get("/campaigns")
def campaigns() -> Any:
    return jsonify(campaigns=listing(state()))


@bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int) -> Any:
    shared = state()
    history = campaign_or_404(campaign_id)
    hidden = shared.store.hidden(campaign_id)
    hidden_json = hidden.as_json() if hidden else None
    return jsonify(detail(shared.index, history, shared.index.head, hidden_json))


@bp.get("/campaigns/<int:campaign_id>/records")
def campaign_records(campaign_id: int) -> Any:
    return jsonify(records(campaign_or_404(campaign_id), state().index.head))


@bp.get("/campaigns/<int:campaign_id>/accounts/<account>")
def account(campaign_id: int, account: str) -> Any:
    campaign_or_404(campaign_id)
    if not (len(account) == 42 and account.startswith("0x")):
        raise RequestRefused("the account must be a 0x-prefixed 20-byte address")
    try:
        active, index, nonce = state().registry.pledge_of(campaign_id, account)
    except ValueError:
        raise RequestRefused("the account must be a 0x-prefixed 20-byte address") from None
    return jsonify(active=active, index=index, nonce=nonce)


@bp.get("/campaigns/<int:campaign_id>/events")
def events(campaign_id: int) -> Any:
    """Server-sent events: the campaign's summary at once, then after every new block."""
    shared = state()
    campaign_or_404(campaign_id)
    if not shared.viewers.acquire(blocking=False):
        raise RequestRefused("too many live viewers right now; the page will poll instead", 503)
    heartbeat = float(shared.config["HEARTBEAT"])

    def stream() -> Iterator[str]:
        try:
            yield "retry: 3000\n\n"
            last: dict[str, Any] | None = None
            index = shared.index
            while not index.stopped:
                head = index.head
                history = index.history(campaign_id)
                if history is not None:
                    now = summary(history, head, shared.is_hidden(campaign_id), index)
                    if now != last:
                        yield f"event: campaign\ndata: {json.dumps(now)}\n\n"
                        last = now
                if index.wait(head.version, heartbeat) == head.version:
                    yield ": still here\n\n"
        finally:
            shared.viewers.release()

    return Response(
        stream(),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# ---------------------------------------------------------------------- relayer


def _body() -> dict[str, Any]:
    if not request.is_json:
        raise RequestRefused("send a JSON object with Content-Type: application/json", 415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise RequestRefused("the body is not a JSON object")
    return body


def _relayer() -> Any:
    relayer = state().relayer
    if relayer is None:
        raise RequestRefused("this site runs no relayer; pledge with a wallet or the CLI", 503)
    return relayer


@bp.post("/relay/pledge")
def relay_pledge() -> Any:
    return jsonify(_relayer().pledge(_body()))


@bp.post("/relay/withdraw")
def relay_withdraw() -> Any:
    return jsonify(_relayer().withdraw(_body()))


@bp.post("/relay/create")
def relay_create() -> Any:
    return jsonify(_relayer().create(_body()))


@bp.post("/endorsements")
def endorsements() -> Any:
    """A fresh endorsed campaign key from a configured custodian, or from a daemon's URL."""
    shared = state()
    body = _body()
    if "custodian" in body:
        number = body["custodian"]
        if not isinstance(number, int) or not 0 <= number < len(shared.custodians):
            raise RequestRefused(f"custodian must be 0 to {len(shared.custodians) - 1}")
        url = shared.custodians[number].url
    elif "url" in body:
        url = _public_url(body["url"], bool(shared.config["ALLOW_PRIVATE_CUSTODIAN_URLS"]))
    else:
        raise RequestRefused("name a configured custodian or give a daemon's url")
    registry = shared.registry
    try:
        endorsement = request_endorsement(
            url, registry=registry.address, chain_id=registry.chain_id
        )
        typed = protocol.endorsement_typed_data(
            registry.chain_id,
            registry.address,
            bytes.fromhex(endorsement["campaignKey"][2:]),
            int(endorsement["expiry"]),
        )
        signer = Account.recover_message(
            encode_typed_data(full_message=typed), signature=endorsement["signature"]
        )
    except SpartacusError as exc:
        raise RequestRefused(str(exc), 502) from None
    except (KeyError, TypeError, ValueError):
        raise RequestRefused(
            f"custodian {url} answered with a malformed endorsement", 502
        ) from None
    if signer.lower() != str(endorsement.get("custodian", "")).lower():
        raise RequestRefused(f"custodian {url} sent an endorsement it did not sign", 502)
    return jsonify(endorsement)


def _public_url(value: Any, allow_private: bool) -> str:
    """An http(s) URL whose host resolves to public addresses only (unless allowed)."""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise RequestRefused("url must be an http(s) URL")
    parts = urlsplit(value)
    if not parts.hostname or parts.username or parts.password:
        raise RequestRefused("url must name a host, without a user or password")
    if allow_private:
        return value
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError:
        raise RequestRefused(f"the host {parts.hostname} cannot be resolved") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise RequestRefused(f"the host {parts.hostname} is not a public address", 403)
    return value


@bp.get("/health")
def health() -> Any:
    """Poller, node and relayer state; 503 when the node cannot be reached or the relayer is
    too low on funds to take pledges (it may still relay withdrawals: ``relayer.ok``).

    The node is unreachable when the poller's last read failed or the balance read here
    fails (then the balance is unknown: null, not a number). Errors never name the node's
    URL, which for a hosted node carries its API key.
    """
    shared = state()
    index = shared.index
    head = index.head
    relayer = shared.relayer
    relayer_report = None
    node_error = index.last_error
    funded = True
    if relayer is not None:
        balance: int | None = None
        try:  # not while the poller finds the node down: a hung node would hang health
            balance = relayer.balance() if node_error is None else None
        except Exception as exc:  # noqa: BLE001 - health says what it can
            node_error = describe_failure(exc)
        known = balance if balance is not None else -1
        relayer_report = {
            "address": relayer.address,
            "balanceWei": balance,
            "ok": known >= relayer.min_balance,  # withdrawals are relayed
            # pledges and new campaigns too: the reserve kept for withdrawals is untouched
            "takesPledges": known >= relayer.min_balance + relayer.withdraw_reserve,
        }
        funded = bool(relayer_report["takesPledges"])
    ok = node_error is None and funded
    report = {
        "ok": ok,
        "block": head.block,
        "chainId": shared.registry.chain_id,
        "registry": shared.registry.address,
        "node": {"reachable": node_error is None, "error": node_error},
        "relayer": relayer_report,
        "pollerError": index.last_error,
        "rpcCalls": index.rpc_calls,
    }
    return jsonify(report), 200 if ok else 503
