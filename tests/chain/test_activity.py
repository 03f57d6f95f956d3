"""recent_pledges: the counts a member sees a burst by, and the cap on header reads."""

from __future__ import annotations

from typing import Any

from spartacus.chain import activity
from spartacus.chain.activity import DAY, HOUR, recent_pledges
from spartacus.chain.records import History, PledgeEvent

NOW = 1_000_000


def _history(ages: list[int]) -> tuple[History, dict[int, int], list[int]]:
    """Pledges made ``ages`` seconds before NOW (oldest first), one block each."""
    history = History(campaign_id=1)
    times: dict[int, int] = {}
    for block, age in enumerate(ages, start=10):
        times[block] = NOW - age
        record: Any = None  # the counts never look inside a record
        history.pledges.append(PledgeEvent(record, block - 9, block, f"0x{block:x}"))
    return history, times, []


def _count(history: History, times: dict[int, int], reads: list[int]) -> activity.Recent:
    def block_time(block: int) -> int:
        reads.append(block)
        return times[block]

    return recent_pledges(history, NOW, block_time)


def test_counts_the_last_hour_and_day_and_stops_at_the_first_older_pledge() -> None:
    history, times, reads = _history([5 * DAY, 2 * DAY, 20 * HOUR, 2 * HOUR, HOUR, 60, 0])
    recent = _count(history, times, reads)
    assert (recent.last_hour, recent.last_day, recent.at_least) == (3, 5, False)
    assert recent.text() == "3 in the last hour, 5 in the last day"
    assert reads == [16, 15, 14, 13, 12, 11]  # newest first, nothing past the 2-day pledge


def test_pledges_in_one_block_cost_one_read() -> None:
    history = History(campaign_id=1)
    record: Any = None
    history.pledges += [PledgeEvent(record, active, 10, "0x0a") for active in (1, 2, 3)]
    reads: list[int] = []
    recent = _count(history, {10: NOW}, reads)
    assert (recent.last_hour, recent.last_day) == (3, 3) and reads == [10]


def test_a_burst_longer_than_the_lookback_is_reported_as_at_least() -> None:
    history, times, reads = _history([30] * (activity.LOOKBACK + 7))
    recent = _count(history, times, reads)
    assert (recent.last_hour, recent.last_day) == (activity.LOOKBACK, activity.LOOKBACK)
    assert recent.at_least and recent.text().startswith(f"{activity.LOOKBACK}+ in the last hour")
    assert len(reads) == activity.LOOKBACK


def test_no_pledges_counts_nothing() -> None:
    recent = _count(History(campaign_id=1), {}, [])
    assert recent.as_dict() == {"lastHour": 0, "lastDay": 0, "atLeast": False}
