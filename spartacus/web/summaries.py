"""What a page, the JSON API and a live stream show of one campaign, read from the index.

``summary`` is a list row or a live update; ``detail`` the campaign page's whole record;
``records`` the public chain data a member's browser reads the roster from.
"""

from __future__ import annotations

from typing import Any

from ..chain import risks
from ..chain.activity import recent_pledges
from ..chain.records import History, RosterMode
from .custodians import custodians
from .index import CampaignIndex, Snapshot

RATE_POINTS = 100  # points in a campaign's pledge-rate series


def summary(
    history: History, head: Snapshot, hidden: bool, index: CampaignIndex | None = None
) -> dict[str, Any]:
    """What a list row or a live update shows; with ``index``, also the pledges of the last
    hour and day (block times from the index's cache), so a burst shows as it happens."""
    terms = history.terms
    assert terms is not None
    out = {
        "id": history.campaign_id,
        "title": terms.title,
        "status": history.status(head.timestamp).label,
        "active": history.active_count(),
        "threshold": terms.threshold,
        "deadline": terms.deadline,
        "graceEnd": history.grace_end(),
        "lateJoining": terms.late_joining,  # a revealed campaign still takes (admitted) joiners
        "url": f"/c/{history.campaign_id}",
        "hidden": hidden,
        "block": head.block,
        "now": head.timestamp,
    }
    if index is not None:
        recent = recent_pledges(history, head.timestamp, index.block_time)
        out["recentPledges"] = recent.as_dict()
        out["recentText"] = recent.text()
    return out


def detail(
    index: CampaignIndex, history: History, head: Snapshot, hidden: dict[str, Any] | None
) -> dict[str, Any]:
    terms = history.terms
    assert terms is not None
    out = summary(history, head, hidden is not None, index)
    out.update(
        {
            "description": terms.description,
            "plan": terms.plan,
            "pledges": len(history.pledges),
            "gracePeriod": terms.grace_period,
            "custodianThreshold": terms.custodian_threshold,
            "rosterMode": RosterMode(terms.roster_mode).label,
            "creator": terms.creator,
            **custodians(index, history),
            "rate": rate_series(index, history),
            "createdAt": index.block_time(terms.block_number),
            "hidden": hidden,
            **joining(index, terms.group),
        }
    )
    # What these terms (and a gated campaign's group) mean for a pledger, said on the page
    # and in the join form.
    out["warnings"] = risks.unsafe_terms(terms.custodian_threshold, terms.grace_period) + (
        risks.small_group(out["groupSize"], terms.threshold) if terms.group else []
    )
    return out


def joining(index: CampaignIndex, group: int) -> dict[str, Any]:
    """Who may pledge: a gated campaign's group (its size and admin read now), or anyone."""
    if not group:
        return {"group": 0, "whoMayJoin": risks.who_may_join(0)}
    info = index.registry.groups.info(group)
    return {
        "group": group,
        "groupSize": info.size,
        "groupAdmin": info.admin,
        "whoMayJoin": risks.who_may_join(group, info.name, info.size, info.admin),
    }


def rate_series(index: CampaignIndex, history: History) -> list[dict[str, int]]:
    """The active count after each pledge and withdrawal, at most ``RATE_POINTS`` of them."""
    points: list[tuple[int, int]] = [
        (record.block_number, record.active)
        for name, record in history.log
        if name in ("Pledged", "Withdrawn")
    ]
    if len(points) > RATE_POINTS:
        step = len(points) / RATE_POINTS
        points = [points[int(i * step)] for i in range(RATE_POINTS - 1)] + [points[-1]]
    return [{"time": index.block_time(block), "active": active} for block, active in points]


def records(history: History, head: Snapshot) -> dict[str, Any]:
    """The public chain data a member's browser reads the roster from (all of it public)."""
    terms = history.terms
    assert terms is not None and history.instructions is not None
    withdrawn = sorted(w.index for w in history.withdrawals)

    def record(r: Any) -> dict[str, Any]:
        return {
            "index": r.index,
            "account": r.account,
            "memberKey": "0x" + r.member_key.hex(),
            "ciphertext": "0x" + r.ciphertext.hex(),
            "boxes": "0x" + r.boxes.hex(),
            "commitment": "0x" + r.commitment.hex(),
        }

    return {
        "campaignId": history.campaign_id,
        "n": len(history.custodians),
        "t": terms.custodian_threshold,
        "rosterMode": RosterMode(terms.roster_mode).label,
        "status": history.status(head.timestamp).label,
        "instructions": record(history.instructions),
        "pledges": [record(r) for r in history.active_records()],
        "withdrawn": withdrawn,
        "releases": [
            {"custodianIndex": r.custodian_index, "data": "0x" + r.data.hex()}
            for r in history.releases
        ],
    }
