"""withdraw and withdrawWithSig: allowed while Open or Pending, counted at once."""

from __future__ import annotations

import pytest

from .helpers import DAY, VALID_UNTIL, Field, Status, event_names, events, recover, reverts

ZERO_ADDRESS = "0x" + "00" * 20


def test_withdraw_emits_withdrawn_and_frees_account(registry, create_campaign, pledge, pledgers):
    campaign = create_campaign(threshold=3)
    pledge(campaign, pledgers[0])
    pledge(campaign, pledgers[1])

    receipt = registry.withdraw(campaign.id, sender=pledgers[0])

    assert event_names(receipt) == ["Withdrawn"]
    assert events(receipt, "Withdrawn") == [
        {"campaignId": campaign.id, "account": pledgers[0].address, "index": 1, "active": 1}
    ]
    assert tuple(registry.pledgeOf(campaign.id, pledgers[0].address)) == (False, 1, 2)
    assert registry.activeCount(campaign.id) == 1
    assert registry.campaign(campaign.id).pledges == 2


def test_withdraw_without_pledge_reverts(registry, create_campaign, pledge, pledgers):
    campaign = create_campaign()
    pledge(campaign, pledgers[0])

    with reverts("NotPledged", campaignId=campaign.id, account=pledgers[1].address):
        registry.withdraw(campaign.id, sender=pledgers[1])


def test_withdraw_twice_reverts(registry, create_campaign, pledge, pledgers):
    campaign = create_campaign()
    pledge(campaign, pledgers[0])
    registry.withdraw(campaign.id, sender=pledgers[0])

    with reverts("NotPledged", campaignId=campaign.id, account=pledgers[0].address):
        registry.withdraw(campaign.id, sender=pledgers[0])


def test_withdraw_unknown_campaign_reverts(registry, pledgers):
    with reverts("UnknownCampaign", campaignId=1):
        registry.withdraw(1, sender=pledgers[0])


def test_withdraw_during_grace_counts(registry, create_campaign, pledge_many, pledgers):
    campaign = create_campaign(threshold=2, grace=DAY)
    pledge_many(campaign, 2)

    receipt = registry.withdraw(campaign.id, sender=pledgers[1])

    assert events(receipt, "Withdrawn")[0]["active"] == 1
    assert registry.statusOf(campaign.id) == Status.PENDING
    assert registry.activeCount(campaign.id) == 1


def test_withdraw_after_reveal_reverts(registry, create_campaign, pledge_many, pledgers):
    campaign = create_campaign(threshold=2)
    pledge_many(campaign, 2)

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.REVEALED):
        registry.withdraw(campaign.id, sender=pledgers[0])


def test_withdraw_after_deadline_reverts(registry, create_campaign, pledge, pledgers, travel):
    campaign = create_campaign()
    pledge(campaign, pledgers[0])
    travel(campaign.deadline + 1)

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.EXPIRED):
        registry.withdraw(campaign.id, sender=pledgers[0])


def test_withdraw_at_deadline_accepted(registry, create_campaign, pledge, pledgers, travel):
    campaign = create_campaign()
    pledge(campaign, pledgers[0])
    travel(campaign.deadline)

    receipt = registry.withdraw(campaign.id, sender=pledgers[0])

    assert events(receipt, "Withdrawn")[0]["active"] == 0


def test_withdraw_from_expired_campaign_reverts(
    registry, create_campaign, pledge, pledgers, travel
):
    campaign = create_campaign()
    pledge(campaign, pledgers[0])
    travel(campaign.deadline + 1)
    registry.expire(campaign.id, sender=pledgers[1])

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.EXPIRED):
        registry.withdraw(campaign.id, sender=pledgers[0])


def test_withdraw_from_pending_campaign_after_deadline_accepted(
    registry, create_campaign, pledge_many, pledgers, travel
):
    """Until finalize decides a pending campaign, its pledges can still be withdrawn."""
    campaign = create_campaign(threshold=2, grace=30 * DAY)
    pledge_many(campaign, 2)
    travel(campaign.deadline + 1)

    receipt = registry.withdraw(campaign.id, sender=pledgers[0])

    assert events(receipt, "Withdrawn")[0]["active"] == 1


# ---------------------------------------------------------------- withdrawWithSig


@pytest.fixture
def signed_pledge(registry, relayer, pledge_account, sign_pledge):
    """``signed_pledge(campaign)``: a fresh account pledges through the relayer."""

    def make(campaign):
        account = pledge_account()
        sealed = campaign.sealed()
        signature = sign_pledge(account, campaign.id, sealed)
        registry.pledgeWithSig(
            campaign.id, account.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
        )
        return account

    return make


def test_withdraw_with_sig_withdraws_for_signer(
    registry, create_campaign, relayer, signed_pledge, sign_withdraw
):
    campaign = create_campaign()
    account = signed_pledge(campaign)

    receipt = registry.withdrawWithSig(
        campaign.id,
        account.address,
        VALID_UNTIL,
        sign_withdraw(account, campaign.id),
        sender=relayer,
    )

    assert events(receipt, "Withdrawn") == [
        {"campaignId": campaign.id, "account": account.address, "index": 1, "active": 0}
    ]
    assert tuple(registry.pledgeOf(campaign.id, account.address)) == (False, 1, 2)


