"""Invariants: random sequences over several campaigns against a Python model of the rules.

A Hypothesis RuleBasedStateMachine draws sequences of create (sometimes re-using a campaign
key), pledge and pledgeWithSig, withdraw and withdrawWithSig (sometimes replaying an old
signature), finalize, expire, release (by the custodian or by someone else), time jumps,
late pledges and their admission (late-joining campaigns), and batches of signed pledges,
some with expired signatures (each refused item predicted by its error selector).
Each rule is predicted by the model: either the exact custom error, or success with exactly
the events the model expects. After every step (the machine's invariant), for every
campaign: the stored status, the effective status, the active count (= pledges minus
withdrawals), each account's pledge slot and nonce, and every used key, as the model says.
So nothing is released before the reveal or by a non-custodian, nothing is pledged or
withdrawn after expiry, no key serves two campaigns, and only legal status transitions
happen. A scripted walk through the same machine makes every legal transition at least once,
and a late pledge, an admission, a refused batch item and a batched pledge: which moves the
random draws reach depends on Hypothesis's version, and CI installs the newest.

Speed: after each step the chain is compared for every campaign's record and status and for
the (campaign, account) slots the step touched; every slot, nonce and key is compared at
the end of each sequence. derandomize=True: CI runs the same sequences every time (a
failure is reproducible from the test name alone); SPARTACUS_INVARIANT_EXAMPLES=n (n >= 30) runs n
sequences by hand (derandomized too, so a larger n reaches further).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from ape.exceptions import ContractLogicError
from eth_account import Account
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from .helpers import (
    ADMIT_WINDOW,
    ERRORS,
    VALID_UNTIL,
    Sealed,
    Status,
    event_names,
    events,
    reverts,
)

HOUR = 3_600
DAY = 86_400
DIRECT = 3  # actors 0..2 pledge from funded accounts; the rest sign and the relayer sends
SIGNERS = [Account.from_key(bytes([i + 1]) * 32) for i in range(3)]
ACTORS = DIRECT + len(SIGNERS)

# Legal moves of the stored status (from, to).
TRANSITIONS = {
    (Status.OPEN, Status.PENDING), (Status.OPEN, Status.REVEALED), (Status.OPEN, Status.EXPIRED),
    (Status.PENDING, Status.OPEN), (Status.PENDING, Status.REVEALED),
}  # fmt: skip
# v2: a pending campaign past its deadline is reopened by finalize (reading Expired), then
# expired by expire(): Pending -> Expired is no longer one step.
# Moves other than status changes that every run must reach.
MOVES = {"late pledge", "admit", "batch pledged", "batch refused", "signature expired"}
SELECTOR = {name: selector for selector, (name, _, _) in ERRORS.items()}

campaign = st.integers(0, 2)  # taken modulo the number of campaigns: no step is wasted
actor = st.integers(0, ACTORS - 1)


@dataclass
class Model:
    id: int
    threshold: int
    deadline: int
    grace: int
    key: bytes
    late: bool = False
    status: int = Status.OPEN
    reveal_pledges: int = 0
    # Late pledges not yet admitted: index -> actor (counted in `active` once admitted).
    waiting: dict[int, int] = field(default_factory=dict)
    grace_end: int = 0
    pledges: int = 0
    active: set[int] = field(default_factory=set)
    index: dict[int, int] = field(default_factory=dict)
    nonce: dict[int, int] = field(default_factory=dict)
    # A signer's last signed request: (kind, sealed pledge or None, signature).
    last_signature: dict[int, tuple[str, Sealed | None, bytes]] = field(default_factory=dict)

    def effective(self, now: int) -> int:
        if self.status == Status.OPEN and now > self.deadline:
            return Status.EXPIRED
        return self.status


SETTINGS = settings(
    max_examples=int(os.environ.get("SPARTACUS_INVARIANT_EXAMPLES", "30")),
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


FIXTURES = (
    "chain registry create_campaign endorse terms creator custodians pledgers relayer now"
    " travel sign"
).split()


def test_random_sequences_keep_every_invariant(request: pytest.FixtureRequest) -> None:
    fixtures = {name: request.getfixturevalue(name) for name in FIXTURES}
    fixtures["chain"].mine()

    class OnTheseFixtures(World):
        def __init__(self) -> None:
            super().__init__(**fixtures)

    observed: set[tuple[int, int]] = set()
    moves: set[str] = set()
    OnTheseFixtures.observed = observed
    OnTheseFixtures.moves = moves
    run_state_machine_as_test(OnTheseFixtures, settings=SETTINGS)
    # Every move seen was legal (checked step by step); which ones random draws reach is up
    # to Hypothesis's version: the walk below reaches all of them on every version.
    assert observed <= TRANSITIONS and moves <= MOVES
    assert observed, "the random sequences never changed a campaign's status"


def test_a_scripted_walk_reaches_every_legal_move(request: pytest.FixtureRequest) -> None:
    """The same machine and model, driven by a fixed sequence of its rules that makes every
    legal status transition and every other move at least once, each step checked like a
    random one. Derandomized draws differ between Hypothesis versions (CI installs the
    newest), so coverage is made certain here rather than hoped for above."""
    fixtures = {name: request.getfixturevalue(name) for name in FIXTURES}
    fixtures["chain"].mine()  # World's own snapshot must not be the fixture's
    world = World(**fixtures)
    world.observed, world.moves = set(), set()
    # crowd() and grace_runs_out() number the campaigns still taking pledges / pending.
    steps = [
        lambda: world.first((2, 2)),  # 0: grace 2 h; 1: no grace, late joining
        lambda: world.crowd(1, 2, False),  # 1: Open -> Revealed
        lambda: world.pledge(1, 2),  # a late pledge into 1
        lambda: world.admit(0, True, False),  # its admission
        lambda: world.create(2, 2 * HOUR, False),  # 2: grace 2 h
        lambda: world.batch(2, [DIRECT, DIRECT + 1], 0b10),  # one pledged, one expired
        lambda: world.crowd(1, 2, False),  # 2: Open -> Pending
        lambda: world.grace_runs_out(0, (False, False)),  # 2: Pending -> Revealed
        lambda: world.crowd(0, 2, False),  # 0: Open -> Pending
        lambda: world.grace_runs_out(0, (True, True)),  # 0: leave, past the deadline: -> Open
        lambda: world.expire(0),  # 0: Open -> Expired
        lambda: world.create(3, 0, False),  # a fourth re-uses a key: refused
    ]
    try:
        for step in steps:
            step()
            world.check()
    finally:
        world.teardown()
    assert world.observed == TRANSITIONS, f"never seen: {sorted(TRANSITIONS - world.observed)}"
    assert world.moves == MOVES, f"never seen: {sorted(MOVES - world.moves)}"


class World(RuleBasedStateMachine):
    """The chain, with a Python model of every campaign on it; one instance per example."""

    observed: set[tuple[int, int]]  # status moves seen, over every example of the run
    moves: set[str]  # MOVES seen, over every example of the run

    def __init__(self, **fixtures: Any) -> None:
        super().__init__()
        self.chain = fixtures["chain"]
        self.registry = fixtures["registry"]
        self.create_campaign = fixtures["create_campaign"]
        self.endorse, self.terms = fixtures["endorse"], fixtures["terms"]
        self.creator, self.relayer = fixtures["creator"], fixtures["relayer"]
        self.custodians, self.pledgers = fixtures["custodians"], fixtures["pledgers"]
        self.now, self.travel, self.sign = fixtures["now"], fixtures["travel"], fixtures["sign"]
        self.snapshot = self.chain.snapshot()  # every example starts from the same chain
        self.campaigns: list[Model] = []
        self.used_keys: list[bytes] = []
        self.seen: dict[int, int] = {}  # status of each campaign after the previous step
        self.touched: set[tuple[int, int]] = set()  # (campaign, actor) slots since last check

    def teardown(self) -> None:
        try:  # every slot, nonce and key once per example (per step: the touched ones)
            for c in self.campaigns:
                for who in range(ACTORS):
                    self._check_slot(c, who)
                    nonce = self.registry.nonceOf(c.id, self._address(who))
                    assert nonce == c.nonce.get(who, 0)
            for key in self.used_keys:
                assert self.registry.keyUsed(key)
        finally:
            self.chain.restore(self.snapshot)

    # ------------------------------------------------------------ actions

    @initialize(thresholds=st.tuples(st.integers(2, 3), st.integers(2, 3)))
    def first(self, thresholds: tuple[int, int]) -> None:
        """Two campaigns to start: one with a grace period, one revealing at once and taking
        late pledges."""
        self.create(thresholds[0], 2 * HOUR, False)
        self.create(thresholds[1], 0, False, late=True)

    @rule(
        threshold=st.integers(2, 3),
        grace=st.sampled_from([0, 2 * HOUR]),
        reuse_key=st.booleans(),
        late=st.booleans(),
    )
    def create(self, threshold: int, grace: int, reuse_key: bool, late: bool = False) -> None:
        if (reuse_key or len(self.campaigns) >= 3) and self.used_keys:
            key = self.used_keys[0]
            endorsement = self.endorse(self.custodians[0], key=key)
            with reverts("CampaignKeyUsed", campaignKey=key):
                self.registry.createCampaign(
                    self.terms(threshold=threshold), Sealed.random().abi, [endorsement],
                    sender=self.creator,
                )  # fmt: skip
            return
        made = self.create_campaign(
            threshold=threshold, grace=grace, deadline=self.now() + DAY, late=late
        )
        self.campaigns.append(Model(made.id, threshold, made.deadline, grace, made.keys[0], late))
        self.used_keys.append(made.keys[0])
        assert self.registry.keyUsed(made.keys[0])

    def _campaign(self, number: int) -> Model | None:
        return self.campaigns[number % len(self.campaigns)] if self.campaigns else None

    @rule(number=campaign, who=actor)
    def pledge(self, number: int, who: int) -> None:
        c = self._campaign(number)
        if c is None:
            return
        self.touched.add((c.id, who))
        now = self.now()
        status = c.effective(now)
        sealed = Sealed.random()
        error = self._pledge_error(c, who, now)
        if error == "CampaignClosed":
            with reverts("CampaignClosed", campaignId=c.id, status=status, deadline=c.deadline):
                self._send_pledge(c, who, sealed)
            return
        if error == "AlreadyPledged":
            with reverts("AlreadyPledged", campaignId=c.id, account=self._address(who)):
                self._send_pledge(c, who, sealed)
            return
        receipt = self._send_pledge(c, who, sealed)
        assert event_names(receipt) == self._apply_pledge(c, who, now, receipt)
        pledged = events(receipt, "Pledged")[0]
        assert (pledged["index"], pledged["active"]) == (c.pledges, len(c.active))
        assert pledged["account"] == self._address(who)

    def _pledge_error(self, c: Model, who: int, now: int) -> str | None:
        status = c.effective(now)
        if (
            status == Status.EXPIRED
            or now > c.deadline
            or (status == Status.REVEALED and not c.late)
        ):
            return "CampaignClosed"
        if who in c.active or who in c.waiting.values():
            return "AlreadyPledged"
        return None

    def _apply_pledge(self, c: Model, who: int, now: int, receipt: Any) -> list[str]:
        """The model's effects of an accepted pledge; returns the events it expects."""
        c.pledges += 1
        c.index[who] = c.pledges
        c.nonce[who] = c.nonce.get(who, 0) + 1
        if c.status == Status.REVEALED:
            c.waiting[c.pledges] = who
            self.moves.add("late pledge")
            return ["Pledged"]
        c.active.add(who)
        expected = ["Pledged"]
        if c.status == Status.OPEN and len(c.active) >= c.threshold:
            if c.grace == 0:
                c.status = Status.REVEALED
                c.reveal_pledges = c.pledges if c.late else 0
                expected.append("ThresholdReached")
            else:
                c.status = Status.PENDING
                c.grace_end = now + c.grace  # v2: never cut by the deadline
                expected.append("GraceStarted")
                started = [e for e in events(receipt, "GraceStarted") if e["campaignId"] == c.id]
                assert started[-1]["graceEnd"] == c.grace_end
        return expected

    @rule(
        number=campaign,
        signers=st.lists(st.integers(DIRECT, ACTORS - 1), min_size=1, max_size=4),
        expired=st.integers(0, 15),
    )
    def batch(self, number: int, signers: list[int], expired: int) -> None:
        """The relayer sends signed pledges of one campaign in one batch; bit i of
        ``expired`` makes item i's signature one that expired a second ago."""
        c = self._campaign(number)
        if c is None:
            return
        now = self.now()
        items, signed = [], []
        for i, who in enumerate(signers):
            self.touched.add((c.id, who))
            signer = SIGNERS[who - DIRECT]
            valid_until = now - 1 if expired >> i & 1 else VALID_UNTIL
            sealed = Sealed.random()
            message = sealed.message(c.id, c.nonce.get(who, 0), valid_until)
            signature = self.sign(signer.key, "Pledge", message)
            items.append((c.id, signer.address, sealed.abi, valid_until, signature))
            signed.append(valid_until)
        receipt = self.registry.pledgeWithSigBatch(items, sender=self.relayer)
        expected, refused = [], []
        for i, who in enumerate(signers):
            error = self._pledge_error(c, who, now)
            if error is None and signed[i] < now:
                error = "SignatureExpired"
                self.moves.add("signature expired")
            if error is not None:
                expected.append("BatchItemRefused")
                refused.append({"index": i, "errorSelector": SELECTOR[error]})
                self.moves.add("batch refused")
                continue
            expected += self._apply_pledge(c, who, now, receipt)
            self.moves.add("batch pledged")
        assert event_names(receipt) == expected
        assert events(receipt, "BatchItemRefused") == refused

    @precondition(lambda self: any(c.waiting for c in self.campaigns))
    @rule(pick=st.integers(0, 7), by_creator=st.booleans(), twice=st.booleans())
    def admit(self, pick: int, by_creator: bool, twice: bool) -> None:
        """The creator admits a waiting late pledge (``twice``: one already admitted, or one
        made before the reveal); someone else is refused."""
        c = next(c for c in self.campaigns if c.waiting)
        now = self.now()
        sender = self.creator if by_creator else self.relayer
        indices = sorted(c.waiting)
        index = indices[pick % len(indices)]
        if not by_creator:
            with reverts("NotCreator", campaignId=c.id, caller=self.relayer.address):
                self.registry.admit(c.id, [index], sender=sender)
            return
        closes = c.deadline + ADMIT_WINDOW
        if now > closes:
            with reverts("AdmissionClosed", campaignId=c.id, closesAt=closes, timestamp=now):
                self.registry.admit(c.id, [index], sender=sender)
            return
        if twice:
            wrong = max(1, c.reveal_pledges)
            with reverts("NotLatePledge", campaignId=c.id, index=wrong):
                self.registry.admit(c.id, [wrong], sender=sender)
            return
        receipt = self.registry.admit(c.id, [index], sender=sender)
        who = c.waiting.pop(index)
        c.active.add(who)
        self.moves.add("admit")
        assert events(receipt, "Admitted") == [
            {"campaignId": c.id, "index": index, "active": len(c.active)}
        ]
        assert self.registry.admitted(c.id, index)
        with reverts("AlreadyAdmitted", campaignId=c.id, index=index):
            self.registry.admit(c.id, [index], sender=sender)

    @rule(number=campaign, count=st.integers(2, ACTORS), members_too=st.booleans())
    def crowd(self, number: int, count: int, members_too: bool) -> None:
        """Several actors pledge one after another into a campaign still taking pledges (a
        burst, e.g. one that reaches the threshold or comes during a grace period);
        ``members_too``: the burst includes members, who are refused."""
        now = self.now()
        taking = [c for c in self.campaigns if c.effective(now) in (Status.OPEN, Status.PENDING)]
        if not taking:
            return
        c = taking[number % len(taking)]
        who = [w for w in range(ACTORS) if members_too or w not in c.active][:count]
        for w in who:
            self.pledge(self.campaigns.index(c), w)
            self.transitions()  # the chain itself is compared once, after the burst

    @rule(number=campaign, pick=st.integers(0, ACTORS - 1))
    def withdraw_a_member(self, number: int, pick: int) -> None:
        """Withdraw someone who has pledged (a plain random actor rarely has)."""
        c = self._campaign(number)
        if c is not None and c.active:
            members = sorted(c.active)
            self.withdraw(number, members[pick % len(members)])

    @rule(number=campaign, who=actor)
    def withdraw(self, number: int, who: int) -> None:
        c = self._campaign(number)
        if c is None:
            return
        self.touched.add((c.id, who))
        status = c.effective(self.now())
        if status not in (Status.OPEN, Status.PENDING):
            with reverts("WrongStatus", campaignId=c.id, status=status):
                self._send_withdraw(c, who)
            return
        if who not in c.active:
            with reverts("NotPledged", campaignId=c.id, account=self._address(who)):
                self._send_withdraw(c, who)
            return
        receipt = self._send_withdraw(c, who)
        c.active.remove(who)
        c.nonce[who] += 1
        assert event_names(receipt) == ["Withdrawn"]
        withdrawn = events(receipt, "Withdrawn")[0]
        assert (withdrawn["index"], withdrawn["active"]) == (c.index[who], len(c.active))

    @rule(number=campaign, who=actor)
    def replay(self, number: int, who: int) -> None:
        """Send a signer's last signature again: a used nonce never works twice."""
        c = self._campaign(number)
        if c is None or who < DIRECT or who not in c.last_signature:
            return
        kind, sealed, signature = c.last_signature[who]
        account = self._address(who)
        with pytest.raises(ContractLogicError):
            if sealed is None:
                self.registry.withdrawWithSig(
                    c.id, account, VALID_UNTIL, signature, sender=self.relayer
                )
            else:
                self.registry.pledgeWithSig(
                    c.id, account, sealed.abi, VALID_UNTIL, signature, sender=self.relayer
                )

    def _pending(self) -> list[Model]:
        return [c for c in self.campaigns if c.status == Status.PENDING]

    @precondition(lambda self: bool(self._pending()))
    @rule(
        number=campaign,
        # Leaving is drawn twice as often: reopening (Pending -> Open) needs it, and since
        # admit and batch joined the rules a grace period runs out less often.
        leave_late=st.sampled_from(
            [
                (True, False),
                (True, True),
                (True, False),
                (False, False),
                (True, True),
                (False, True),
            ]
        ),
    )
    def grace_runs_out(self, number: int, leave_late: tuple[bool, bool]) -> None:
        """Members react in a grace period: if ``leave``, enough withdraw to fall below the
        threshold; the grace period ends (``late``: the deadline passes too); someone
        finalizes. Made of the other rules, each checked by the model: one rule because a
        random walk too rarely strings them together."""
        leave, late = leave_late
        pending = self._pending()
        c = pending[number % len(pending)]
        while leave and len(c.active) >= c.threshold:
            self.withdraw(self.campaigns.index(c), min(c.active))
            self.transitions()
        self.travel(max(self.now(), c.deadline if late else c.grace_end) + 1)
        self.finalize(self.campaigns.index(c))

    @rule(number=campaign)
    def finalize(self, number: int) -> None:
        c = self._campaign(number)
        if c is None:
            return
        now = self.now()
        if c.status != Status.PENDING:
            with reverts("WrongStatus", campaignId=c.id, status=c.effective(now)):
                self.registry.finalize(c.id, sender=self.relayer)
            return
        if now < c.grace_end:
            with reverts("GraceNotOver", campaignId=c.id, graceEnd=c.grace_end, timestamp=now):
                self.registry.finalize(c.id, sender=self.relayer)
            return
        receipt = self.registry.finalize(c.id, sender=self.relayer)
        if len(c.active) >= c.threshold:
            c.status, event = Status.REVEALED, "ThresholdReached"
            c.reveal_pledges = c.pledges if c.late else 0
        else:  # past the deadline too: it then reads Expired until expire() records it
            c.status, event = Status.OPEN, "Reopened"
        assert event_names(receipt) == [event]

    @rule(number=campaign)
    def expire(self, number: int) -> None:
        c = self._campaign(number)
        if c is None:
            return
        now = self.now()
        if c.status != Status.OPEN:
            with reverts("WrongStatus", campaignId=c.id, status=c.status):
                self.registry.expire(c.id, sender=self.relayer)
            return
        if now <= c.deadline:
            with reverts("DeadlineNotPassed", campaignId=c.id, deadline=c.deadline, timestamp=now):
                self.registry.expire(c.id, sender=self.relayer)
            return
        receipt = self.registry.expire(c.id, sender=self.relayer)
        c.status = Status.EXPIRED
        assert event_names(receipt) == ["Expired"]

    @rule(number=campaign, by_custodian=st.booleans())
    def release(self, number: int, by_custodian: bool) -> None:
        c = self._campaign(number)
        if c is None:
            return
        sender = self.custodians[0] if by_custodian else self.custodians[1]
        status = c.effective(self.now())
        if status != Status.REVEALED:
            with reverts("WrongStatus", campaignId=c.id, status=status):
                self.registry.release(c.id, b"\x01" * 40, sender=sender)
            return
        if not by_custodian:
            with reverts("NotCustodian", campaignId=c.id, caller=sender.address):
                self.registry.release(c.id, b"\x01" * 40, sender=sender)
            return
        receipt = self.registry.release(c.id, b"\x01" * 40, sender=sender)
        assert event_names(receipt) == ["Released"]

    @rule(seconds=st.sampled_from([HOUR, 3 * HOUR, DAY // 2, 2 * DAY]))
    def jump(self, seconds: int) -> None:
        self.travel(self.now() + seconds)

    # ------------------------------------------------------------ sending

    def _address(self, who: int) -> str:
        return str(self.pledgers[who].address if who < DIRECT else SIGNERS[who - DIRECT].address)

    def _send_pledge(self, c: Model, who: int, sealed: Sealed) -> Any:
        if who < DIRECT:
            return self.registry.pledge(c.id, sealed.abi, sender=self.pledgers[who])
        signer = SIGNERS[who - DIRECT]
        nonce = c.nonce.get(who, 0)
        signature = self.sign(signer.key, "Pledge", sealed.message(c.id, nonce, VALID_UNTIL))
        receipt = self.registry.pledgeWithSig(
            c.id, signer.address, sealed.abi, VALID_UNTIL, signature, sender=self.relayer
        )
        c.last_signature[who] = ("pledge", sealed, signature)
        return receipt

    def _send_withdraw(self, c: Model, who: int) -> Any:
        if who < DIRECT:
            return self.registry.withdraw(c.id, sender=self.pledgers[who])
        signer = SIGNERS[who - DIRECT]
        message = {"campaignId": c.id, "nonce": c.nonce.get(who, 0), "validUntil": VALID_UNTIL}
        signature = self.sign(signer.key, "Withdraw", message)
        receipt = self.registry.withdrawWithSig(
            c.id, signer.address, VALID_UNTIL, signature, sender=self.relayer
        )
        c.last_signature[who] = ("withdraw", None, signature)
        return receipt

    # ------------------------------------------------------------ invariants

    def transitions(self) -> None:
        for c in self.campaigns:
            if c.id in self.seen and self.seen[c.id] != c.status:
                assert (self.seen[c.id], c.status) in TRANSITIONS, (self.seen[c.id], c.status)
                self.observed.add((self.seen[c.id], c.status))
            self.seen[c.id] = c.status

    @invariant()
    def check(self) -> None:
        self.transitions()
        now = int(self.chain.blocks.head.timestamp)  # what view calls see
        assert self.registry.campaignCount() == len(self.campaigns)
        for c in self.campaigns:
            info = self.registry.campaign(c.id)
            assert (info.status, info.active, info.pledges) == (c.status, len(c.active), c.pledges)
            assert info.active <= info.pledges
            assert info.graceEnd == c.grace_end
            assert (info.lateJoining, info.revealPledges) == (c.late, c.reveal_pledges)
            assert self.registry.statusOf(c.id) == c.effective(now)
        by_id = {c.id: c for c in self.campaigns}
        for campaign_id, who in self.touched:
            self._check_slot(by_id[campaign_id], who)
        self.touched.clear()

    def _check_slot(self, c: Model, who: int) -> None:
        assert tuple(self.registry.pledgeOf(c.id, self._address(who))) == (
            who in c.active or who in c.waiting.values(), c.index.get(who, 0),
            c.nonce.get(who, 0),
        )  # fmt: skip
