"""The per-campaign Atom feed: alerts a feed reader can follow without an account.

What a member watching for a Sybil push needs: a burst of pledges counted per hour, the
grace period's start and end, the reveal or the expiry. What it must never carry: who
pledged (accounts, member keys), or whatever Host header a request came with.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from .conftest import Web, new_pledger, pledge_body, withdraw_body

ATOM = "{http://www.w3.org/2005/Atom}"


def _feed(web: Web, campaign_id: int, **headers: str) -> tuple[ET.Element, str]:
    web.sync()
    response = web.client.get(f"/c/{campaign_id}/feed.xml", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/atom+xml"
    body = response.get_data(as_text=True)
    return ET.fromstring(body), body  # raises on anything that is not well-formed XML


def _titles(feed: ET.Element) -> list[str]:
    return [e.findtext(f"{ATOM}title") or "" for e in feed.iter(f"{ATOM}entry")]


def test_feed_tells_a_burst_and_the_grace_period_without_saying_who(
    web: Web, create_campaign: Any
) -> None:
    campaign_id, _ = create_campaign(threshold=2, grace="48h")
    web.sync()
    members = [new_pledger(name, f"{name.lower()}@example.org") for name in ("Ann", "Ben", "Cy")]
    for member in members[:2]:
        assert (
            web.post("/api/relay/pledge", pledge_body(web, campaign_id, member)).status_code == 200
        )
    web.sync()
    assert (
        web.post("/api/relay/withdraw", withdraw_body(web, campaign_id, members[0], 1)).status_code
        == 200
    )
    web.sync()
    assert (
        web.post("/api/relay/pledge", pledge_body(web, campaign_id, members[2])).status_code == 200
    )

    feed, body = _feed(web, campaign_id)
    titles = _titles(feed)
    assert feed.findtext(f"{ATOM}title") == "Fix the heating"
    assert titles[-1] == "Campaign created"
    (hour,) = [t for t in titles if "pledged" in t]
    assert hour.startswith("3 pledged, 1 withdrawn")
    grace = [t for t in titles if t.startswith("Threshold reached: reveal after")]
    assert len(grace) == 1  # at Ben; a withdrawal in the grace period does not end it
    texts = " ".join(e.findtext(f"{ATOM}content") or "" for e in feed.iter(f"{ATOM}entry"))
    assert "2 of 2 pledges active after the last of them" in texts and "48 hours" in texts
    ids = [e.findtext(f"{ATOM}id") for e in feed.iter(f"{ATOM}entry")]
    assert len(set(ids)) == len(ids) and all(i and i.startswith("urn:uuid:") for i in ids)

    for member in members:  # nothing that names a pledger
        account = member.keys.account
        assert account.lower() not in body.lower()
        assert account[2:].lower() not in body.lower()
    for record in web.state.index.require(campaign_id).pledges:
        assert record.record.member_key.hex() not in body


def test_feed_says_when_the_deadline_passed(web: Web, create_campaign: Any, travel: Any) -> None:
    campaign_id, _ = create_campaign(threshold=3, deadline="1d")
    travel(2 * 86_400)
    feed, _ = _feed(web, campaign_id)
    assert _titles(feed)[0] == "Deadline passed: nothing will be revealed"


def test_feed_never_carries_the_request_host(web: Web, create_campaign: Any) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    feed, body = _feed(web, campaign_id, Host="evil.example")
    assert "evil.example" not in body
    links = [link.get("href") for link in feed.iter(f"{ATOM}link")]
    assert links and all(href == f"/c/{campaign_id}" for href in links)


def test_feed_of_a_title_with_markup_and_control_characters_is_well_formed(
    web: Web, spartacus: Any, make_custodians: Any
) -> None:
    from .test_pages import create

    campaign_id = create(spartacus, make_custodians, "Pay <b>& \x07bell")
    feed, body = _feed(web, campaign_id)
    assert feed.findtext(f"{ATOM}title") == "Pay <b>& \ufffdbell"
    assert "<b>" not in body


def test_the_campaign_page_offers_the_feed(web: Web, create_campaign: Any) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    html = web.get(f"/c/{campaign_id}").get_data(as_text=True)
    feed = f'href="/c/{campaign_id}/feed.xml"'
    assert f'type="application/atom+xml" title="Fix the heating: activity" {feed}' in html
    assert f'<a href="/c/{campaign_id}/feed.xml"' in html


def test_feed_of_an_unknown_campaign_is_a_404(web: Web) -> None:
    web.sync()
    assert web.get("/c/999/feed.xml").status_code == 404
