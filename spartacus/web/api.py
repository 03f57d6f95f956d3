"""The JSON API the pages use: campaigns, records for the roster, live events, the relayer.

Every read comes from the shared index; the only chain calls per request are the ones a
relayed transaction needs and ``pledgeOf`` for a signature's nonce. Bytes travel as 0x-hex.
"""

from __future__ import annotations

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
from ..exceptions import NotPublicAddress, RequestRefused, SpartacusError
from . import bodies
from .live import HEARTBEAT_COMMENT, RETRY
from .state import WebState, state
from .summaries import detail, records, summary

bp = Blueprint("api", __name__, url_prefix="/api")

# The POST endpoints a static copy of the site (``spartacus export-site``) sends to from
# another origin. Any origin may: these take only sealed bytes and signatures that anyone
# can send with curl, no cookie or credential exists to ride along, and copies live on
# origins nobody can list in advance (IPFS gateways, onion services, ``file://`` whose
# origin is "null"). The reads stay same-origin: a static copy reads the chain itself.
CROSS_ORIGIN = (
    "/api/relay/pledge",
    "/api/relay/withdraw",
    "/api/relay/create",
    "/api/relay/create/check",
    "/api/endorsements",
)


@bp.after_request
def cross_origin(response: Response) -> Response:
    if request.path in CROSS_ORIGIN and request.method in ("POST", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        if request.method == "OPTIONS":  # the preflight of a JSON POST
            response.headers["Access-Control-Allow-Methods"] = "POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
    return response


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
        directory=shared.directory.as_json(),
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


@bp.post("/campaigns/<int:campaign_id>/account")
def account(campaign_id: int) -> Any:
    """``pledgeOf`` for ``{"account": "0x..."}``: a POST, so that the pledge account never
    appears in a URL (and so in no proxy's or server's access log) next to the campaign."""
    campaign_or_404(campaign_id)
    pledge_account = bodies.address(_body(), "account")
    active, index, nonce = state().registry.pledge_of(campaign_id, pledge_account)
    return jsonify(active=active, index=index, nonce=nonce)


@bp.get("/campaigns/<int:campaign_id>/events")
def events(campaign_id: int) -> Any:
    """Server-sent events: the campaign's summary at once, then after every new block."""
    shared = state()
    campaign_or_404(campaign_id)
    if not shared.viewers.acquire(blocking=False):
        raise RequestRefused("too many live viewers right now; the page will poll instead", 503)
    heartbeat = float(shared.config["HEARTBEAT"])

    def stream() -> Iterator[bytes]:
        # Under a threaded WSGI server each viewer holds a thread; `spartacus serve` runs
        # the streams on its event loop instead (server.py). The update is the same bytes.
        try:
            yield RETRY
            last: bytes | None = None
            index, live = shared.index, shared.live
            while not index.stopped:
                version = index.head.version
                now = live.message(campaign_id)
                if now is not None and now != last:
                    yield now
                    last = now
                if index.wait(version, heartbeat) == version:
                    yield HEARTBEAT_COMMENT
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


@bp.post("/relay/create/check")
def relay_create_check() -> Any:
    """The terms of a campaign about to be created, checked before any key is asked for."""
    return jsonify(_relayer().check_create(_body()))


@bp.post("/endorsements")
def endorsements() -> Any:
    """A fresh endorsed campaign key from a configured custodian, or from a daemon's URL."""
    shared = state()
    body = _body()
    if "custodian" in body:
        number = body["custodian"]
        if not isinstance(number, int) or not 0 <= number < len(shared.custodians):
            raise RequestRefused(f"custodian must be 0 to {len(shared.custodians) - 1}")
        url, public_only = shared.custodians[number].url, False  # the operator's choice
    elif "url" in body:
        url = _custodian_url(body["url"])
        public_only = not shared.config["ALLOW_PRIVATE_CUSTODIAN_URLS"]
    else:
        raise RequestRefused("name a configured custodian or give a daemon's url")
    # A daemon limits keys per caller, and this app is one caller for all its creators:
    # each visitor gets a small part of that, so no one creator spends it for the others.
    wait = shared.endorsements.check(f"{shared.visitor(request.remote_addr)} {url}")
    if wait:
        raise RequestRefused(f"too many key requests; try again in {wait} s", 429, wait)
    registry = shared.registry
    try:
        endorsement = request_endorsement(
            url, registry=registry.address, chain_id=registry.chain_id, public_only=public_only
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
    except NotPublicAddress as exc:
        raise RequestRefused(str(exc), 403) from None
    except SpartacusError as exc:
        raise RequestRefused(str(exc), 502) from None
    except (KeyError, TypeError, ValueError):
        raise RequestRefused(
            f"custodian {url} answered with a malformed endorsement", 502
        ) from None
    if signer.lower() != str(endorsement.get("custodian", "")).lower():
        raise RequestRefused(f"custodian {url} sent an endorsement it did not sign", 502)
    return jsonify(endorsement)


def _custodian_url(value: Any) -> str:
    """An http(s) URL naming a host. Whether its addresses are public is checked when it is
    fetched (``request_endorsement(public_only=True)``), on the addresses then connected to."""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise RequestRefused("url must be an http(s) URL")
    try:
        parts = urlsplit(value)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        raise RequestRefused("url is not a valid URL") from None
    if not parts.hostname or parts.username or parts.password:
        raise RequestRefused("url must name a host, without a user or password")
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
        # Live-count streams open on the event loop, and the updates built for them: one
        # per campaign and block however many watch (web/live.py).
        "liveViewers": shared.live.viewers,
        "liveUpdates": shared.live.built,
    }
    return jsonify(report), 200 if ok else 503
