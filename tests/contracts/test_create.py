"""createCampaign: terms, custodians and their endorsements, sealed instructions."""

from __future__ import annotations

import pytest
from ape.contracts import ContractContainer
from ape.exceptions import ContractLogicError
from eth_utils import to_checksum_address

from .helpers import (
    BLOCK,
    CIPHERTEXT_OVERHEAD,
    DAY,
    MAX_INSTRUCTIONS,
    PUBLIC,
    Field,
    Sealed,
    Status,
    event_names,
    events,
    metadata_hash,
    rand32,
    recover,
    reverts,
)

ZERO_ADDRESS = "0x" + "00" * 20
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def instructions_for(n: int = 1, t: int = 1, blocks: int = 1) -> Sealed:
    return Sealed.random(n=n, t=t, ciphertext=CIPHERTEXT_OVERHEAD + BLOCK * blocks)


def test_create_emits_campaign_custodians_and_instructions(
    registry, creator, custodians, endorse, terms
):
    endorsements = [endorse(c) for c in custodians[:3]]
    campaign_terms = terms(threshold=4, grace=3_600, t=2, roster=PUBLIC, late=True)
    instructions = instructions_for(n=3, t=2, blocks=2)

    receipt = registry.createCampaign(
        campaign_terms, instructions.abi, endorsements, sender=creator
    )

    assert event_names(receipt) == [
        "CampaignCreated",
        "CustodianAssigned",
        "CustodianAssigned",
        "CustodianAssigned",
        "InstructionsSealed",
    ]
    assert events(receipt, "CampaignCreated") == [
        {
            "campaignId": 1,
            "creator": creator.address,
            "terms": list(campaign_terms),
            "metadataHash": metadata_hash(campaign_terms),
        }
    ]
    assert events(receipt, "CustodianAssigned") == [
        {
            "campaignId": 1,
            "custodian": custodian,
            "index": index,
            "campaignKey": key,
            "expiry": expiry,
            "signature": signature,
        }
        for index, (custodian, key, expiry, signature) in enumerate(endorsements)
    ]
    assert events(receipt, "InstructionsSealed") == [
        {"campaignId": 1, "instructions": list(instructions.abi)}
    ]


def test_create_stores_terms_and_counters(registry, creator, custodians, create_campaign):
    campaign = create_campaign(threshold=4, custodians=3, t=2, grace=3_600, roster=PUBLIC)

    info = registry.campaign(campaign.id)

    assert info.status == Status.OPEN
    assert info.creator == creator.address
    assert (info.threshold, info.active, info.pledges) == (4, 0, 0)
    assert (info.deadline, info.gracePeriod, info.graceEnd) == (campaign.deadline, 3_600, 0)
    assert (info.custodianThreshold, info.rosterMode) == (2, PUBLIC)
    assert info.metadataHash == metadata_hash(campaign.terms)
    assert info.custodians == [c.address for c in custodians[:3]]
    assert registry.statusOf(campaign.id) == Status.OPEN
    assert registry.thresholdOf(campaign.id) == 4
    assert registry.activeCount(campaign.id) == 0


def test_create_marks_campaign_keys_used(registry, create_campaign):
    fresh = rand32()
    campaign = create_campaign(custodians=2)

    assert [registry.keyUsed(key) for key in campaign.keys] == [True, True]
    assert not registry.keyUsed(fresh)


def test_create_numbers_campaigns_from_one(
    registry, creator, custodians, endorse, terms, create_campaign
):
    assert registry.campaignCount() == 0
    args = (terms(), instructions_for().abi, [endorse(custodians[0])])
    assert registry.createCampaign.call(*args, sender=creator) == 1

    first, second = create_campaign(), create_campaign()

    assert (first.id, second.id) == (1, 2)
    assert registry.campaignCount() == 2


