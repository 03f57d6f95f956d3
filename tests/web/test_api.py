"""The JSON API and the relayer, through Flask's test client against anvil."""

from __future__ import annotations

import json
from typing import Any

import pytest
from web3 import Web3

from spartacus import protocol
from spartacus.chain.registry import Registry
from spartacus.protocol.roster import ReleaseRecord

from .conftest import Web, new_pledger, pledge_body, withdraw_body


def test_campaigns_list_a_new_campaign_with_its_terms(web: Web, create_campaign: Any) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    listed = web.get("/api/campaigns").get_json()["campaigns"]
    assert [c["id"] for c in listed] == [campaign_id]
    detail = web.get(f"/api/campaigns/{campaign_id}").get_json()
    assert detail["title"] == "Fix the heating"
    assert detail["plan"] == "We write to facilities together"
    assert (detail["threshold"], detail["active"], detail["status"]) == (3, 0, "open")
    assert detail["rosterMode"] == "members" and detail["custodianThreshold"] == 1
    assert len(detail["custodians"]) == 1 and detail["custodians"][0]["campaignKey"].startswith(
        "0x"
    )


def test_unknown_campaign_is_404_with_a_reason(web: Web) -> None:
    response = web.get("/api/campaigns/99")
    assert response.status_code == 404
    assert response.get_json() == {"error": "campaign 99 does not exist"}
    assert web.get("/api/campaigns/99/records").status_code == 404
    assert web.get("/api/campaigns/99/events").status_code == 404


def test_relayed_pledge_is_mined_and_counted(web: Web, create_campaign: Any) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    alice = new_pledger("Alice", "alice@example.org")
    response = web.post("/api/relay/pledge", pledge_body(web, campaign_id, alice))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["index"] == 1 and response.get_json()["active"] == 1
    assert web.state.registry.pledge_of(campaign_id, alice.keys.account)[0] is True
    web.sync()
    assert web.get(f"/api/campaigns/{campaign_id}").get_json()["active"] == 1
    asked = {"account": alice.keys.account}
    account = web.post(f"/api/campaigns/{campaign_id}/account", asked).get_json()
    assert account == {"active": True, "index": 1, "nonce": 1}
    # The pledge account travels in a body, never in a URL (an access log would keep it).
    assert web.get(f"/api/campaigns/{campaign_id}/accounts/{alice.keys.account}").status_code == 404
    refused = web.post(f"/api/campaigns/{campaign_id}/account", {"account": "0x12"})
    assert refused.status_code == 400 and "address" in refused.get_json()["error"]


def test_duplicate_and_replayed_pledges_are_refused_before_gas(
    web: Web, create_campaign: Any
) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    alice = new_pledger("Alice", "alice@example.org")
    body = pledge_body(web, campaign_id, alice)
    assert web.post("/api/relay/pledge", body).status_code == 200
    relayer = web.state.relayer
    assert relayer is not None
    sent = web.state.w3.eth.get_transaction_count(relayer.address)

    again = web.post("/api/relay/pledge", body)
    assert again.status_code == 409
    assert "already has an active pledge" in again.get_json()["error"]

    web.sync()
    assert (
        web.post("/api/relay/withdraw", withdraw_body(web, campaign_id, alice, 1)).status_code
        == 200
    )
    replay = web.post("/api/relay/pledge", body)  # signed for nonce 0; the registry expects 2
    assert replay.status_code == 409
    assert "not by" in replay.get_json()["error"] and "nonce 2" in replay.get_json()["error"]
    # Only the withdrawal was mined after the first pledge: nothing doomed was sent.
    assert web.state.w3.eth.get_transaction_count(relayer.address) == sent + 1


