"""Sybil: one adversary pledges from many accounts to force an early reveal.

Spartacus cannot stop one person from making many pledge accounts. What it promises is
that a burst which reaches the threshold only starts the grace period: nothing is released
while it runs, ``spartacus status`` shows it (pending, and how many pledges came in the last
hour), members who withdraw bring the campaign back
to open at ``finalize``, and then the custodian still releases nothing. The campaign page
and its live updates show the burst too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from web3 import Web3

from spartacus.chain.registry import Registry
from tests.cli.conftest import CustodianRole, Spartacus, pledge
from tests.web.conftest import Web, new_pledger, pledge_body, withdraw_body


def _release(spartacus: Spartacus, custodian: CustodianRole, campaign: int) -> Any:
    return spartacus(
        "custodian", "release", str(campaign),
        role=custodian.role, passphrase=custodian.passphrase, dev=None,
    )  # fmt: skip


def test_a_sybil_burst_in_the_grace_period_is_undone_by_members_withdrawing(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    travel: Callable[[int], None],
) -> None:
    campaign, (custodian,) = create_campaign(threshold=5, grace="2h")
    pledge(spartacus, campaign, "Alice", 2)
    travel(3 * 3600)  # the members joined over hours; the burst comes within a minute
    pledge(spartacus, campaign, "Bob", 3)
    status = spartacus.ok("status", str(campaign))
    assert status["status"] == "open"
    assert status["recentPledges"] == {"lastHour": 1, "lastDay": 2, "atLeast": False}

    for sybil, dev in enumerate((4, 5, 6), start=1):  # one adversary, three accounts
        pledge(spartacus, campaign, f"Sybil{sybil}", dev)
    status = spartacus.ok("status", str(campaign))
    assert (status["status"], status["active"], status["pledges"]) == ("pending", 5, 5)
    assert status["recentPledges"] == {"lastHour": 4, "lastDay": 5, "atLeast": False}
    text = spartacus("status", str(campaign)).stdout
    assert "status     pending (grace ends " in text and "active     5 of 5" in text
    assert "pledged    4 in the last hour, 5 in the last day" in text
    during = _release(spartacus, custodian, campaign)
    assert during.exit_code == 1 and "pending" in during.stderr

    # The members see the burst and leave before the grace period ends.
    for name, dev in (("alice", 2), ("bob", 3)):
        spartacus.ok("withdraw", str(campaign), role=name, dev=dev)
    status = spartacus.ok("status", str(campaign))
    assert (status["status"], status["active"]) == ("pending", 3)
    early = spartacus("finalize", str(campaign))
    assert early.exit_code == 1 and "grace period ends at" in early.stderr

    travel(2 * 3600 + 1)
    assert spartacus.ok("finalize", str(campaign))["status"] == "open"
    status = spartacus.ok("status", str(campaign))
    assert (status["status"], status["active"]) == ("open", 3)
    text = spartacus("status", str(campaign)).stdout
    assert "status     open" in text and "grace ends" not in text and "active     3 of 5" in text

    after = _release(spartacus, custodian, campaign)
    assert after.exit_code == 1 and "release only after the reveal" in after.stderr
    history = Registry(w3, spartacus.registry).history(campaign)
    assert history.releases == []
    assert spartacus.ok("verify", str(campaign))["ok"] is True


def test_the_campaign_page_and_its_live_updates_show_the_burst(
    web: Web, create_campaign: Callable[..., tuple[int, list[CustodianRole]]], travel: Any
) -> None:
    campaign, _ = create_campaign(threshold=5, grace="2h")
    web.sync()
    members = [new_pledger(name, f"{name}@x.org") for name in ("alice", "bob")]
    sybils = [new_pledger(f"sybil{n}", f"s{n}@x.org") for n in range(3)]
    assert web.post("/api/relay/pledge", pledge_body(web, campaign, members[0])).status_code == 200
    travel(3 * 3600)
    for pledger in [members[1], *sybils]:
        answer = web.post("/api/relay/pledge", pledge_body(web, campaign, pledger))
        assert answer.status_code == 200, answer.get_json()
    web.sync()

    info = web.get(f"/api/campaigns/{campaign}").get_json()
    assert (info["status"], info["active"]) == ("pending", 5)
    assert info["recentPledges"] == {"lastHour": 4, "lastDay": 5, "atLeast": False}
    html = web.get(f"/c/{campaign}").get_data(as_text=True)
    assert '<span id="recent-counts">4 in the last hour, 5 in the last day</span>' in html
    assert "while the grace period runs, members can still withdraw" in html
    stream = web.client.get(f"/api/campaigns/{campaign}/events", buffered=False)
    try:
        chunks = stream.response
        assert next(chunks).startswith(b"retry:")
        event = next(chunks).decode()  # the first event: the campaign as it is now
    finally:
        stream.close()
    assert event.startswith("event: campaign\ndata: ")
    live = json.loads(event.split("data: ", 1)[1])
    assert live["recentText"] == "4 in the last hour, 5 in the last day"


def test_free_relayed_pledges_cannot_force_the_reveal_at_once(
    web_config: dict[str, Any], create_campaign: Callable[..., tuple[int, list[CustodianRole]]]
) -> None:
    """The employer's attack: threshold 12, two real members, ten fresh accounts sent at
    once through the site's own relayer (free for the attacker), over real HTTP. It used to
    reveal in under a second, handing each Sybil receipt both members' names. The last
    fifth of the threshold is now relayed at two pledges an hour, counted under one lock
    with the pledges still on their way (the index lags a concurrent burst), and
    withdrawals are never slowed."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from tests.cli.test_relay import Site

    campaign, _ = create_campaign(threshold=12)
    site = Site({**web_config, "POLL_INTERVAL": 0.2})
    try:
        site.state.index.sync()
        web = Web(site.app, site.app.test_client(), site.state)
        members = [new_pledger(name, f"{name}@x.org") for name in ("alice", "bob")]
        for member in members:
            body = pledge_body(web, campaign, member)
            assert requests.post(f"{site.url}/api/relay/pledge", json=body).ok
        sybils = [
            pledge_body(web, campaign, new_pledger(f"sybil{n}", f"s{n}@x.org")) for n in range(10)
        ]
        with ThreadPoolExecutor(10) as pool:
            answers = list(
                pool.map(lambda b: requests.post(f"{site.url}/api/relay/pledge", json=b), sybils)
            )
        web.sync()
        taken = [a for a in answers if a.status_code == 200]
        refused = [a for a in answers if a.status_code != 200]
        assert len(taken) == 9, [a.json() for a in refused]  # 7 to reach 9 (12 less a fifth), 2
        info = web.get(f"/api/campaigns/{campaign}").get_json()
        assert (info["status"], info["active"]) == ("open", 11)
        assert {a.status_code for a in refused} == {429}
        first = refused[0]
        assert 3500 <= int(first.headers["Retry-After"]) <= 3601
        assert "close to its threshold of 12" in first.json()["error"]
        assert "at most 2 pledges an hour" in first.json()["error"]

        # Leaving is never slowed: a member withdraws through the same relayer at once.
        leave = withdraw_body(web, campaign, members[0], 1)
        assert requests.post(f"{site.url}/api/relay/withdraw", json=leave).status_code == 200
    finally:
        site.stop()
