"""An Atom feed per campaign (``/c/<id>/feed.xml``): alerts without an account.

A member, or anyone watching for an employer's Sybil push, follows a campaign in any feed
reader: no sign-up, no e-mail address, nothing that names the reader. The feed says only
what the chain says publicly, counted, never who: pledges and withdrawals per hour, a
grace period starting (with its end), the campaign reopening, the reveal, the expiry.

Block times come from the web index's cache (one header per distinct block, fetched once);
only the newest ``LOOKBACK`` events are turned into entries, so a campaign of 10,000
pledges costs at most that many reads, and the oldest hour shown may be partial.
Links are path-absolute (``/c/<id>``), resolved by the reader against the feed's own URL
(RFC 4287 allows it), so the Host header of a request never ends up in the feed; ids are
name-based UUIDs of (chain, registry, campaign, entry), the same on every site serving the
same registry.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, render_template

from ..chain.records import History, Status
from .api import campaign_or_404
from .index import CampaignIndex
from .state import state

bp = Blueprint("feed", __name__)

# Characters XML 1.0 cannot carry at all (a campaign's title is anyone's bytes on chain).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

HOUR = 3_600
LOOKBACK = 500  # newest Pledged/Withdrawn events made into hourly entries
MAX_ENTRIES = 50


@dataclass(frozen=True)
class Entry:
    key: str  # what the entry's id is derived from
    title: str
    text: str
    time: int  # unix seconds
    block: int  # ties in time are ordered by block (several events in one second)
    link: str = ""  # path-absolute: the reader resolves it against the feed's URL


def entries(index: CampaignIndex, history: History, now: int) -> list[Entry]:
    """The campaign's public milestones and hourly activity, newest first."""
    terms = history.terms
    assert terms is not None
    block_time = index.block_time
    page = f"/c/{history.campaign_id}"
    out = [
        Entry(
            "created",
            "Campaign created",
            f"Nothing is revealed until {terms.threshold} pledges are active; deadline "
            f"{_utc(terms.deadline)}; grace period {_duration(terms.grace_period)}.",
            block_time(terms.block_number),
            terms.block_number,
            page,
        )
    ]
    # hour start -> [pledged, withdrawn, active at its end, last event's time, its block]
    hours: dict[int, list[int]] = {}
    moves = [(n, r) for n, r in history.log if n in ("Pledged", "Withdrawn")]
    for name, record in moves[-LOOKBACK:]:
        at = block_time(record.block_number)
        counts = hours.setdefault(at // HOUR * HOUR, [0, 0, 0, 0, 0])
        counts[0 if name == "Pledged" else 1] += 1
        counts[2:] = [record.active, at, record.block_number]
    partial = len(moves) > LOOKBACK
    oldest = min(hours, default=None)
    for start, (pledged, withdrawn, active, last, block) in hours.items():
        more = "at least " if partial and start == oldest else ""
        out.append(
            Entry(
                f"hour:{start}",
                f"{more}{pledged} pledged, {withdrawn} withdrawn ({_utc(start)} hour)",
                f"In the hour from {_utc(start)}: {more}{pledged} new pledges and "
                f"{withdrawn} withdrawals. {active} of {terms.threshold} pledges active "
                "after the last of them.",
                last,
                block,
                page,
            )
        )
    for number, change in enumerate(history.changes):
        at = block_time(change.block_number)
        out.append(_milestone(number, change, terms.threshold, at))
    if history.status(now) == Status.EXPIRED and history.stored_status() != Status.EXPIRED:
        out.append(
            Entry(
                "deadline",
                "Deadline passed: nothing will be revealed",
                f"The deadline passed with fewer than {terms.threshold} active pledges. "
                "No contact details will ever be revealed.",
                terms.deadline,
                2**63,
                page,
            )
        )
    out.sort(key=lambda e: (e.time, e.block), reverse=True)
    return out[:MAX_ENTRIES]


def _milestone(number: int, change: Any, threshold: int, at: int) -> Entry:
    key, block = f"change:{number}", change.block_number
    if change.event == "GraceStarted":
        return Entry(
            key,
            f"Threshold reached: reveal after {_utc(change.grace_end)}",
            f"{change.active} of {threshold} pledges are active. Unless enough members "
            f"withdraw before {_utc(change.grace_end)}, everyone's details are revealed to "
            "the members then. If this burst looks wrong, this is the time to withdraw.",
            at,
            block,
        )
    if change.event == "Reopened":
        return Entry(
            key,
            "Back below the threshold: open again",
            f"The grace period ended with {change.active} of {threshold} pledges active; "
            "nothing was revealed and the campaign takes pledges again.",
            at,
            block,
        )
    if change.event == "ThresholdReached":
        return Entry(
            key,
            "Revealed: members can read the roster",
            f"{change.active} pledges were active at the reveal. Custodians now release the "
            "keys; members read the roster with their receipt codes.",
            at,
            block,
        )
    return Entry(
        key,
        "Expired: nothing will be revealed",
        f"The deadline passed with {change.active} of {threshold} pledges active. No "
        "contact details will ever be revealed.",
        at,
        block,
    )


def _utc(unix: int) -> str:
    return time.strftime("%d %b %Y, %H:%M UTC", time.gmtime(int(unix)))


def _iso(unix: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(unix)))


def _duration(seconds: int) -> str:
    if seconds == 0:
        return "none (the reveal comes at once)"
    if seconds % HOUR == 0:
        return f"{seconds // HOUR} hours"
    return f"{seconds} seconds"


@bp.get("/c/<int:campaign_id>/feed.xml")
def feed(campaign_id: int) -> Response:
    shared = state()
    history = campaign_or_404(campaign_id)
    terms = history.terms
    assert terms is not None
    head = shared.index.head
    found = entries(shared.index, history, head.timestamp)
    scope = f"{shared.registry.chain_id}:{shared.registry.address.lower()}:{campaign_id}"
    hidden = shared.store.hidden(campaign_id)
    body = render_template(
        "feed.xml",
        title=_xml_text(terms.title),
        subtitle=(
            _xml_text(f"Hidden on this site: {hidden.reason}")
            if hidden
            else f"Public activity of campaign {campaign_id}: counts only, never who."
        ),
        feed_id=_urn(scope),
        updated=_iso(max((e.time for e in found), default=head.timestamp)),
        entries=[
            {
                "id": _urn(f"{scope}:{e.key}"),
                "title": e.title,
                "text": e.text,
                "updated": _iso(e.time),
                "link": e.link or f"/c/{campaign_id}",
            }
            for e in found
        ],
        page=f"/c/{campaign_id}",
    )
    return Response(
        body,
        mimetype="application/atom+xml",
        headers={"Cache-Control": "max-age=60"},
    )


def _xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (Jinja escapes the rest)."""
    return _NOT_XML.sub("\ufffd", text)


def _urn(name: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"spartacus:{name}").urn
