"""Threshold, grace period, finalize, expire and the status a campaign reads as."""

from __future__ import annotations

import pytest

from .helpers import DAY, Status, event_names, events, reverts

HOUR = 3_600


# ---------------------------------------------------------------- reaching N


def test_pledge_reaching_threshold_without_grace_reveals(
    registry, create_campaign, pledge_many, pledge, pledgers
):
    campaign = create_campaign(threshold=3)
    pledge_many(campaign, 2)

    receipt = pledge(campaign, pledgers[2])

    assert event_names(receipt) == ["Pledged", "ThresholdReached"]
    assert events(receipt, "ThresholdReached") == [
        {"campaignId": campaign.id, "active": 3, "pledges": 3}
    ]
    info = registry.campaign(campaign.id)
    assert (info.status, info.graceEnd) == (Status.REVEALED, 0)


def test_threshold_counts_active_pledges_only(registry, create_campaign, pledge, pledgers):
    campaign = create_campaign(threshold=3)
    pledge(campaign, pledgers[0])
    pledge(campaign, pledgers[1])
    registry.withdraw(campaign.id, sender=pledgers[0])

    below = pledge(campaign, pledgers[2])
    reached = pledge(campaign, pledgers[3])

    assert event_names(below) == ["Pledged"]
    assert events(reached, "ThresholdReached") == [
        {"campaignId": campaign.id, "active": 3, "pledges": 4}
    ]


def test_pledge_reaching_threshold_with_grace_starts_grace(
    registry, create_campaign, pledge_many, pledge, pledgers, travel, now
):
    campaign = create_campaign(threshold=3, grace=HOUR)
    pledge_many(campaign, 2)
    when = now() + 10
    travel(when)

    receipt = pledge(campaign, pledgers[2])

    assert event_names(receipt) == ["Pledged", "GraceStarted"]
    assert events(receipt, "GraceStarted") == [
        {"campaignId": campaign.id, "graceEnd": when + HOUR, "active": 3}
    ]
    info = registry.campaign(campaign.id)
    assert (info.status, info.graceEnd) == (Status.PENDING, when + HOUR)
    assert registry.statusOf(campaign.id) == Status.PENDING


def test_threshold_a_minute_before_deadline_keeps_full_grace(
    registry, create_campaign, pledge, pledgers, travel, now, chain
):
    """#12: N reached one minute before the deadline keeps its whole grace period."""
    campaign = create_campaign(threshold=2, grace=3 * DAY)
    pledge(campaign, pledgers[0])
    when = campaign.deadline - 60
    travel(when)

    receipt = pledge(campaign, pledgers[1])

    assert events(receipt, "GraceStarted") == [
        {"campaignId": campaign.id, "graceEnd": when + 3 * DAY, "active": 2}
    ]
    chain.mine(timestamp=campaign.deadline + DAY)  # past the deadline, inside the grace
    assert registry.statusOf(campaign.id) == Status.PENDING
    with reverts(
        "GraceNotOver",
        campaignId=campaign.id,
        graceEnd=when + 3 * DAY,
        timestamp=campaign.deadline + DAY + 1,
    ):
        registry.finalize(campaign.id, sender=pledgers[5])
    travel(when + 3 * DAY)
    receipt = registry.finalize(campaign.id, sender=pledgers[5])
    assert events(receipt, "ThresholdReached") == [
        {"campaignId": campaign.id, "active": 2, "pledges": 2}
    ]


def test_pledge_during_grace_past_deadline_reverts(
    registry, create_campaign, pledge, pledgers, travel
):
    """Pledging stops at the deadline even while the grace period runs on."""
    campaign = create_campaign(threshold=2, grace=3 * DAY)
    pledge(campaign, pledgers[0])
    travel(campaign.deadline - 60)
    pledge(campaign, pledgers[1])
    travel(campaign.deadline + 1)

    with reverts(
        "CampaignClosed", campaignId=campaign.id, status=Status.PENDING, deadline=campaign.deadline
    ):
        pledge(campaign, pledgers[2])


def test_pending_reaching_threshold_again_changes_nothing(
    registry, create_campaign, pledge_many, pledge, pledgers
):
    campaign = create_campaign(threshold=2, grace=HOUR)
    started = pledge_many(campaign, 2)[-1]
    grace_end = events(started, "GraceStarted")[0]["graceEnd"]
    registry.withdraw(campaign.id, sender=pledgers[0])

    receipts = [pledge(campaign, pledgers[2]), pledge(campaign, pledgers[3])]

    assert [event_names(r) for r in receipts] == [["Pledged"], ["Pledged"]]
    info = registry.campaign(campaign.id)
    assert (info.status, info.graceEnd, info.active) == (Status.PENDING, grace_end, 3)


