"""Typed records of what the registry stores and emits: campaign state, terms, custodians,
pledges, withdrawals, releases, status changes, and a campaign's whole ``History``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from ..protocol import (
    PledgeRecord,
)

ZERO_ACCOUNT = "0x0000000000000000000000000000000000000000"


class Status(IntEnum):
    NONE = 0
    OPEN = 1
    PENDING = 2
    REVEALED = 3
    EXPIRED = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class RosterMode(IntEnum):
    MEMBERS = 0
    PUBLIC = 1

    @property
    def label(self) -> str:
        return self.name.lower()


def iso(timestamp: int) -> str:
    """A Unix time as an ISO 8601 UTC string, for messages and JSON output."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------- records


@dataclass(frozen=True)
class CampaignInfo:
    """What the registry's storage says about a campaign now."""

    campaign_id: int
    status: Status
    creator: str
    threshold: int
    active: int
    pledges: int
    deadline: int
    grace_period: int
    grace_end: int
    custodian_threshold: int
    roster_mode: RosterMode
    metadata_hash: bytes
    custodians: tuple[str, ...]
    late_joining: bool = False
    reveal_pledges: int = 0  # late-joining: the highest pledge index at the reveal
    group: int = 0  # gated: the group whose members may pledge; 0 = open
    last_event_block: int = 0  # the block of its latest event, where a reader starts


@dataclass(frozen=True)
class Terms:
    """The public terms from a ``CampaignCreated`` event."""

    title: str
    description: str
    plan: str
    threshold: int
    deadline: int
    grace_period: int
    custodian_threshold: int
    roster_mode: RosterMode
    creator: str
    metadata_hash: bytes
    block_number: int
    transaction_hash: str = ""  # 0x-hex of the createCampaign transaction, where known
    late_joining: bool = False
    group: int = 0  # gated: the group whose members may pledge; 0 = open


@dataclass(frozen=True)
class Custodian:
    """One ``CustodianAssigned`` log: the custodian, its campaign key and its endorsement."""

    index: int
    account: str
    campaign_key: bytes
    expiry: int = 0
    signature: bytes = b""


@dataclass(frozen=True)
class Admission:
    """One ``Admitted`` log: the creator admitted late pledge ``index``."""

    index: int
    active: int
    block_number: int


@dataclass(frozen=True)
class PledgeEvent:
    record: PledgeRecord
    active: int
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class Withdrawal:
    index: int
    account: str
    active: int
    block_number: int


@dataclass(frozen=True)
class Release:
    custodian_index: int
    custodian: str
    data: bytes
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class StatusChange:
    """ThresholdReached, GraceStarted, Reopened or Expired, in log order."""

    event: str
    active: int
    block_number: int
    grace_end: int = 0
    pledges: int = 0  # ThresholdReached: the highest pledge index at the reveal


# The status each status-change event leaves a campaign in (None: no change yet).
_IMPLIED_STATUS: dict[str | None, Status] = {
    None: Status.OPEN,
    "Reopened": Status.OPEN,
    "GraceStarted": Status.PENDING,
    "ThresholdReached": Status.REVEALED,
    "Expired": Status.EXPIRED,
}


@dataclass
class History:
    """Everything the logs say about one campaign, in log order."""

    campaign_id: int
    terms: Terms | None = None
    custodians: list[Custodian] = field(default_factory=list)
    instructions: PledgeRecord | None = None
    pledges: list[PledgeEvent] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    changes: list[StatusChange] = field(default_factory=list)
    admissions: list[Admission] = field(default_factory=list)
    # Gated campaigns: each member's pledge index -> its nullifier (``MemberPledged``).
    nullifiers: dict[int, int] = field(default_factory=dict)
    # Every decoded record in log order, as (event name, record): what `verify` replays.
    log: list[tuple[str, Any]] = field(default_factory=list)

    def reveal_pledges(self) -> int | None:
        """The highest pledge index at the reveal (``ThresholdReached``), None before it."""
        return next((c.pledges for c in self.changes if c.event == "ThresholdReached"), None)

    def is_late(self, index: int) -> bool:
        """Whether pledge ``index`` came after the reveal (a late pledge)."""
        reveal = self.reveal_pledges()
        return reveal is not None and index > reveal

    def waiting_records(self) -> list[PledgeRecord]:
        """Late pledges not admitted (yet): recorded, but on nobody's roster."""
        admitted = {a.index for a in self.admissions}
        return [
            p.record
            for p in self.pledges
            if self.is_late(p.record.index) and p.record.index not in admitted
        ]

    def active_records(self) -> list[PledgeRecord]:
        """The pledges on the roster, by index: not withdrawn, and admitted if late."""
        withdrawn = {w.index for w in self.withdrawals}
        admitted = {a.index for a in self.admissions}
        return [
            p.record
            for p in self.pledges
            if p.record.index not in withdrawn
            and (not self.is_late(p.record.index) or p.record.index in admitted)
        ]

    def roster_records(self) -> list[PledgeRecord]:
        """What the roster is read from: the instructions (index 0), then the active pledges."""
        head = [] if self.instructions is None else [self.instructions]
        return head + self.active_records()

    def active_count(self) -> int:
        """How many pledges are active: each withdrawal ends one pledge, and a late pledge
        counts once admitted."""
        return len(self.pledges) - len(self.withdrawals) - len(self.waiting_records())

    def revealed_at(self) -> int | None:
        """The block of ``ThresholdReached``, if any."""
        return next((c.block_number for c in self.changes if c.event == "ThresholdReached"), None)

    def grace_end(self) -> int:
        """When the latest grace period ends (0 if none started)."""
        return next((c.grace_end for c in reversed(self.changes) if c.event == "GraceStarted"), 0)

    def stored_status(self) -> Status:
        """The status the registry stores, as the last status change implies it."""
        if self.terms is None:
            return Status.NONE
        return _IMPLIED_STATUS[self.changes[-1].event if self.changes else None]

    def status(self, now: int) -> Status:
        """What ``statusOf`` says at time ``now`` (the chain's), from the logs alone: the
        stored status, except that an open campaign past its deadline reads expired."""
        stored = self.stored_status()
        if stored == Status.OPEN and self.terms is not None and now > self.terms.deadline:
            return Status.EXPIRED
        return stored


@dataclass(frozen=True)
class Assignment:
    """One ``CustodianAssigned`` log naming a given custodian."""

    campaign_id: int
    index: int
    campaign_key: bytes
    block_number: int