def test_a_signature_for_another_campaign_is_refused(
    web: Web, create_campaign: Any, spartacus: Any
) -> None:
    first, (c,) = create_campaign(threshold=3)
    path = spartacus.home(c.role) / "second.json"
    spartacus.ok(
        "custodian", "endorse", "--out", str(path), role=c.role, passphrase=c.passphrase, dev=None
    )
    second = spartacus.ok(
        "create", "--title", "Other", "--instructions", "x", "--threshold", "3",
        "--deadline", "7d", "--grace", "0", "--endorsement", str(path), role="creator", dev=1,
    )["campaign"]  # fmt: skip
    web.sync()
    alice = new_pledger("Alice", "alice@example.org")
    body = pledge_body(web, first, alice)
    body["campaignId"] = second  # re-targeted: boxes and signature were made for `first`
    response = web.post("/api/relay/pledge", body)
    assert response.status_code == 409
    assert "signature is not by" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"ciphertext": "0x00"}, "ciphertext has 1 bytes; expected 296"),
        ({"boxes": "0x" + "00" * 113}, "boxes has 113 bytes; expected 112"),
        ({"memberKey": "0xzz"}, "memberKey must be 0x-prefixed hex"),
        ({"commitment": None}, "commitment must be 0x-prefixed hex"),
        ({"signature": "0x" + "00" * 64}, "signature has 64 bytes; expected 65"),
        ({"account": "alice"}, "account must be a 0x-prefixed 20-byte address"),
        ({"campaignId": -1}, "campaignId must be a whole number"),
        ({"campaignId": True}, "campaignId must be a whole number"),
        ({"memberKey": "0x" + "00" * 32}, "the member key is zero"),
        ({"signature": "0x" + "00" * 65}, "the signature is malformed"),
    ],
)
def test_malformed_pledges_get_a_reason(
    web: Web, create_campaign: Any, change: dict[str, Any], reason: str
) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    body = pledge_body(web, campaign_id, new_pledger("Alice", "alice@example.org"))
    body.update(change)
    response = web.post("/api/relay/pledge", body)
    assert 400 <= response.status_code < 500
    assert reason in response.get_json()["error"]


def test_requests_that_are_not_json_objects_are_refused(web: Web) -> None:
    assert web.client.post("/api/relay/pledge", data="x").status_code == 415
    response = web.client.post("/api/relay/pledge", json=[1, 2])
    assert (
        response.status_code == 400
        and response.get_json()["error"] == "the body is not a JSON object"
    )
    huge = web.client.post(
        "/api/relay/pledge", data=json.dumps({"x": "a" * 70_000}), content_type="application/json"
    )
    assert huge.status_code == 413 and huge.get_json()["error"] == "the request is too large"
    assert (
        web.post("/api/relay/pledge", {"campaignId": 7, "account": "0x" + "11" * 20}).status_code
        == 404
    )


def test_the_relayer_limits_each_campaign(web_config: dict[str, Any], create_campaign: Any) -> None:
    from spartacus.web import create_app

    from .conftest import Web as WebClient

    app = create_app({**web_config, "RELAY_PER_CAMPAIGN_PER_MINUTE": 2, "RELAY_PER_HOUR": 2})
    web = WebClient(app, app.test_client(), app.extensions["spartacus"])
    web.state.start()
    campaign_id, _ = create_campaign(threshold=5)
    web.sync()
    members = [new_pledger(name, f"{name}@example.org") for name in ("Alice", "Bob")]
    for member in members:
        body = pledge_body(web, campaign_id, member)
        assert web.post("/api/relay/pledge", body).status_code == 200
    third = web.post(
        "/api/relay/pledge", pledge_body(web, campaign_id, new_pledger("C", "c@x.org"))
    )
    assert third.status_code == 429
    assert int(third.headers["Retry-After"]) > 0
    assert "try again in" in third.get_json()["error"]
    # With both budgets spent (by a burst of pledges, say), members can still withdraw.
    web.sync()
    for member in members:
        response = web.post("/api/relay/withdraw", withdraw_body(web, campaign_id, member, 1))
        assert response.status_code == 200, response.get_json()
    assert web.state.registry.info(campaign_id).active == 0
    web.state.stop()


def test_a_hidden_campaign_is_left_out_and_not_relayed(web: Web, create_campaign: Any) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    web.state.store.hide(campaign_id, "doxxing")
    web.state._hidden = (0.0, set())  # forget the two-second cache
    assert web.get("/api/campaigns").get_json()["campaigns"] == []
    detail = web.get(f"/api/campaigns/{campaign_id}").get_json()
    assert detail["hidden"]["reason"] == "doxxing"
    response = web.post(
        "/api/relay/pledge", pledge_body(web, campaign_id, new_pledger("A", "a@x.org"))
    )
    assert response.status_code == 403 and "hidden" in response.get_json()["error"]