def test_create_accepts_largest_sizes(registry, creator, custodians, endorse, terms, now):
    endorsements = [endorse(c) for c in custodians]
    campaign_terms = terms(title="é" * 100, description="d" * 4_000, plan="p" * 4_000, t=5)
    instructions = instructions_for(n=5, t=5, blocks=16)
    assert len(instructions.ciphertext) == MAX_INSTRUCTIONS

    receipt = registry.createCampaign(
        campaign_terms, instructions.abi, endorsements, sender=creator
    )

    (created,) = events(receipt, "CampaignCreated")
    assert created["terms"] == list(campaign_terms)
    assert registry.campaign(created["campaignId"]).custodians == [c.address for c in custodians]


def test_create_accepts_smallest_sizes(registry, creator, custodians, endorse, terms):
    campaign_terms = terms(title="x", description="", plan="", threshold=2)

    receipt = registry.createCampaign(
        campaign_terms, instructions_for().abi, [endorse(custodians[0])], sender=creator
    )

    assert events(receipt, "CampaignCreated")[0]["terms"] == list(campaign_terms)


def test_create_accepts_endorsement_expiring_in_this_block(
    registry, creator, custodians, endorse, terms, now
):
    expiry = now()

    receipt = registry.createCampaign(
        terms(), instructions_for().abi, [endorse(custodians[0], expiry=expiry)], sender=creator
    )

    assert events(receipt, "CustodianAssigned")[0]["custodian"] == custodians[0].address


@pytest.mark.parametrize(
    ("field", "text", "length", "expected"),
    [
        (Field.TITLE, {"title": ""}, 0, 200),
        (Field.TITLE, {"title": "x" * 201}, 201, 200),
        (Field.TITLE, {"title": "é" * 101}, 202, 200),
        (Field.DESCRIPTION, {"description": "d" * 4_001}, 4_001, 4_000),
        (Field.PLAN, {"plan": "p" * 4_001}, 4_001, 4_000),
    ],
    ids=["empty-title", "long-title", "long-utf8-title", "long-description", "long-plan"],
)
def test_create_bad_text_length_reverts(
    registry, creator, custodians, endorse, terms, field, text, length, expected
):
    with reverts("BadLength", field=field, length=length, expected=expected):
        registry.createCampaign(
            terms(**text), instructions_for().abi, [endorse(custodians[0])], sender=creator
        )


@pytest.mark.parametrize("threshold", [0, 1])
def test_create_threshold_below_two_reverts(
    registry, creator, custodians, endorse, terms, threshold
):
    with reverts("ThresholdTooLow", threshold=threshold):
        registry.createCampaign(
            terms(threshold=threshold),
            instructions_for().abi,
            [endorse(custodians[0])],
            sender=creator,
        )


@pytest.mark.parametrize("before", [0, 1, DAY])
def test_create_deadline_not_in_future_reverts(
    registry, creator, custodians, endorse, terms, now, travel, before
):
    when = now() + 100
    travel(when)
    deadline = when - before

    with reverts("DeadlineNotInFuture", deadline=deadline, timestamp=when):
        registry.createCampaign(
            terms(deadline=deadline),
            instructions_for().abi,
            [endorse(custodians[0])],
            sender=creator,
        )


def test_create_without_custodians_reverts(registry, creator, terms):
    with reverts("BadCustodianCount", count=0):
        registry.createCampaign(terms(), instructions_for().abi, [], sender=creator)


def test_create_six_custodians_reverts(registry, creator, custodians, pledgers, endorse, terms):
    endorsements = [endorse(c) for c in [*custodians, pledgers[0]]]

    with reverts("BadCustodianCount", count=6):
        registry.createCampaign(terms(), instructions_for(n=6).abi, endorsements, sender=creator)


@pytest.mark.parametrize(("t", "n"), [(0, 1), (2, 1), (3, 2), (6, 5)])
def test_create_bad_custodian_threshold_reverts(
    registry, creator, custodians, endorse, terms, t, n
):
    endorsements = [endorse(c) for c in custodians[:n]]

    with reverts("BadCustodianThreshold", custodianThreshold=t, custodianCount=n):
        registry.createCampaign(terms(t=t), instructions_for(n=n).abi, endorsements, sender=creator)