# ---------------------------------------------------------------- finalize


@pytest.fixture
def pending(create_campaign, pledge_many):
    """``pending(threshold=2, grace=HOUR)``: a campaign that just reached N; returns it
    with its graceEnd."""

    def make(threshold=2, grace=HOUR, **kwargs):
        campaign = create_campaign(threshold=threshold, grace=grace, **kwargs)
        receipt = pledge_many(campaign, threshold)[-1]
        return campaign, events(receipt, "GraceStarted")[0]["graceEnd"]

    return make


def test_finalize_before_grace_end_reverts(registry, pending, pledgers, travel):
    campaign, grace_end = pending()
    travel(grace_end - 1)

    with reverts(
        "GraceNotOver", campaignId=campaign.id, graceEnd=grace_end, timestamp=grace_end - 1
    ):
        registry.finalize(campaign.id, sender=pledgers[5])


def test_finalize_at_grace_end_reveals(registry, pending, pledgers, travel):
    campaign, grace_end = pending(threshold=2)
    travel(grace_end)

    receipt = registry.finalize(campaign.id, sender=pledgers[5])

    assert event_names(receipt) == ["ThresholdReached"]
    assert events(receipt, "ThresholdReached") == [
        {"campaignId": campaign.id, "active": 2, "pledges": 2}
    ]
    assert registry.campaign(campaign.id).status == Status.REVEALED


def test_finalize_counts_pledges_made_during_grace(registry, pending, pledge, pledgers, travel):
    campaign, grace_end = pending(threshold=2)
    registry.withdraw(campaign.id, sender=pledgers[0])
    pledge(campaign, pledgers[2])
    pledge(campaign, pledgers[3])
    travel(grace_end)

    receipt = registry.finalize(campaign.id, sender=pledgers[5])

    assert events(receipt, "ThresholdReached") == [
        {"campaignId": campaign.id, "active": 3, "pledges": 4}
    ]


def test_finalize_with_fewer_pledges_reopens(registry, pending, pledgers, travel):
    campaign, grace_end = pending(threshold=2)
    registry.withdraw(campaign.id, sender=pledgers[1])
    travel(grace_end)

    receipt = registry.finalize(campaign.id, sender=pledgers[5])

    assert event_names(receipt) == ["Reopened"]
    assert events(receipt, "Reopened") == [{"campaignId": campaign.id, "active": 1}]
    assert registry.campaign(campaign.id).status == Status.OPEN


def test_reopened_campaign_reaching_threshold_starts_new_grace(
    registry, pending, pledge, pledgers, travel, now
):
    campaign, grace_end = pending(threshold=2)
    registry.withdraw(campaign.id, sender=pledgers[1])
    travel(grace_end)
    registry.finalize(campaign.id, sender=pledgers[5])
    when = now() + 100
    travel(when)

    receipt = pledge(campaign, pledgers[2])

    assert events(receipt, "GraceStarted") == [
        {"campaignId": campaign.id, "graceEnd": when + HOUR, "active": 2}
    ]
    assert registry.campaign(campaign.id).graceEnd == when + HOUR


def test_finalize_past_deadline_with_fewer_pledges_reopens_reading_expired(
    registry, pending, pledgers, travel, now
):
    campaign, grace_end = pending(threshold=2, grace=30 * DAY, deadline=now() + DAY)
    assert grace_end > campaign.deadline
    registry.withdraw(campaign.id, sender=pledgers[0])
    travel(grace_end)

    receipt = registry.finalize(campaign.id, sender=pledgers[5])

    assert event_names(receipt) == ["Reopened"]
    assert events(receipt, "Reopened") == [{"campaignId": campaign.id, "active": 1}]
    assert registry.campaign(campaign.id).status == Status.OPEN
    assert registry.statusOf(campaign.id) == Status.EXPIRED
    receipt = registry.expire(campaign.id, sender=pledgers[5])
    assert events(receipt, "Expired") == [{"campaignId": campaign.id, "active": 1}]


def test_finalize_past_deadline_with_enough_pledges_reveals(registry, pending, pledgers, travel):
    campaign, _ = pending(threshold=2)
    travel(campaign.deadline + DAY)

    receipt = registry.finalize(campaign.id, sender=pledgers[5])

    assert event_names(receipt) == ["ThresholdReached"]
    assert registry.campaign(campaign.id).status == Status.REVEALED