def test_withdrawal_is_relayed_and_recorded(web: Web, create_campaign: Any) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    alice = new_pledger("Alice", "alice@example.org")
    assert web.post("/api/relay/pledge", pledge_body(web, campaign_id, alice)).status_code == 200
    response = web.post("/api/relay/withdraw", withdraw_body(web, campaign_id, alice, 1))
    assert response.status_code == 200 and response.get_json()["active"] == 0
    again = web.post("/api/relay/withdraw", withdraw_body(web, campaign_id, alice, 2))
    assert again.status_code == 409 and "no active pledge" in again.get_json()["error"]
    web.sync()
    records = web.get(f"/api/campaigns/{campaign_id}/records").get_json()
    assert records["withdrawn"] == [1] and records["pledges"] == []


def test_members_read_the_roster_from_the_records(
    web: Web, create_campaign: Any, spartacus: Any
) -> None:
    campaign_id, custodians = create_campaign(threshold=2)
    web.sync()
    pledgers = [new_pledger("Alice", "alice@example.org"), new_pledger("Bob", "bob@example.org")]
    for p in pledgers:
        assert web.post("/api/relay/pledge", pledge_body(web, campaign_id, p)).status_code == 200
    c = custodians[0]
    spartacus.ok(
        "custodian", "release", str(campaign_id), role=c.role, passphrase=c.passphrase, dev=None
    )
    web.sync()
    data = web.get(f"/api/campaigns/{campaign_id}/records").get_json()
    assert data["status"] == "revealed" and data["releases"]
    records = [_record(r) for r in [data["instructions"], *data["pledges"]]]
    releases = [
        ReleaseRecord(r["custodianIndex"], bytes.fromhex(r["data"][2:])) for r in data["releases"]
    ]
    roster = protocol.read_roster(
        web.state.registry.deployment,
        campaign_id,
        data["n"],
        data["t"],
        records,
        releases,
        reader=pledgers[1].keys,
        reader_index=None,
    )
    assert sorted(m.contact.name for m in roster.members) == ["Alice", "Bob"]
    assert roster.instructions == "Meet Monday 9:00 at the canteen"


def _record(r: dict[str, Any]) -> protocol.PledgeRecord:
    return protocol.PledgeRecord(
        r["index"],
        r["account"],
        bytes.fromhex(r["memberKey"][2:]),
        bytes.fromhex(r["ciphertext"][2:]),
        bytes.fromhex(r["boxes"][2:]),
        bytes.fromhex(r["commitment"][2:]),
    )


def test_the_event_stream_sends_the_count_and_moves_with_the_chain(
    web: Web, create_campaign: Any
) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    response = web.client.get(f"/api/campaigns/{campaign_id}/events", buffered=False)
    assert response.mimetype == "text/event-stream"
    chunks = response.response  # the generator: read event by event
    assert next(chunks).startswith(b"retry:")
    first = _event(next(chunks))
    assert first["id"] == campaign_id and first["active"] == 0
    body = pledge_body(web, campaign_id, new_pledger("Alice", "alice@example.org"))
    assert web.post("/api/relay/pledge", body).status_code == 200
    web.sync()
    update = next(c for c in chunks if c.startswith(b"event:"))
    assert _event(update)["active"] == 1
    response.close()


def _event(chunk: bytes) -> Any:
    lines = chunk.decode().splitlines()
    assert lines[0] == "event: campaign"
    return json.loads(lines[1].removeprefix("data: "))


def test_viewers_past_the_limit_are_told_to_poll(
    web_config: dict[str, Any], create_campaign: Any
) -> None:
    from spartacus.web import create_app

    app = create_app({**web_config, "MAX_VIEWERS": 1})
    app.extensions["spartacus"].start()
    client = app.test_client()
    campaign_id, _ = create_campaign(threshold=3)
    app.extensions["spartacus"].index.sync()
    first = client.get(f"/api/campaigns/{campaign_id}/events", buffered=False)
    next(first.response)
    second = client.get(f"/api/campaigns/{campaign_id}/events", buffered=False)
    assert second.status_code == 503 and "poll" in second.get_json()["error"]
    first.close()
    app.extensions["spartacus"].stop()