def test_create_duplicate_custodian_reverts(registry, creator, custodians, endorse, terms):
    first, second = custodians[:2]
    endorsements = [endorse(first), endorse(second), endorse(first)]

    with reverts("DuplicateCustodian", custodian=first.address):
        registry.createCampaign(terms(), instructions_for(n=3).abi, endorsements, sender=creator)


def test_create_expired_endorsement_reverts(
    registry, creator, custodians, endorse, terms, now, travel
):
    when = now() + 100
    endorsements = [endorse(custodians[0]), endorse(custodians[1], expiry=when - 1)]
    travel(when)

    with reverts("EndorsementExpired", index=1, expiry=when - 1, timestamp=when):
        registry.createCampaign(terms(), instructions_for(n=2).abi, endorsements, sender=creator)


def test_create_endorsement_by_wrong_signer_reverts(registry, creator, custodians, endorse, terms):
    named, impostor = custodians[:2]

    with reverts("BadEndorsement", index=0, custodian=named.address, signer=impostor.address):
        registry.createCampaign(
            terms(), instructions_for().abi, [endorse(named, signer=impostor)], sender=creator
        )


def test_create_endorsement_by_creator_for_custodian_reverts(
    registry, creator, custodians, endorse, terms
):
    """The honeypot attack: a creator lists a reputable custodian with a key of its own."""
    endorsements = [endorse(custodians[0]), endorse(custodians[1], signer=creator)]

    with reverts(
        "BadEndorsement", index=1, custodian=custodians[1].address, signer=creator.address
    ):
        registry.createCampaign(terms(), instructions_for(n=2).abi, endorsements, sender=creator)


@pytest.mark.parametrize(
    "other_domain",
    [{"chain_id": 1}, {"registry": "0x" + "5a" * 20}],
    ids=["other-chain", "other-registry"],
)
def test_create_endorsement_for_other_domain_reverts(
    registry, creator, custodians, endorse, terms, domain, other_domain
):
    custodian = custodians[0]
    endorsement = endorse(custodian, **other_domain)
    _, key, expiry, signature = endorsement
    signer = recover(signature, "Endorsement", {"campaignKey": key, "expiry": expiry}, **domain)
    assert signer != custodian.address

    with reverts("BadEndorsement", index=0, custodian=custodian.address, signer=signer):
        registry.createCampaign(terms(), instructions_for().abi, [endorsement], sender=creator)


def test_create_endorsement_works_on_its_own_registry_only(
    registry, creator, custodians, endorse, terms, relayer, chain
):
    """A second deployment of the same code refuses an endorsement signed for the first."""
    second = ContractContainer(registry.contract_type).deploy(registry.groups(), sender=relayer)
    endorsement = endorse(custodians[0])
    _, key, expiry, signature = endorsement
    message = {"campaignKey": key, "expiry": expiry}
    signer = recover(
        signature, "Endorsement", message, chain_id=chain.chain_id, registry=second.address
    )

    with reverts("BadEndorsement", index=0, custodian=custodians[0].address, signer=signer):
        second.createCampaign(terms(), instructions_for().abi, [endorsement], sender=creator)
    receipt = registry.createCampaign(
        terms(), instructions_for().abi, [endorsement], sender=creator
    )
    assert events(receipt, "CustodianAssigned")[0]["campaignKey"] == key


@pytest.mark.parametrize("kind", ["zero", "high-s", "bad-v"])
def test_create_invalid_endorsement_signature_reverts_with_zero_signer(
    registry, creator, custodians, endorse, terms, kind
):
    custodian, key, expiry, signature = endorse(custodians[0])
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    if kind == "zero":
        signature = bytes(65)
    elif kind == "high-s":  # the same signature, malleated: ecrecover would accept it
        signature = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
    else:
        signature = signature[:64] + bytes([29])

    with reverts("BadEndorsement", index=0, custodian=custodian, signer=ZERO_ADDRESS):
        registry.createCampaign(
            terms(), instructions_for().abi, [(custodian, key, expiry, signature)], sender=creator
        )


