"""How fast a campaign is filling: what lets members see a burst of pledges (a Sybil
attacker trying to force the reveal) while the grace period still lets them leave.

Shared by ``spartacus status`` and the web app, which differ only in how they learn a
block's time (a header fetch, or the web index's cache).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .records import History

HOUR = 3_600
DAY = 86_400
# Only the last pledges' blocks are looked up: one header per distinct block, so a campaign
# of 10,000 pledges costs at most this many reads. Counts that reach it are "at least".
LOOKBACK = 50


@dataclass(frozen=True)
class Recent:
    last_hour: int
    last_day: int
    at_least: bool  # every pledge looked at was inside the day: there may be more

    def as_dict(self) -> dict[str, int | bool]:
        return {"lastHour": self.last_hour, "lastDay": self.last_day, "atLeast": self.at_least}

    def text(self) -> str:
        more = "+" if self.at_least else ""
        return f"{self.last_hour}{more} in the last hour, {self.last_day}{more} in the last day"


def recent_pledges(history: History, now: int, block_time: Callable[[int], int]) -> Recent:
    """Pledges made in the hour and the day before ``now`` (the chain's time), counted
    from the newest back, withdrawn ones included: a burst is made of pledges."""
    hour = day = 0
    times: dict[int, int] = {}
    looked = history.pledges[-LOOKBACK:]
    for event in reversed(looked):
        block = event.block_number
        if block not in times:
            times[block] = block_time(block)
        age = now - times[block]
        if age > DAY:
            return Recent(hour, day, at_least=False)
        day += 1
        hour += age <= HOUR
    return Recent(hour, day, at_least=len(history.pledges) > len(looked))