def test_health_reports_the_relayer_balance(web: Web) -> None:
    report = web.get("/api/health").get_json()
    assert report["ok"] is True
    relayer = web.state.relayer
    assert relayer is not None
    assert report["relayer"]["address"] == relayer.address
    assert report["relayer"]["balanceWei"] == web.state.w3.eth.get_balance(relayer.address)


def test_a_relayer_low_on_funds_keeps_the_rest_for_withdrawals(
    web: Web, web_config: dict[str, Any], create_campaign: Any
) -> None:
    from spartacus.web import create_app
    from spartacus.web.config import from_environment

    from .conftest import Web as WebClient

    campaign_id, _ = create_campaign(threshold=5)
    web.sync()
    alice = new_pledger("Alice", "alice@example.org")
    assert web.post("/api/relay/pledge", pledge_body(web, campaign_id, alice)).status_code == 200
    relayer = web.state.relayer
    assert relayer is not None
    balance = web.state.w3.eth.get_balance(relayer.address)

    # The same relayer with a reserve just above its balance: it may only relay withdrawals.
    low = create_app(
        {**web_config, "RELAY_MIN_BALANCE_WEI": 1, "RELAY_WITHDRAW_RESERVE_WEI": balance}
    )
    site = WebClient(low, low.test_client(), low.extensions["spartacus"])
    site.state.start()
    bob = site.post(
        "/api/relay/pledge", pledge_body(site, campaign_id, new_pledger("B", "b@x.org"))
    )
    assert bob.status_code == 503
    assert "keeps what is left for withdrawals" in bob.get_json()["error"]
    health = site.get("/api/health")
    assert health.status_code == 503
    report = health.get_json()["relayer"]
    assert (report["ok"], report["takesPledges"]) == (True, False), report
    leave = site.post("/api/relay/withdraw", withdraw_body(site, campaign_id, alice, 1))
    assert leave.status_code == 200, leave.get_json()
    assert site.state.registry.info(campaign_id).active == 0
    site.state.stop()

    assert web.get("/api/health").get_json()["relayer"]["takesPledges"] is True
    env = {"SPARTACUS_RELAY_WITHDRAW_RESERVE_WEI": "5", "SPARTACUS_RELAY_MIN_BALANCE_WEI": "7"}
    config = from_environment(env)
    assert (config["RELAY_WITHDRAW_RESERVE_WEI"], config["RELAY_MIN_BALANCE_WEI"]) == (5, 7)


def test_without_a_relayer_relay_requests_get_503(web_config: dict[str, Any]) -> None:
    from spartacus.web import create_app

    app = create_app({**web_config, "RELAYER_KEY": None})
    response = app.test_client().post("/api/relay/pledge", json={})
    assert response.status_code == 503 and "no relayer" in response.get_json()["error"]
    assert app.test_client().get("/api/health").get_json()["relayer"] is None
    app.extensions["spartacus"].stop()


def test_every_response_has_a_strict_policy_and_no_cookie(web: Web) -> None:
    for path in ("/api/campaigns", "/api/health", "/api/campaigns/5"):
        response = web.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "connect-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "Set-Cookie" not in response.headers


def test_expired_or_too_long_signatures_are_refused_before_gas(
    web: Web, create_campaign: Any
) -> None:
    """#13 §5: a body whose validUntil has passed, or lies more than MAX_VALIDITY ahead, gets
    a 400 with its reason, and nothing is sent; the same pledge signed for an hour lands."""
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    alice = new_pledger("Alice", "alice@example.org")
    now = web.state.registry.latest_timestamp()
    relayer = web.state.relayer
    assert relayer is not None
    sent = web.state.w3.eth.get_transaction_count(relayer.address)
    for until, reason in ((now - 1, "which has passed"), (now + 3 * 3600, "seconds ahead")):
        refused = web.post("/api/relay/pledge", pledge_body(web, campaign_id, alice, 0, until))
        assert refused.status_code == 400 and reason in refused.get_json()["error"]
    assert web.state.w3.eth.get_transaction_count(relayer.address) == sent
    assert web.post("/api/relay/pledge", pledge_body(web, campaign_id, alice)).status_code == 200
    late = withdraw_body(web, campaign_id, alice, 1, now - 1)
    refused = web.post("/api/relay/withdraw", late)
    assert refused.status_code == 400 and "which has passed" in refused.get_json()["error"]