def test_withdraw_with_sig_replayed_reverts_not_pledged(
    registry, create_campaign, relayer, signed_pledge, sign_withdraw
):
    campaign = create_campaign()
    account = signed_pledge(campaign)
    signature = sign_withdraw(account, campaign.id)
    registry.withdrawWithSig(campaign.id, account.address, VALID_UNTIL, signature, sender=relayer)

    with reverts("NotPledged", campaignId=campaign.id, account=account.address):
        registry.withdrawWithSig(
            campaign.id, account.address, VALID_UNTIL, signature, sender=relayer
        )


def test_withdraw_with_sig_replayed_after_new_pledge_reverts(
    registry, create_campaign, relayer, signed_pledge, sign_pledge, sign_withdraw, domain
):
    """A relayer that kept an old withdrawal cannot use it against the account's new pledge."""
    campaign = create_campaign()
    account = signed_pledge(campaign)
    signature = sign_withdraw(account, campaign.id)
    registry.withdrawWithSig(campaign.id, account.address, VALID_UNTIL, signature, sender=relayer)
    sealed = campaign.sealed()
    registry.pledgeWithSig(
        campaign.id,
        account.address,
        sealed.abi,
        VALID_UNTIL,
        sign_pledge(account, campaign.id, sealed),
        sender=relayer,
    )
    signer = recover(
        signature,
        "Withdraw",
        {"campaignId": campaign.id, "nonce": 3, "validUntil": VALID_UNTIL},
        **domain,
    )

    with reverts("BadSignature", account=account.address, signer=signer):
        registry.withdrawWithSig(
            campaign.id, account.address, VALID_UNTIL, signature, sender=relayer
        )


def test_withdraw_with_sig_for_other_campaign_reverts(
    registry, create_campaign, relayer, signed_pledge, sign_pledge, sign_withdraw, domain
):
    """The account pledged in two campaigns with equal nonces; a withdrawal names one only."""
    one, two = create_campaign(), create_campaign()
    account = signed_pledge(one)
    sealed = two.sealed()
    signature = sign_pledge(account, two.id, sealed)
    registry.pledgeWithSig(
        two.id, account.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
    )
    signature = sign_withdraw(account, one.id)
    signer = recover(
        signature,
        "Withdraw",
        {"campaignId": two.id, "nonce": 1, "validUntil": VALID_UNTIL},
        **domain,
    )

    with reverts("BadSignature", account=account.address, signer=signer):
        registry.withdrawWithSig(two.id, account.address, VALID_UNTIL, signature, sender=relayer)
    assert tuple(registry.pledgeOf(two.id, account.address)) == (True, 1, 1)


def test_withdraw_with_sig_by_other_account_reverts(
    registry, create_campaign, relayer, signed_pledge, pledge_account, sign_withdraw
):
    campaign = create_campaign()
    account, thief = signed_pledge(campaign), pledge_account()

    with reverts("BadSignature", account=account.address, signer=thief.address):
        registry.withdrawWithSig(
            campaign.id,
            account.address,
            VALID_UNTIL,
            sign_withdraw(thief, campaign.id, nonce=1),
            sender=relayer,
        )


@pytest.mark.parametrize(
    "other_domain",
    [{"chain_id": 1}, {"registry": "0x" + "5a" * 20}],
    ids=["other-chain", "other-registry"],
)
def test_withdraw_with_sig_for_other_domain_reverts(
    registry, create_campaign, relayer, signed_pledge, sign_withdraw, domain, other_domain
):
    campaign = create_campaign()
    account = signed_pledge(campaign)
    signature = sign_withdraw(account, campaign.id, **other_domain)
    signer = recover(
        signature,
        "Withdraw",
        {"campaignId": campaign.id, "nonce": 1, "validUntil": VALID_UNTIL},
        **domain,
    )

    with reverts("BadSignature", account=account.address, signer=signer):
        registry.withdrawWithSig(
            campaign.id, account.address, VALID_UNTIL, signature, sender=relayer
        )


@pytest.mark.parametrize("length", [0, 64, 66])
def test_withdraw_with_sig_bad_signature_length_reverts(
    registry, create_campaign, relayer, signed_pledge, sign_withdraw, length
):
    campaign = create_campaign()
    account = signed_pledge(campaign)
    signature = (sign_withdraw(account, campaign.id) + bytes(1))[:length]

    with reverts("BadLength", field=Field.SIGNATURE, length=length, expected=65):
        registry.withdrawWithSig(
            campaign.id, account.address, VALID_UNTIL, signature, sender=relayer
        )


def test_withdraw_with_sig_unrecoverable_signature_reverts(
    registry, create_campaign, relayer, signed_pledge
):
    campaign = create_campaign()
    account = signed_pledge(campaign)

    with reverts("BadSignature", account=account.address, signer=ZERO_ADDRESS):
        registry.withdrawWithSig(
            campaign.id, account.address, VALID_UNTIL, bytes(65), sender=relayer
        )


def test_withdraw_with_sig_after_reveal_reverts(
    registry, create_campaign, relayer, signed_pledge, sign_withdraw
):
    campaign = create_campaign(threshold=2)
    account = signed_pledge(campaign)
    signed_pledge(campaign)

    with reverts("WrongStatus", campaignId=campaign.id, status=Status.REVEALED):
        registry.withdrawWithSig(
            campaign.id,
            account.address,
            VALID_UNTIL,
            sign_withdraw(account, campaign.id),
            sender=relayer,
        )
