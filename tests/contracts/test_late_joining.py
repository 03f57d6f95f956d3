"""Late joining (#12): pledges after the reveal, admitted by the creator, counted only then."""

from __future__ import annotations

from .helpers import ADMIT_WINDOW, MAX_BATCH, Status, event_names, events, reverts


def revealed(create_campaign, pledge_many, late=True):
    campaign = create_campaign(threshold=2, late=late)
    pledge_many(campaign, 2)
    return campaign


def test_late_pledge_recorded_but_not_counted(
    registry, create_campaign, pledge_many, pledge, pledgers
):
    campaign = revealed(create_campaign, pledge_many)

    receipt = pledge(campaign, pledgers[2])

    assert event_names(receipt) == ["Pledged"]
    assert (events(receipt, "Pledged")[0]["index"], events(receipt, "Pledged")[0]["active"]) == (
        3,
        2,
    )
    info = registry.campaign(campaign.id)
    assert (info.status, info.active, info.pledges) == (Status.REVEALED, 2, 3)
    assert (info.lateJoining, info.revealPledges) == (True, 2)
    assert registry.admitted(campaign.id, 3) is False


def test_admit_emits_admitted_and_counts(
    registry, create_campaign, pledge_many, pledge, pledgers, creator
):
    campaign = revealed(create_campaign, pledge_many)
    pledge(campaign, pledgers[2])
    pledge(campaign, pledgers[3])

    receipt = registry.admit(campaign.id, [4, 3], sender=creator)

    assert events(receipt, "Admitted") == [
        {"campaignId": campaign.id, "index": 4, "active": 3},
        {"campaignId": campaign.id, "index": 3, "active": 4},
    ]
    assert registry.activeCount(campaign.id) == 4
    assert (registry.admitted(campaign.id, 3), registry.admitted(campaign.id, 4)) == (True, True)


def test_admit_by_other_than_creator_reverts(
    create_campaign, pledge_many, pledge, pledgers, registry
):
    campaign = revealed(create_campaign, pledge_many)
    pledge(campaign, pledgers[2])

    with reverts("NotCreator", campaignId=campaign.id, caller=pledgers[0].address):
        registry.admit(campaign.id, [3], sender=pledgers[0])


def test_admit_twice_reverts(registry, create_campaign, pledge_many, pledge, pledgers, creator):
    campaign = revealed(create_campaign, pledge_many)
    pledge(campaign, pledgers[2])
    registry.admit(campaign.id, [3], sender=creator)

    with reverts("AlreadyAdmitted", campaignId=campaign.id, index=3):
        registry.admit(campaign.id, [3], sender=creator)


def test_admit_same_index_twice_in_one_call_reverts(
    registry, create_campaign, pledge_many, pledge, pledgers, creator
):
    campaign = revealed(create_campaign, pledge_many)
    pledge(campaign, pledgers[2])

    with reverts("AlreadyAdmitted", campaignId=campaign.id, index=3):
        registry.admit(campaign.id, [3, 3], sender=creator)


def test_admit_pledge_made_before_reveal_or_unknown_reverts(
    registry, create_campaign, pledge_many, pledge, pledgers, creator
):
    campaign = revealed(create_campaign, pledge_many)
    pledge(campaign, pledgers[2])

    for index in (0, 2, 4):
        with reverts("NotLatePledge", campaignId=campaign.id, index=index):
            registry.admit(campaign.id, [index], sender=creator)


def test_admit_before_reveal_reverts(registry, create_campaign, pledge, pledgers, creator):
    campaign = create_campaign(threshold=3, late=True)
    pledge(campaign, pledgers[0])

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.OPEN):
        registry.admit(campaign.id, [1], sender=creator)


def test_admit_in_campaign_without_late_joining_reverts(
    registry, create_campaign, pledge_many, creator
):
    campaign = revealed(create_campaign, pledge_many, late=False)

    with reverts("NotLatePledge", campaignId=campaign.id, index=1):
        registry.admit(campaign.id, [1], sender=creator)


def test_admit_after_window_reverts(
    registry, create_campaign, pledge_many, pledge, pledgers, creator, travel
):
    campaign = revealed(create_campaign, pledge_many)
    pledge(campaign, pledgers[2])
    closes = campaign.deadline + ADMIT_WINDOW
    travel(closes)
    registry.admit(campaign.id, [3], sender=creator)  # the last second of the window
    pledge_late = closes + 1
    travel(pledge_late)

    with reverts("AdmissionClosed", campaignId=campaign.id, closesAt=closes, timestamp=pledge_late):
        registry.admit(campaign.id, [3], sender=creator)


def test_admit_bad_batch_size_reverts(registry, create_campaign, pledge_many, creator):
    campaign = revealed(create_campaign, pledge_many)

    with reverts("BadBatchSize", size=0, max=MAX_BATCH):
        registry.admit(campaign.id, [], sender=creator)
    with reverts("BadBatchSize", size=MAX_BATCH + 1, max=MAX_BATCH):
        registry.admit(campaign.id, [3] * (MAX_BATCH + 1), sender=creator)


def test_admit_unknown_campaign_reverts(registry, creator):
    with reverts("UnknownCampaign", campaignId=9):
        registry.admit(9, [1], sender=creator)


def test_late_pledge_after_deadline_reverts(create_campaign, pledge_many, pledge, pledgers, travel):
    campaign = revealed(create_campaign, pledge_many)
    travel(campaign.deadline + 1)

    with reverts(
        "CampaignClosed", campaignId=campaign.id, status=Status.REVEALED, deadline=campaign.deadline
    ):
        pledge(campaign, pledgers[2])


def test_late_pledge_cannot_be_withdrawn(registry, create_campaign, pledge_many, pledge, pledgers):
    campaign = revealed(create_campaign, pledge_many)
    pledge(campaign, pledgers[2])

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.REVEALED):
        registry.withdraw(campaign.id, sender=pledgers[2])


def test_late_joining_with_grace_records_reveal_pledges_at_finalize(
    registry, create_campaign, pledge_many, pledge, pledgers, creator, travel
):
    campaign = create_campaign(threshold=2, grace=3_600, late=True)
    receipts = pledge_many(campaign, 3)
    travel(events(receipts[1], "GraceStarted")[0]["graceEnd"])
    registry.finalize(campaign.id, sender=pledgers[5])
    pledge(campaign, pledgers[3])

    assert registry.campaign(campaign.id).revealPledges == 3
    with reverts("NotLatePledge", campaignId=campaign.id, index=3):
        registry.admit(campaign.id, [3], sender=creator)
    registry.admit(campaign.id, [4], sender=creator)