def test_late_joining_is_not_offered_through_the_relayer(web: Web) -> None:
    body = {"terms": {"title": "x", "lateJoining": True}, "instructions": {}, "endorsements": []}
    refused = web.post("/api/relay/create", body)
    assert refused.status_code == 400
    assert "spartacus create --late-joining" in refused.get_json()["error"]


def test_campaigns_are_created_through_the_relayer(
    web: Web, spartacus: Any, make_custodians: Any
) -> None:
    (c,) = make_custodians(1)
    path = spartacus.home(c.role) / "e.json"
    spartacus.ok(
        "custodian", "endorse", "--out", str(path), role=c.role, passphrase=c.passphrase, dev=None
    )
    endorsement = json.loads(path.read_text())
    organiser = protocol.derive_keys(protocol.new_secret())
    sealed = protocol.seal_instructions(
        web.state.registry.deployment,
        organiser,
        "Meet at noon",
        [bytes.fromhex(endorsement["campaignKey"][2:])],
        1,
    )
    now = web.state.registry.latest_timestamp()
    body = {
        "terms": {
            "title": "Fair rota",
            "description": "",
            "plan": "We ask together",
            "threshold": 2,
            "deadline": now + 86400,
            "gracePeriod": 0,
            "custodianThreshold": 1,
            "rosterMode": "members",
        },
        "instructions": {
            "memberKey": "0x" + sealed.member_key.hex(),
            "ciphertext": "0x" + sealed.ciphertext.hex(),
            "boxes": "0x" + sealed.boxes.hex(),
            "commitment": "0x" + sealed.commitment.hex(),
        },
        "endorsements": [endorsement],
    }
    forged = dict(endorsement, custodian=Web3.to_checksum_address("0x" + "12" * 20))
    refused = web.post("/api/relay/create", {**body, "endorsements": [forged]})
    assert (
        refused.status_code == 409 and "was not signed by custodian" in refused.get_json()["error"]
    )

    response = web.post("/api/relay/create", body)
    assert response.status_code == 200, response.get_json()
    campaign_id = response.get_json()["campaignId"]
    assert Registry(web.state.w3, web.state.registry.address).info(campaign_id).threshold == 2
    used = web.post("/api/relay/create", body)
    assert used.status_code == 409 and "already serves a campaign" in used.get_json()["error"]


def test_endorsement_urls_must_be_public(web: Web) -> None:
    response = web.post("/api/endorsements", {"url": "http://127.0.0.1:9/"})
    assert response.status_code == 403 and "not a public address" in response.get_json()["error"]
    assert web.post("/api/endorsements", {"url": "file:///etc/passwd"}).status_code == 400
    assert web.post("/api/endorsements", {"custodian": 3}).status_code == 400


def test_a_new_campaign_is_checked_before_any_custodian_is_asked_for_a_key(web: Web) -> None:
    now = web.state.registry.latest_timestamp()
    terms = {
        "title": "Fair rota",
        "description": "",
        "plan": "We ask together",
        "threshold": 2,
        "deadline": now + 86400,
        "gracePeriod": 0,
        "custodianThreshold": 2,
        "rosterMode": "members",
    }
    good = web.post("/api/relay/create/check", {"terms": terms, "custodians": 2})
    assert good.status_code == 200 and good.get_json() == {"ok": True}
    refusals = {
        "custodianThreshold must be between 1 and 1": ({}, 1),
        "title has 0 bytes": ({"title": ""}, 2),
        "title has 1000 bytes": ({"title": "x" * 1000}, 2),
        "threshold must be at least 2": ({"threshold": 1}, 2),
        "is not in the future": ({"deadline": now - 1}, 2),
        "a campaign needs 1 to": ({}, 9),
        'rosterMode must be "members" or "public"': ({"rosterMode": "everyone"}, 2),
    }
    for reason, (change, custodians) in refusals.items():
        body = {"terms": {**terms, **change}, "custodians": custodians}
        refused = web.post("/api/relay/create/check", body)
        assert refused.status_code == 400 and reason in refused.get_json()["error"], (
            reason,
            refused.get_json(),
        )
    assert web.post("/api/relay/create/check", {"terms": terms}).status_code == 400
