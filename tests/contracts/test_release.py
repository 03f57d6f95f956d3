"""release: only a campaign's custodians, only after the reveal, 1 to 98,304 bytes."""

from __future__ import annotations

import os

import pytest

from .helpers import DAY, MAX_RELEASE, Field, Status, event_names, events, reverts


@pytest.fixture
def revealed(create_campaign, pledge_many):
    """``revealed(custodians=3)``: a campaign whose threshold (2) was just reached."""

    def make(custodians=1, **kwargs):
        campaign = create_campaign(threshold=2, custodians=custodians, **kwargs)
        pledge_many(campaign, 2)
        return campaign

    return make


def test_release_emits_released_with_custodian_index(registry, revealed):
    campaign = revealed(custodians=3)
    data = [os.urandom(100 + i) for i in range(3)]

    receipts = [
        registry.release(campaign.id, part, sender=custodian)
        for custodian, part in zip(reversed(campaign.custodians), reversed(data), strict=True)
    ]

    assert [event_names(r) for r in receipts] == [["Released"]] * 3
    assert [events(r, "Released")[0] for r in reversed(receipts)] == [
        {"campaignId": campaign.id, "custodian": c.address, "index": i, "data": part}
        for i, (c, part) in enumerate(zip(campaign.custodians, data, strict=True))
    ]


def test_release_repeated_for_later_rounds_accepted(
    registry, revealed, pledge, pledgers, travel, creator
):
    """Late pledges after the reveal are released in later rounds, even past the deadline."""
    campaign = revealed(late=True)
    custodian = campaign.custodians[0]
    registry.release(campaign.id, b"\x01round-0", sender=custodian)
    pledge(campaign, pledgers[2])
    registry.admit(campaign.id, [3], sender=creator)
    travel(campaign.deadline + DAY)

    receipt = registry.release(campaign.id, b"\x01round-1", sender=custodian)

    assert events(receipt, "Released")[0]["data"] == b"\x01round-1"


@pytest.mark.parametrize("length", [1, MAX_RELEASE])
def test_release_size_limits_accepted(registry, revealed, length):
    campaign = revealed()
    data = os.urandom(length)

    receipt = registry.release(campaign.id, data, sender=campaign.custodians[0])

    assert events(receipt, "Released")[0]["data"] == data


@pytest.mark.parametrize("length", [0, MAX_RELEASE + 1])
def test_release_bad_size_reverts(registry, revealed, length):
    campaign = revealed()

    with reverts("BadLength", field=Field.RELEASE_DATA, length=length, expected=MAX_RELEASE):
        registry.release(campaign.id, os.urandom(length), sender=campaign.custodians[0])


@pytest.mark.parametrize("role", ["creator", "pledger", "relayer"])
def test_release_by_non_custodian_reverts(registry, revealed, creator, pledgers, relayer, role):
    campaign = revealed()
    caller = {"creator": creator, "pledger": pledgers[0], "relayer": relayer}[role]

    with reverts("NotCustodian", campaignId=campaign.id, caller=caller.address):
        registry.release(campaign.id, b"\x01", sender=caller)


def test_release_by_custodian_of_other_campaign_reverts(
    registry, revealed, create_campaign, custodians
):
    campaign = revealed(custodians=2)
    outsider = custodians[4]
    create_campaign(custodians=5)  # outsider serves this other campaign only

    with reverts("NotCustodian", campaignId=campaign.id, caller=outsider.address):
        registry.release(campaign.id, b"\x01", sender=outsider)


def test_release_checks_custodian_before_size(registry, revealed, creator):
    campaign = revealed()

    with reverts("NotCustodian", campaignId=campaign.id, caller=creator.address):
        registry.release(campaign.id, b"", sender=creator)


def test_release_open_campaign_reverts(registry, create_campaign, pledge, pledgers):
    campaign = create_campaign(threshold=2)
    pledge(campaign, pledgers[0])

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.OPEN):
        registry.release(campaign.id, b"\x01", sender=campaign.custodians[0])


def test_release_pending_campaign_reverts(registry, create_campaign, pledge_many):
    campaign = create_campaign(threshold=2, grace=DAY)
    pledge_many(campaign, 2)

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.PENDING):
        registry.release(campaign.id, b"\x01", sender=campaign.custodians[0])


def test_release_expired_campaign_reverts(registry, create_campaign, pledgers, travel):
    campaign = create_campaign()
    travel(campaign.deadline + 1)

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.EXPIRED):
        registry.release(campaign.id, b"\x01", sender=campaign.custodians[0])
    registry.expire(campaign.id, sender=pledgers[0])
    with reverts("WrongStatus", campaignId=campaign.id, status=Status.EXPIRED):
        registry.release(campaign.id, b"\x01", sender=campaign.custodians[0])


def test_release_unknown_campaign_reverts(registry, custodians):
    with reverts("UnknownCampaign", campaignId=3):
        registry.release(3, b"\x01", sender=custodians[0])
