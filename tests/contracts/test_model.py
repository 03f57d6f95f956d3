"""Random sequences of pledges, withdrawals and finalisations against a small model."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import Status, event_names, events, reverts

HOUR = 3_600
THRESHOLD = 3

actions = st.lists(
    st.one_of(
        st.tuples(st.just("pledge"), st.integers(0, 5)),
        st.tuples(st.just("withdraw"), st.integers(0, 5)),
        st.tuples(st.just("finalize"), st.just(0)),
    ),
    min_size=1,
    max_size=14,
)


@dataclass
class Model:
    """What the registry must hold, recomputed from the actions alone."""

    status: int = Status.OPEN
    pledges: int = 0
    active: set[int] = field(default_factory=set)
    index: dict[int, int] = field(default_factory=dict)
    nonce: dict[int, int] = field(default_factory=dict)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=actions)
def test_random_actions_follow_the_model(
    chain, registry, create_campaign, pledgers, travel, now, steps
):
    # One fixture run serves every example, so each example isolates itself. The block mined
    # first gives its snapshot an id of its own (eth-tester names a snapshot by its head block).
    chain.mine()
    snapshot = chain.snapshot()
    try:
        campaign = create_campaign(threshold=THRESHOLD, grace=HOUR)
        model = Model()
        grace_end = 0
        for action, who in steps:
            account = pledgers[who]
            if action == "pledge":
                if model.status == Status.REVEALED:
                    with reverts(
                        "CampaignClosed",
                        campaignId=campaign.id,
                        status=Status.REVEALED,
                        deadline=campaign.deadline,
                    ):
                        registry.pledge(campaign.id, campaign.sealed().abi, sender=account)
                    continue
                if who in model.active:
                    with reverts("AlreadyPledged", campaignId=campaign.id, account=account.address):
                        registry.pledge(campaign.id, campaign.sealed().abi, sender=account)
                    continue
                receipt = registry.pledge(campaign.id, campaign.sealed().abi, sender=account)
                model.pledges += 1
                model.active.add(who)
                model.index[who] = model.pledges
                model.nonce[who] = model.nonce.get(who, 0) + 1
                expected = ["Pledged"]
                if model.status == Status.OPEN and len(model.active) >= THRESHOLD:
                    model.status = Status.PENDING
                    expected.append("GraceStarted")
                    grace_end = events(receipt, "GraceStarted")[0]["graceEnd"]
                assert event_names(receipt) == expected
                assert events(receipt, "Pledged")[0]["index"] == model.pledges
            elif action == "withdraw":
                if model.status == Status.REVEALED:
                    with reverts("WrongStatus", campaignId=campaign.id, status=Status.REVEALED):
                        registry.withdraw(campaign.id, sender=account)
                    continue
                if who not in model.active:
                    with reverts("NotPledged", campaignId=campaign.id, account=account.address):
                        registry.withdraw(campaign.id, sender=account)
                    continue
                receipt = registry.withdraw(campaign.id, sender=account)
                model.active.remove(who)
                model.nonce[who] += 1
                assert events(receipt, "Withdrawn")[0]["index"] == model.index[who]
            else:
                if model.status != Status.PENDING:
                    with reverts("WrongStatus", campaignId=campaign.id, status=model.status):
                        registry.finalize(campaign.id, sender=pledgers[0])
                    continue
                travel(max(grace_end, now()))
                receipt = registry.finalize(campaign.id, sender=pledgers[0])
                reveal = len(model.active) >= THRESHOLD
                model.status = Status.REVEALED if reveal else Status.OPEN
                assert event_names(receipt) == ["ThresholdReached" if reveal else "Reopened"]

            info = registry.campaign(campaign.id)
            assert (info.status, info.active, info.pledges) == (
                model.status,
                len(model.active),
                model.pledges,
            )
            assert tuple(registry.pledgeOf(campaign.id, account.address)) == (
                who in model.active,
                model.index.get(who, 0),
                model.nonce.get(who, 0),
            )
    finally:
        chain.restore(snapshot)
