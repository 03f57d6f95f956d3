"""Every campaign event carries ``previousBlock``, and ``campaign(id).lastEventBlock`` names the
block of the latest one, so that a reader walks a campaign's events back block by block
(issue #15, docs/protocol.md "Reading a campaign").

``assert_chain`` checks the whole rule on a campaign's receipts: the first event
(``CampaignCreated``) points to 0, every later one to the block of the event before it (the
same block for events of one block), and storage names the block of the last.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account

from .helpers import BLOCK, CIPHERTEXT_OVERHEAD, DAY, VALID_UNTIL, Sealed, Status, links, reverts

# Every event the registry emits about a campaign (not BatchItemRefused, which names none).
CAMPAIGN_EVENTS = {
    "CampaignCreated",
    "CustodianAssigned",
    "InstructionsSealed",
    "Pledged",
    "Withdrawn",
    "GraceStarted",
    "Reopened",
    "ThresholdReached",
    "Expired",
    "Admitted",
    "Released",
}


def campaign_links(receipts: list[Any], campaign_id: int) -> list[tuple[str, int, int]]:
    """(event, block, previousBlock) of one campaign's events in these receipts, in order."""
    out = []
    for receipt in receipts:
        for log in receipt.events:
            args = log.event_arguments
            if args.get("campaignId") == campaign_id and log.event_name in CAMPAIGN_EVENTS:
                out.append((log.event_name, int(log.block_number), int(args["previousBlock"])))
    return out


def assert_chain(registry: Any, campaign_id: int, receipts: list[Any]) -> list[str]:
    """Asserts the previousBlock chain of a campaign; returns its event names in order."""
    chain = campaign_links(receipts, campaign_id)
    assert chain[0][0] == "CampaignCreated"
    previous = 0
    for name, block, previous_block in chain:
        assert previous_block == previous, (name, block, previous_block, previous)
        previous = block
    assert registry.campaign(campaign_id).lastEventBlock == previous
    return [name for name, _, _ in chain]


def test_create_links_its_events_to_the_creation_block(registry, create_campaign):
    campaign = create_campaign(custodians=3)
    block = campaign.receipt.block_number

    assert links(campaign.receipt) == [
        ("CampaignCreated", block, 0),
        ("CustodianAssigned", block, block),
        ("CustodianAssigned", block, block),
        ("CustodianAssigned", block, block),
        ("InstructionsSealed", block, block),
    ]
    assert registry.campaign(campaign.id).lastEventBlock == block


def test_every_kind_of_event_points_to_the_previous_event_of_its_campaign(
    registry, create_campaign, pledge, pledgers, creator, travel, chain
):
    """Pledges, a withdrawal, a grace period that reopens, a reveal, a late pledge admitted,
    a release; another campaign's events interleaved between them are skipped."""
    campaign = create_campaign(threshold=2, grace=DAY, late=True)
    other = create_campaign(threshold=5)
    receipts = [campaign.receipt, other.receipt]
    receipts.append(pledge(other, pledgers[0]))
    receipts.append(pledge(campaign, pledgers[0]))
    receipts.append(pledge(other, pledgers[1]))
    receipts.append(pledge(campaign, pledgers[1]))  # GraceStarted
    receipts.append(registry.withdraw(campaign.id, sender=pledgers[1]))
    receipts.append(pledge(other, pledgers[2]))
    travel(chain.pending_timestamp + DAY + 1)
    receipts.append(registry.finalize(campaign.id, sender=pledgers[5]))  # Reopened
    receipts.append(pledge(campaign, pledgers[2]))  # GraceStarted again
    travel(chain.pending_timestamp + DAY + 1)
    receipts.append(registry.finalize(campaign.id, sender=pledgers[5]))  # ThresholdReached
    receipts.append(pledge(campaign, pledgers[3]))  # late
    receipts.append(registry.admit(campaign.id, [4], sender=creator))
    receipts.append(registry.release(campaign.id, b"\x01" * 64, sender=campaign.custodians[0]))

    names = assert_chain(registry, campaign.id, receipts)
    assert_chain(registry, other.id, receipts)
    assert set(names) == CAMPAIGN_EVENTS - {"Expired"}


def test_expire_points_to_the_last_pledge(registry, create_campaign, pledge, pledgers, travel):
    campaign = create_campaign(threshold=3)
    receipts = [campaign.receipt, pledge(campaign, pledgers[0])]
    travel(campaign.deadline + 1)

    receipts.append(registry.expire(campaign.id, sender=pledgers[5]))

    assert assert_chain(registry, campaign.id, receipts)[-2:] == ["Pledged", "Expired"]


def test_two_pledges_in_one_block_point_to_the_earlier_block_then_to_their_own(
    registry, create_campaign, pledge, pledgers, relayer, sign_pledge
):
    """A batch puts several events of one campaign (and of another) in one block: the first
    points back, the later ones to that same block."""
    campaign = create_campaign(threshold=2)
    other = create_campaign(threshold=9)
    first = pledge(campaign, pledgers[0])
    items = []
    for target in (campaign, other, other):
        account = Account.create()
        sealed = target.sealed()
        signature = sign_pledge(account, target.id, sealed)
        items.append((target.id, account.address, sealed.abi, VALID_UNTIL, signature))

    batch = registry.pledgeWithSigBatch(items, sender=relayer)

    block = batch.block_number
    assert links(batch) == [
        ("Pledged", block, first.block_number),
        ("ThresholdReached", block, block),
        ("Pledged", block, other.receipt.block_number),
        ("Pledged", block, block),
    ]
    assert_chain(registry, campaign.id, [campaign.receipt, first, batch])
    assert_chain(registry, other.id, [other.receipt, batch])


def test_last_event_block_leaves_the_other_fields_of_its_slot_alone(
    registry, create_campaign, pledge, pledgers, travel
):
    """deadline and graceEnd shrank to uint40 beside lastEventBlock in one slot: writing one
    must not disturb the others."""
    campaign = create_campaign(threshold=2, grace=DAY, custodians=3, t=2)
    pledge(campaign, pledgers[0])
    receipt = pledge(campaign, pledgers[1])

    info = registry.campaign(campaign.id)
    grace_end = receipt.events[-1].event_arguments["graceEnd"]
    assert grace_end == receipt.timestamp + DAY
    assert (info.deadline, info.graceEnd, info.lastEventBlock) == (
        campaign.deadline,
        grace_end,
        receipt.block_number,
    )
    assert (info.threshold, info.active, info.pledges, info.status) == (2, 2, 2, Status.PENDING)
    assert (info.custodianThreshold, len(info.custodians)) == (2, 3)


def test_create_with_a_deadline_past_uint40_reverts(registry, creator, endorse, custodians, terms):
    deadline = 2**40
    instructions = Sealed.random(n=1, t=1, ciphertext=CIPHERTEXT_OVERHEAD + BLOCK)
    with reverts("DeadlineTooLate", deadline=deadline, latest=2**40 - 1):
        registry.createCampaign(
            terms(deadline=deadline), instructions.abi, [endorse(custodians[0])], sender=creator
        )
