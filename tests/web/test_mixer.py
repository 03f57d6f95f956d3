"""The relayer's mixer as a network observer sees it: requests made one after the other land
in fewer transactions, in another order; an item the registry skips in a batch is told why.

The window is long (600 s) and the batch size is the number of requests, so a batch is cut
exactly when the last request has been queued: no timing decides anything. The shuffle is
seeded (RELAY_MIX_SEED, a test-only setting), so the order is the same on every run.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask

from spartacus.chain.events import decode_receipt
from spartacus.web import WebState, create_app

from .conftest import Web, new_pledger, pledge_body


def mixing_web(web_config: dict[str, Any], batch: int) -> Web:
    config = {
        **web_config,
        "RELAY_MIX_SECONDS": 600,
        "RELAY_BATCH_MAX": batch,
        "RELAY_MIX_SEED": 7,
        "RELAY_NEAR_FRACTION": 0,  # the slow-down near N has its own tests
        "RELAY_PER_CAMPAIGN_PER_MINUTE": 1000,
    }
    app = create_app(config)
    state: WebState = app.extensions["spartacus"]
    state.start()
    return Web(app, app.test_client(), state)


def post_in_order(web: Web, bodies: list[dict[str, Any]]) -> list[Any]:
    """POST each body on its own thread, the next only once the previous one is queued;
    returns the answers in request order."""
    app: Flask = web.app
    answers: list[Any] = [None] * len(bodies)
    threads = []
    relayer = web.state.relayer
    assert relayer is not None

    def send(number: int, body: dict[str, Any]) -> None:
        answers[number] = app.test_client().post("/api/relay/pledge", json=body)

    for number, body in enumerate(bodies):
        thread = threading.Thread(target=send, args=(number, body))
        thread.start()
        threads.append(thread)
        for _ in range(600):  # bounded: a request is queued within a minute, or fails
            if relayer.mixer.queued() > number or answers[number] is not None:
                break
            time.sleep(0.1)
    for thread in threads:
        thread.join(300)
    return answers


def test_requests_land_in_one_transaction_in_another_order(
    web_config: dict[str, Any], create_campaign: Any
) -> None:
    campaign_id, _ = create_campaign(threshold=20)
    web = mixing_web(web_config, batch=8)
    try:
        web.sync()
        pledgers = [new_pledger(f"Member {n}", f"m{n}@example.org") for n in range(8)]
        bodies = [pledge_body(web, campaign_id, p) for p in pledgers]

        answers = post_in_order(web, bodies)

        assert [a.status_code for a in answers] == [200] * 8, [a.get_json() for a in answers]
        hashes = {a.get_json()["txHash"] for a in answers}
        assert len(hashes) == 1  # eight requests, one transaction
        history = web.state.registry.history(campaign_id)
        on_chain = [p.record.account.lower() for p in history.pledges]
        requested = [p.keys.account.lower() for p in pledgers]
        assert sorted(on_chain) == sorted(requested)
        assert on_chain != requested  # the observer cannot read the request order off-chain
        # Each requester is told its own pledge's index and the count after it.
        for answer, account in zip(answers, requested, strict=True):
            assert on_chain[answer.get_json()["index"] - 1] == account
        assert web.state.registry.info(campaign_id).active == 8
    finally:
        web.state.stop()


def test_an_item_the_registry_skips_in_a_batch_is_refused_with_its_reason(
    web_config: dict[str, Any], create_campaign: Any
) -> None:
    # Three pledges to a campaign of threshold 2 without grace: each passes its checks
    # alone, but in the batch the second to land reveals the campaign and the third is
    # skipped on-chain (BatchItemRefused with CampaignClosed's selector).
    campaign_id, _ = create_campaign(threshold=2)
    web = mixing_web(web_config, batch=3)
    try:
        web.sync()
        pledgers = [new_pledger(f"Member {n}", f"m{n}@example.org") for n in range(3)]
        answers = post_in_order(web, [pledge_body(web, campaign_id, p) for p in pledgers])

        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200, 200, 409], [a.get_json() for a in answers]
        taken = [a.get_json() for a in answers if a.status_code == 200]
        assert taken[0]["txHash"] == taken[1]["txHash"]
        (refused,) = [a.get_json()["error"] for a in answers if a.status_code == 409]
        assert f"campaign {campaign_id} no longer takes pledges (revealed" in refused
        assert "nothing was recorded" in refused
        assert web.state.registry.info(campaign_id).active == 2
    finally:
        web.state.stop()


def test_an_item_that_would_now_fail_is_refused_before_its_batch_is_sent(
    web_config: dict[str, Any], create_campaign: Any, travel: Any, spartacus: Any
) -> None:
    # A pledge waits in the mixer while its campaign's deadline passes; the batch is cut by
    # a pledge to another campaign. Checked again alone just before the batch is built, the
    # first is refused (nothing sent) and the batch holds the second only: nothing doomed
    # is mined, not even as a skipped item.
    closing, (custodian,) = create_campaign(threshold=5, deadline="2d")
    path = spartacus.home(custodian.role) / "second.json"
    spartacus.ok(
        "custodian", "endorse", "--out", str(path), role=custodian.role,
        passphrase=custodian.passphrase, dev=None,
    )  # fmt: skip
    open_one = spartacus.ok(
        "create", "--title", "Other", "--instructions", "x", "--threshold", "5",
        "--deadline", "30d", "--grace", "0", "--endorsement", str(path), role="creator", dev=1,
    )["campaign"]  # fmt: skip
    web = mixing_web(web_config, batch=2)
    try:
        web.sync()
        late = new_pledger("Late", "late@example.org")
        on_time = new_pledger("On time", "on-time@example.org")
        late_body = pledge_body(web, closing, late)
        app: Flask = web.app
        answers: list[Any] = []
        waiting = threading.Thread(
            target=lambda: answers.append(
                app.test_client().post("/api/relay/pledge", json=late_body)
            )
        )
        waiting.start()
        relayer = web.state.relayer
        assert relayer is not None
        for _ in range(600):
            if relayer.mixer.queued() == 1 or answers:
                break
            time.sleep(0.1)
        travel(3 * 86_400)
        web.sync()
        taken = web.post("/api/relay/pledge", pledge_body(web, open_one, on_time))
        waiting.join(300)

        assert taken.status_code == 200, taken.get_json()
        (refused,) = answers
        assert refused.status_code == 409, refused.get_json()
        assert "no longer takes pledges" in refused.get_json()["error"]
        assert "nothing was sent" in refused.get_json()["error"]
        registry = web.state.registry
        receipt = registry.w3.eth.get_transaction_receipt(taken.get_json()["txHash"])
        names = [name for name, _ in decode_receipt(registry, receipt)]
        assert "BatchItemRefused" not in names and names.count("Pledged") == 1
        assert registry.history(closing).pledges == []
    finally:
        web.state.stop()
