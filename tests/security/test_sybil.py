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
from tests.web.conftest import Web, new_pledger, pledge_body


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