@pytest.mark.parametrize("length", [0, 64, 66])
def test_create_endorsement_signature_bad_length_reverts(
    registry, creator, custodians, endorse, terms, length
):
    custodian, key, expiry, signature = endorse(custodians[0])
    signature = (signature + bytes(1))[:length]

    with reverts("BadLength", field=Field.SIGNATURE, length=length, expected=65):
        registry.createCampaign(
            terms(), instructions_for().abi, [(custodian, key, expiry, signature)], sender=creator
        )


def test_create_campaign_key_reused_across_campaigns_reverts(
    registry, creator, custodians, endorse, terms, create_campaign
):
    used = create_campaign().keys[0]

    for custodian in custodians[:2]:  # neither the same custodian nor another may reuse it
        with reverts("CampaignKeyUsed", campaignKey=used):
            registry.createCampaign(
                terms(), instructions_for().abi, [endorse(custodian, key=used)], sender=creator
            )


def test_create_campaign_key_twice_in_one_campaign_reverts(
    registry, creator, custodians, endorse, terms
):
    key = rand32()
    endorsements = [endorse(custodians[0], key=key), endorse(custodians[1], key=key)]

    with reverts("CampaignKeyUsed", campaignKey=key):
        registry.createCampaign(terms(), instructions_for(n=2).abi, endorsements, sender=creator)


def test_create_failure_leaves_keys_unused(registry, creator, custodians, endorse, terms):
    good = endorse(custodians[0])
    bad = endorse(custodians[1], signer=custodians[2])

    with reverts("BadEndorsement", index=1, custodian=bad[0], signer=custodians[2].address):
        registry.createCampaign(terms(), instructions_for(n=2).abi, [good, bad], sender=creator)

    assert not registry.keyUsed(good[1])
    assert registry.campaignCount() == 0


def test_create_zero_campaign_key_reverts(registry, creator, custodians, endorse, terms):
    with reverts("ZeroKey"):
        registry.createCampaign(
            terms(), instructions_for().abi, [endorse(custodians[0], key=bytes(32))], sender=creator
        )


def test_create_zero_organiser_key_reverts(registry, creator, custodians, endorse, terms):
    instructions = instructions_for().replace(member_key=bytes(32))

    with reverts("ZeroKey"):
        registry.createCampaign(terms(), instructions.abi, [endorse(custodians[0])], sender=creator)


@pytest.mark.parametrize(
    "length", [0, 40, 295, 297, 40 + 2 * BLOCK - 1, 40 + 2 * BLOCK + 1, MAX_INSTRUCTIONS + BLOCK]
)
def test_create_bad_instructions_ciphertext_reverts(
    registry, creator, custodians, endorse, terms, length
):
    instructions = Sealed.random(ciphertext=length)

    with reverts("BadLength", field=Field.CIPHERTEXT, length=length, expected=MAX_INSTRUCTIONS):
        registry.createCampaign(terms(), instructions.abi, [endorse(custodians[0])], sender=creator)


@pytest.mark.parametrize(
    ("n", "t", "length", "expected"),
    [(1, 1, 0, 112), (1, 1, 113, 112), (2, 1, 226, 224), (2, 2, 224, 226), (5, 3, 564, 565)],
)
def test_create_bad_instructions_boxes_reverts(
    registry, creator, custodians, endorse, terms, n, t, length, expected
):
    instructions = Sealed.random(n=n, t=t, boxes=length)
    endorsements = [endorse(c) for c in custodians[:n]]

    with reverts("BadLength", field=Field.BOXES, length=length, expected=expected):
        registry.createCampaign(terms(t=t), instructions.abi, endorsements, sender=creator)


def test_create_unknown_roster_mode_reverts(registry, creator, custodians, endorse, terms):
    with pytest.raises(ContractLogicError):
        registry.createCampaign(
            terms(roster=2), instructions_for().abi, [endorse(custodians[0])], sender=creator
        )


def test_create_records_sender_as_creator(registry, pledgers, custodians, endorse, terms):
    someone = pledgers[0]

    receipt = registry.createCampaign(
        terms(), instructions_for().abi, [endorse(custodians[0])], sender=someone
    )

    assert events(receipt, "CampaignCreated")[0]["creator"] == someone.address
    assert registry.campaign(1).creator == to_checksum_address(someone.address)
