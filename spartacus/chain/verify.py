"""Recount a campaign from its logs alone and compare with what the contract stores.

Anyone can run this (``spartacus verify ID``): it needs no secret. It replays the events
in log order and checks the count, the active set, the status transitions, and that every
release came from a listed custodian after the reveal and addressed only active pledges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak

from .. import protocol
from ..exceptions import CryptoError
from .records import History, RosterMode, Status
from .registry import Registry


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class Report:
    campaign_id: int
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))


def verify_campaign(registry: Registry, campaign_id: int) -> Report:
    info = registry.info(campaign_id)
    history = registry.history(campaign_id)
    report = Report(campaign_id)
    terms = history.terms
    if terms is None or history.instructions is None:
        report.add("creation", False, "CampaignCreated or InstructionsSealed is missing")
        return report
    expected_hash = keccak(
        abi_encode(["string", "string", "string"], [terms.title, terms.description, terms.plan])
    )
    report.add(
        "metadata",
        expected_hash == info.metadata_hash,
        "title, description and plan in the log match the stored hash",
    )
    report.add(
        "custodians",
        [c.account for c in history.custodians] == list(info.custodians)
        and [c.index for c in history.custodians] == list(range(len(info.custodians))),
        f"{len(history.custodians)} custodians in the log match storage",
    )
    _replay(report, history, info.threshold, info.custodian_threshold, info.roster_mode)
    active = {r.index for r in history.active_records()}
    report.add(
        "active count",
        len(active) == info.active,
        f"{len(active)} active from the log, {info.active} in the contract",
    )
    report.add(
        "pledge count",
        len(history.pledges) == info.pledges,
        f"{len(history.pledges)} pledges in the log, {info.pledges} in the contract",
    )
    _check_status(report, history, info.status)
    return report


def _replay(report: Report, history: History, threshold: int, t: int, mode: RosterMode) -> None:
    """Walk the log in order, checking every running count and every release."""
    active: dict[int, str] = {}  # pledge index -> account (lower case)
    active_accounts: set[str] = set()  # kept alongside, so each step is O(1)
    withdrawn: set[int] = set()
    waiting: dict[int, str] = {}  # late pledges not admitted: on no roster, in no count
    revealed = False
    counts_ok, withdraw_ok, release_ok = True, True, True
    problems: list[str] = []
    round_recipients: dict[tuple[int, int], set[int]] = {}
    round_bounds: dict[tuple[int, int], tuple[set[int], set[int]]] = {}
    custodians = {c.index: c.account.lower() for c in history.custodians}
    for name, record in history.log:
        if name == "Pledged":
            account = record.record.account.lower()
            if account in active_accounts:
                counts_ok = False
                problems.append(f"{record.record.account} holds two active pledges")
            if revealed:  # a late pledge: counted and released only once admitted
                waiting[record.record.index] = account
            else:
                active[record.record.index] = account
            active_accounts.add(account)
            counts_ok &= record.active == len(active)
        elif name == "Admitted":
            if record.index not in waiting:
                counts_ok = False
                problems.append(f"admission of #{record.index}, which is no waiting late pledge")
            else:
                active[record.index] = waiting.pop(record.index)
            counts_ok &= record.active == len(active)
        elif name == "Withdrawn":
            if revealed or record.index not in active:
                withdraw_ok = False
                problems.append(f"withdrawal of #{record.index} after the reveal or of no pledge")
            active_accounts.discard(active.pop(record.index, ""))
            withdrawn.add(record.index)
            counts_ok &= record.active == len(active)
        elif name == "ThresholdReached":
            revealed = True
            if record.active < threshold or record.active != len(active):
                counts_ok = False
                problems.append(f"reveal with {record.active} active, threshold {threshold}")
        elif name == "Released":
            if not revealed or custodians.get(record.custodian_index) != record.custodian.lower():
                release_ok = False
                problems.append(f"release in {record.tx_hash} before the reveal or by a stranger")
                continue
            try:
                part = protocol.parse_release(record.data)
                entries = (
                    protocol.release_entries(part.body, t)
                    if part.kind == protocol.KIND_PUBLIC
                    else {}
                )
            except CryptoError as exc:
                release_ok = False
                problems.append(f"malformed release in {record.tx_hash}: {exc}")
                continue
            allowed = set(active) | {0}
            key = (record.custodian_index, part.round)
            if part.kind == protocol.KIND_PUBLIC:
                if mode != RosterMode.PUBLIC:
                    release_ok = False
                    problems.append(
                        f"shares in the clear in a members-only campaign ({record.tx_hash})"
                    )
                stray = set(entries) - allowed
                if stray:
                    release_ok = False
                    problems.append(f"released shares of inactive pledges {sorted(stray)}")
            elif part.kind == protocol.KIND_KEYS:
                indices = protocol.key_seal_indices(part)
                round_recipients.setdefault(key, set()).update(indices)
                first, _ = round_bounds.get(key, (set(allowed), set()))
                round_bounds[key] = (first, set(allowed))
    for key, recipients in round_recipients.items():
        at_start, at_end = round_bounds[key]
        if not (at_start & at_end) <= recipients <= (at_start | at_end):
            release_ok = False
            problems.append(
                f"custodian {key[0] + 1} round {key[1]} sealed its key to {sorted(recipients)}, "
                f"not to the active pledges {sorted(at_end)}"
            )
    report.add("running counts", counts_ok, "every event's active count follows from the log")
    report.add("withdrawals", withdraw_ok, f"{len(withdrawn)} withdrawn, all before the reveal")
    releases = len(history.releases)
    report.add(
        "releases",
        release_ok,
        f"{releases} release parts, all by custodians after the reveal, to active pledges only"
        + ("; " + "; ".join(problems) if problems else ""),
    )


def _check_status(report: Report, history: History, stored: Status) -> None:
    last = history.changes[-1].event if history.changes else "none"
    expected = history.stored_status()
    report.add(
        "status",
        expected == stored,
        f"stored status {stored.label}; the log's last change ({last}) implies {expected.label}",
    )