def test_finalize_open_campaign_reverts(registry, create_campaign, pledgers):
    campaign = create_campaign()

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.OPEN):
        registry.finalize(campaign.id, sender=pledgers[5])


def test_finalize_open_campaign_past_deadline_reverts_expired(
    registry, create_campaign, pledgers, travel
):
    campaign = create_campaign()
    travel(campaign.deadline + 1)

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.EXPIRED):
        registry.finalize(campaign.id, sender=pledgers[5])


def test_finalize_twice_reverts(registry, pending, pledgers, travel):
    campaign, grace_end = pending()
    travel(grace_end)
    registry.finalize(campaign.id, sender=pledgers[5])

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.REVEALED):
        registry.finalize(campaign.id, sender=pledgers[5])


def test_finalize_unknown_campaign_reverts(registry, pledgers):
    with reverts("UnknownCampaign", campaignId=7):
        registry.finalize(7, sender=pledgers[5])


# ---------------------------------------------------------------- expire


def test_expire_after_deadline_expires(registry, create_campaign, pledge, pledgers, travel):
    campaign = create_campaign(threshold=3)
    pledge(campaign, pledgers[0])
    travel(campaign.deadline + 1)

    receipt = registry.expire(campaign.id, sender=pledgers[5])

    assert event_names(receipt) == ["Expired"]
    assert events(receipt, "Expired") == [{"campaignId": campaign.id, "active": 1}]
    assert registry.campaign(campaign.id).status == Status.EXPIRED
    assert registry.statusOf(campaign.id) == Status.EXPIRED


def test_expire_at_deadline_reverts(registry, create_campaign, pledgers, travel):
    campaign = create_campaign()
    travel(campaign.deadline)

    with reverts(
        "DeadlineNotPassed",
        campaignId=campaign.id,
        deadline=campaign.deadline,
        timestamp=campaign.deadline,
    ):
        registry.expire(campaign.id, sender=pledgers[5])


def test_expire_twice_reverts(registry, create_campaign, pledgers, travel):
    campaign = create_campaign()
    travel(campaign.deadline + 1)
    registry.expire(campaign.id, sender=pledgers[5])

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.EXPIRED):
        registry.expire(campaign.id, sender=pledgers[5])


def test_expire_pending_campaign_reverts(registry, pending, pledgers, travel):
    campaign, _ = pending(grace=30 * DAY)
    travel(campaign.deadline + 1)

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.PENDING):
        registry.expire(campaign.id, sender=pledgers[5])


def test_expire_revealed_campaign_reverts(registry, create_campaign, pledge_many, pledgers, travel):
    campaign = create_campaign(threshold=2)
    pledge_many(campaign, 2)
    travel(campaign.deadline + 1)

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.REVEALED):
        registry.expire(campaign.id, sender=pledgers[5])


def test_expire_unknown_campaign_reverts(registry, pledgers):
    with reverts("UnknownCampaign", campaignId=1):
        registry.expire(1, sender=pledgers[5])


# ---------------------------------------------------------------- statusOf


def test_status_of_open_campaign_reads_expired_after_deadline(registry, create_campaign, chain):
    campaign = create_campaign()

    chain.mine(timestamp=campaign.deadline)
    at_deadline = registry.statusOf(campaign.id)
    chain.mine(timestamp=campaign.deadline + 1)

    assert at_deadline == Status.OPEN
    assert registry.statusOf(campaign.id) == Status.EXPIRED
    assert registry.campaign(campaign.id).status == Status.OPEN


def test_status_of_pending_campaign_stays_pending_after_deadline(registry, pending, chain):
    campaign, _ = pending(grace=30 * DAY)

    chain.mine(timestamp=campaign.deadline + 1)

    assert registry.statusOf(campaign.id) == Status.PENDING


def test_status_of_revealed_campaign_stays_revealed_after_deadline(
    registry, create_campaign, pledge_many, chain
):
    campaign = create_campaign(threshold=2)
    pledge_many(campaign, 2)

    chain.mine(timestamp=campaign.deadline + 1)

    assert registry.statusOf(campaign.id) == Status.REVEALED


def test_status_of_unknown_campaign_is_none(registry, create_campaign):
    create_campaign()

    assert [registry.statusOf(i) for i in (0, 1, 2)] == [Status.NONE, Status.OPEN, Status.NONE]
