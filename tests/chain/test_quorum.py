"""The quorum: which block, campaign facts and roster a custodian may act on.

Unit tests on fake sources (a chain of blocks, a tag height, a campaign's facts, its logs);
tests/security/test_hostile_node.py runs the same rules against real anvils and a fork.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import pytest

from spartacus.chain.quorum import Confirmed, Quorum, check_clock, roster_digest
from spartacus.chain.records import (
    Assignment,
    CampaignInfo,
    Custodian,
    History,
    PledgeEvent,
    Release,
    RosterMode,
    Status,
    Withdrawal,
)
from spartacus.exceptions import Unconfirmed
from spartacus.protocol import PledgeRecord

HONEST = {n: (f"0x{n:02x}" + "aa" * 31, 1_000 + 12 * n) for n in range(20)}


def forked(after: int) -> dict[int, tuple[str, int]]:
    """The honest chain up to ``after``, its own blocks from there on."""
    return {n: v if n <= after else ("0x" + "ee" * 32, v[1] + 8 * 86400) for n, v in HONEST.items()}


def info(status: Status = Status.OPEN, active: int = 1) -> CampaignInfo:
    return CampaignInfo(
        1, status, "0xC0", 3, active, active, 10**10, 0, 0, 1, RosterMode.MEMBERS, b"m", ("0xA",)
    )


def record(index: int, member_key: bytes = b"k" * 32) -> PledgeRecord:
    return PledgeRecord(index, f"0x{index:040x}", member_key, b"c" * 40, b"b" * 80, b"h" * 32)


def history(*indices: int, withdrawn: tuple[int, ...] = ()) -> History:
    h = History(1, custodians=[Custodian(0, "0xA", b"K" * 32)], instructions=record(0))
    h.pledges = [PledgeEvent(record(i), i, 5, "0x") for i in indices]
    h.withdrawals = [Withdrawal(i, f"0x{i:040x}", 0, 6) for i in withdrawn]
    return h


class Eth:
    """A fake ``w3.eth``: eth_chainId, eth_blockNumber, eth_getBlockByNumber."""

    def __init__(self, source: Source, chain_id: int) -> None:
        self.source, self.chain_id = source, chain_id

    @property
    def block_number(self) -> int:
        self.source._check()
        return self.source.tags["latest"]

    def get_block(self, which: int | str) -> dict[str, Any]:
        self.source._check()
        number = self.source.tags[which] if isinstance(which, str) else which
        block_hash, timestamp = self.source.blocks[number]
        return {"number": number, "hash": bytes.fromhex(block_hash[2:]), "timestamp": timestamp}


class Source:
    """A fake RPC source: enough of ``Registry`` (and its ``w3``) for the quorum."""

    def __init__(
        self,
        chain: dict[int, tuple[str, int]] | None = None,
        finalized: int = 10,
        *,
        chain_id: int = 1,
        facts: tuple[Status, CampaignInfo] = (Status.OPEN, info()),
        logs: History | None = None,
        down: bool = False,
    ) -> None:
        self.blocks = HONEST if chain is None else chain
        self.tags = {"finalized": finalized, "safe": finalized + 5, "latest": finalized + 9}
        self.chain_id, self.from_block = 1, 0  # Registry.chain_id: the primary's, cached
        self.facts, self.logs, self.down = facts, logs or history(1), down
        self.asked_at: list[int] = []  # block numbers campaign facts were read at
        self.w3 = SimpleNamespace(eth=Eth(self, chain_id))
        status_of = SimpleNamespace(call=self._status)
        self.contract = SimpleNamespace(functions=SimpleNamespace(statusOf=lambda _id: status_of))

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("http://secret-key@provider.example/v3/KEY refused")

    def _status(self, block_identifier: int) -> int:
        self._check()
        self.asked_at.append(block_identifier)
        return int(self.facts[0])

    def info(self, _campaign_id: int, *, block: int) -> CampaignInfo:
        self._check()
        return self.facts[1]

    def history(self, _campaign_id: int, *, to_block: int) -> History:
        self._check()
        return self.logs


def quorum(*sources: Source, required: int | None = None, **kwargs: Any) -> Quorum:
    return Quorum(list(sources), required, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- the block


def test_sources_that_agree_confirm_the_lowest_height_by_number() -> None:
    q = quorum(Source(finalized=10), Source(finalized=12))
    block = q.confirm()
    assert block == Confirmed(10, HONEST[10][0], HONEST[10][1], (0, 1))


def test_a_fork_disagrees_on_the_hash_at_the_confirmed_number() -> None:
    q = quorum(Source(finalized=12), Source(forked(after=8), finalized=12))
    with pytest.raises(Unconfirmed, match=r"sources disagree on block 12: source 1: 0x0caa.*"):
        q.confirm()
    assert q.confirmed is None


def test_a_fork_behind_its_divergence_agrees_with_the_honest_chain() -> None:
    # Its tip differs, but at the lowest confirmed height both serve the same block.
    q = quorum(Source(finalized=12), Source(forked(after=8), finalized=7))
    confirmed = q.confirm()
    assert confirmed is not None and confirmed.number == 7 and confirmed.sources == (0, 1)


def test_two_of_three_suffice_when_the_primary_is_with_them() -> None:
    q = quorum(Source(), Source(forked(after=8)), Source(), required=2)
    confirmed = q.confirm()
    assert confirmed is not None and confirmed.sources == (0, 2)


def test_a_primary_outvoted_by_the_others_is_refused() -> None:
    q = quorum(Source(forked(after=8)), Source(), Source(), required=2)
    with pytest.raises(Unconfirmed, match="source 1, which sends the transactions, disagrees"):
        q.confirm()


def test_two_answers_each_reaching_a_low_quorum_are_refused() -> None:
    q = quorum(Source(), Source(forked(after=8)), required=1)
    with pytest.raises(Unconfirmed, match="sources disagree on block 10"):
        q.confirm()


def test_too_few_sources_answering_is_refused_without_naming_a_url() -> None:
    q = quorum(Source(), Source(down=True))
    with pytest.raises(Unconfirmed) as caught:
        q.confirm()
    message = str(caught.value)
    assert message.startswith("only 1 of 2 sources answered for the confirmed block")
    assert "source 2: the node cannot be reached" in message
    assert "secret" not in message and "KEY" not in message


def test_a_source_on_another_chain_does_not_count() -> None:
    q = quorum(Source(), Source(chain_id=5))
    with pytest.raises(Unconfirmed, match="source 2: it serves chain 5, not 1"):
        q.confirm()


def test_a_single_source_passes_its_errors_on_unchanged() -> None:
    with pytest.raises(ConnectionError):
        quorum(Source(down=True)).confirm()


def test_latest_with_confirmations_and_the_safe_tag() -> None:
    assert quorum(Source(), tag="latest", confirmations=3).confirm().number == 16  # type: ignore[union-attr]
    assert quorum(Source(), tag="safe").confirm().number == 15  # type: ignore[union-attr]


def test_a_block_older_than_the_registry_confirms_nothing() -> None:
    source = Source(finalized=3)
    q = quorum(source)
    source.from_block = 4
    assert q.confirm() is None


# ---------------------------------------------------------------------- a campaign


def test_campaign_facts_are_read_at_the_confirmed_number_and_agreed() -> None:
    a, b = Source(finalized=10), Source(finalized=14)
    q = quorum(a, b)
    q.confirm()
    facts = q.campaign(1)
    assert (facts.status, facts.info) == (Status.OPEN, info())
    assert a.asked_at == b.asked_at == [10]
    q.campaign(1)
    assert a.asked_at == [10]  # once per pass


def test_campaign_facts_that_differ_are_refused() -> None:
    revealed = (Status.REVEALED, info(Status.REVEALED, active=3))
    q = quorum(Source(), Source(facts=revealed))
    q.confirm()
    with pytest.raises(Unconfirmed, match="source 1: open, 1 active; source 2: revealed, 3 active"):
        q.campaign(1)


def test_campaign_facts_come_only_from_sources_that_agreed_on_the_block() -> None:
    revealed = (Status.REVEALED, info(Status.REVEALED, active=3))
    fork = Source(forked(after=8), facts=revealed)
    q = quorum(Source(), Source(), fork, required=2)
    q.confirm()
    assert q.campaign(1).status == Status.OPEN
    assert fork.asked_at == []


def test_campaign_facts_before_a_confirmed_block_are_refused() -> None:
    with pytest.raises(Unconfirmed, match="no block is confirmed yet"):
        quorum(Source()).campaign(1)


def test_the_roster_must_agree_before_a_release() -> None:
    honest = Source(logs=history(1, 2, withdrawn=(2,)))
    q = quorum(honest, Source(logs=history(1, 2, withdrawn=(2,))))
    q.confirm()
    assert q.history(1) is honest.logs
    extra = quorum(honest, Source(logs=history(1, 2, 3, withdrawn=(2,))))
    extra.confirm()
    with pytest.raises(Unconfirmed, match="sources disagree on the roster of campaign 1"):
        extra.history(1)


def test_roster_digest_covers_every_field_and_withdrawals() -> None:
    base = roster_digest(history(1, 2))
    assert roster_digest(history(1, 2)) == base
    assert roster_digest(history(1, 2, withdrawn=(2,))) != base
    swapped = history(1, 2)
    swapped.pledges[1] = dataclasses.replace(
        swapped.pledges[1], record=record(2, member_key=b"x" * 32)
    )
    assert roster_digest(swapped) != base
    other_custodian = history(1, 2)
    other_custodian.custodians = [Custodian(0, "0xB", b"K" * 32)]
    assert roster_digest(other_custodian) != base


def released(h: History, data: bytes, block_number: int = 7) -> History:
    h.releases = [Release(0, "0xA", data, block_number, "0x77")]
    return h


def test_roster_digest_covers_the_releases_already_made() -> None:
    base = roster_digest(released(history(1, 2), b"seals for 1 and 2"))
    assert roster_digest(released(history(1, 2), b"seals for 1 and 2")) == base
    assert roster_digest(history(1, 2)) != base  # a release hidden
    assert roster_digest(released(history(1, 2), b"seals for 1 only")) != base  # forged
    assert roster_digest(released(history(1, 2), b"seals for 1 and 2", 6)) != base  # moved


def test_a_primary_that_forges_a_release_is_refused() -> None:
    """A primary's Release (what was sealed to whom, and whether the releases are final,
    which decides when the key is destroyed) is taken only as the other sources agree."""
    forged = Source(logs=released(history(1, 2), b"seals for 1 only"))
    q = quorum(forged, Source(logs=released(history(1, 2), b"seals for 1 and 2")))
    q.confirm()
    with pytest.raises(Unconfirmed, match="sources disagree on the roster of campaign 1"):
        q.history(1)


# ---------------------------------------------------------------------- the clock


def block(number: int, timestamp: int, block_hash: str = "0x01") -> Confirmed:
    return Confirmed(number, block_hash, timestamp, (0,))


def test_a_block_dated_ahead_of_this_machine_is_refused_beyond_the_margin() -> None:
    check_clock(block(10, 1_600), None, now=1_000, margin=600)
    with pytest.raises(Unconfirmed, match="ahead of this machine's clock"):
        check_clock(block(10, 1_601), None, now=1_000, margin=600)
    check_clock(block(10, 10**9), None, now=1_000, margin=None)  # a dev chain: not checked


def test_a_block_dated_before_the_last_confirmed_one_is_refused() -> None:
    last = block(10, 5_000)
    check_clock(block(11, 5_000), last, now=9_000, margin=None)
    with pytest.raises(Unconfirmed, match="before block 10 confirmed earlier"):
        check_clock(block(12, 4_999), last, now=9_000, margin=None)


def test_a_confirmed_block_going_back_or_changing_is_refused() -> None:
    last = block(10, 5_000)
    with pytest.raises(Unconfirmed, match="went back from 10 to 9"):
        check_clock(block(9, 4_990), last, now=9_000, margin=None)
    with pytest.raises(Unconfirmed, match="changed its hash"):
        check_clock(block(10, 5_000, "0x02"), last, now=9_000, margin=None)
    check_clock(block(10, 5_000), last, now=9_000, margin=None)


def test_confirmed_round_trips_through_the_saved_state() -> None:
    confirmed = Confirmed(10, "0xab", 1_000, (0, 2))
    saved = confirmed.to_json()
    assert saved == {
        "block": 10,
        "hash": "0xab",
        "time": 1_000,
        "sources": ["source 1", "source 3"],
    }
    again = Confirmed.from_json(saved)
    assert (again.number, again.hash, again.timestamp) == (10, "0xab", 1_000)


# ---------------------------------------------------------------------- assignments


def _assigned(monkeypatch: pytest.MonkeyPatch, *answers: list[Assignment]) -> Quorum:
    """A quorum whose sources report ``answers`` as their ``CustodianAssigned`` logs."""
    sources = [Source() for _ in answers]
    for source, answer in zip(sources, answers, strict=True):
        source.assignments = answer  # type: ignore[attr-defined]
    monkeypatch.setattr(
        "spartacus.chain.quorum.custodian_assignments",
        lambda registry, _custodian, **_range: registry.assignments,
    )
    q = quorum(*sources, required=2)
    q.confirm()
    return q


A1, A2 = Assignment(1, 0, b"A" * 32, 5), Assignment(2, 0, b"B" * 32, 6)


def test_assignments_reported_alike_by_the_quorum_are_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    q = _assigned(monkeypatch, [A1, A2], [A2, A1], [A1])
    assert q.assignments("0xC", from_block=0) == ([A1, A2], set())


def test_an_assignment_forged_by_the_primary_is_disputed_not_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forged = dataclasses.replace(A1, campaign_key=A2.campaign_key)  # A2's key for campaign 1
    q = _assigned(monkeypatch, [forged, A2], [A1, A2], [A1, A2])
    assert q.assignments("0xC", from_block=0) == ([A1, A2], {1})
    q = _assigned(monkeypatch, [forged, A2], [A1, A2])
    assert q.assignments("0xC", from_block=0) == ([A2], {1})


def test_an_assignment_hidden_by_the_primary_is_found_from_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    q = _assigned(monkeypatch, [A2], [A1, A2], [A1, A2])
    assert q.assignments("0xC", from_block=0) == ([A1, A2], set())
