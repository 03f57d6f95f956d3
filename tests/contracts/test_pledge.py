"""pledge and pledgeWithSig: sizes, indices, nonces, signatures, closing time."""

from __future__ import annotations

import pytest
from eth_account import Account

from .helpers import (
    DAY,
    PLEDGE_CIPHERTEXT,
    VALID_UNTIL,
    Field,
    Sealed,
    Status,
    event_names,
    events,
    recover,
    reverts,
)

ZERO_ADDRESS = "0x" + "00" * 20


def pledged_event(campaign, account, index, sealed, active):
    return {
        "campaignId": campaign.id,
        "account": account,
        "index": index,
        "memberKey": sealed.member_key,
        "ciphertext": sealed.ciphertext,
        "boxes": sealed.boxes,
        "commitment": sealed.commitment,
        "active": active,
    }


# ---------------------------------------------------------------- pledge


def test_pledge_emits_pledged_with_indices_from_one(registry, create_campaign, pledgers):
    campaign = create_campaign(threshold=3)
    first, second = campaign.sealed(), campaign.sealed()

    receipts = [
        registry.pledge(campaign.id, first.abi, sender=pledgers[0]),
        registry.pledge(campaign.id, second.abi, sender=pledgers[1]),
    ]

    assert [events(r, "Pledged") for r in receipts] == [
        [pledged_event(campaign, pledgers[0].address, 1, first, 1)],
        [pledged_event(campaign, pledgers[1].address, 2, second, 2)],
    ]
    assert [event_names(r) for r in receipts] == [["Pledged"], ["Pledged"]]


def test_pledge_records_pledge_and_counts(registry, create_campaign, pledge, pledgers):
    campaign = create_campaign(threshold=3)

    pledge(campaign, pledgers[0])
    pledge(campaign, pledgers[1])

    assert tuple(registry.pledgeOf(campaign.id, pledgers[1].address)) == (True, 2, 1)
    assert registry.nonceOf(campaign.id, pledgers[1].address) == 1
    assert registry.activeCount(campaign.id) == 2
    info = registry.campaign(campaign.id)
    assert (info.active, info.pledges, info.status) == (2, 2, Status.OPEN)


def test_pledge_counts_per_campaign(registry, create_campaign, pledge, pledgers):
    one, two = create_campaign(), create_campaign()

    pledge(one, pledgers[0])
    receipt = pledge(two, pledgers[0])

    assert events(receipt, "Pledged")[0]["index"] == 1
    assert tuple(registry.pledgeOf(one.id, pledgers[0].address)) == (True, 1, 1)
    assert tuple(registry.pledgeOf(two.id, pledgers[0].address)) == (True, 1, 1)


def test_pledge_after_withdrawal_gets_new_index(registry, create_campaign, pledge, pledgers):
    campaign = create_campaign(threshold=4)
    pledge(campaign, pledgers[0])
    pledge(campaign, pledgers[1])
    registry.withdraw(campaign.id, sender=pledgers[0])

    receipt = pledge(campaign, pledgers[0])

    assert events(receipt, "Pledged")[0]["index"] == 3
    assert events(receipt, "Pledged")[0]["active"] == 2
    assert tuple(registry.pledgeOf(campaign.id, pledgers[0].address)) == (True, 3, 3)


def test_pledge_twice_reverts(registry, create_campaign, pledge, pledgers):
    campaign = create_campaign()
    pledge(campaign, pledgers[0])

    with reverts("AlreadyPledged", campaignId=campaign.id, account=pledgers[0].address):
        pledge(campaign, pledgers[0])


@pytest.mark.parametrize("campaign_id", [0, 2])
def test_pledge_unknown_campaign_reverts(registry, create_campaign, pledgers, campaign_id):
    create_campaign()

    with reverts("UnknownCampaign", campaignId=campaign_id):
        registry.pledge(campaign_id, Sealed.random().abi, sender=pledgers[0])


def test_pledge_zero_member_key_reverts(create_campaign, pledge, pledgers):
    campaign = create_campaign()

    with reverts("ZeroKey"):
        pledge(campaign, pledgers[0], campaign.sealed().replace(member_key=bytes(32)))


@pytest.mark.parametrize("length", [0, 295, 297, 40 + 2 * 256])
def test_pledge_bad_ciphertext_length_reverts(create_campaign, pledge, pledgers, length):
    campaign = create_campaign()

    with reverts("BadLength", field=Field.CIPHERTEXT, length=length, expected=PLEDGE_CIPHERTEXT):
        pledge(campaign, pledgers[0], Sealed.random(ciphertext=length))


@pytest.mark.parametrize(
    ("n", "t", "length", "expected"),
    [(1, 1, 0, 112), (1, 1, 113, 112), (2, 1, 226, 224), (3, 2, 336, 339), (5, 5, 560, 565)],
)
def test_pledge_bad_boxes_length_reverts(create_campaign, pledge, pledgers, n, t, length, expected):
    campaign = create_campaign(custodians=n, t=t)

    with reverts("BadLength", field=Field.BOXES, length=length, expected=expected):
        pledge(campaign, pledgers[0], Sealed.random(boxes=length))


@pytest.mark.parametrize(("n", "t"), [(1, 1), (2, 1), (3, 2), (5, 5)])
def test_pledge_boxes_for_every_custodian_accepted(
    registry, create_campaign, pledge, pledgers, n, t
):
    campaign = create_campaign(custodians=n, t=t)
    sealed = campaign.sealed()
    assert len(sealed.boxes) == n * (112 if t == 1 else 113)

    receipt = pledge(campaign, pledgers[0], sealed)

    assert events(receipt, "Pledged")[0]["boxes"] == sealed.boxes


def test_pledge_at_deadline_accepted(registry, create_campaign, pledge, pledgers, travel):
    campaign = create_campaign()
    travel(campaign.deadline)

    receipt = pledge(campaign, pledgers[0])

    assert events(receipt, "Pledged")[0]["index"] == 1


def test_pledge_after_deadline_reverts(create_campaign, pledge, pledgers, travel):
    campaign = create_campaign()
    travel(campaign.deadline + 1)

    with reverts(
        "CampaignClosed", campaignId=campaign.id, status=Status.EXPIRED, deadline=campaign.deadline
    ):
        pledge(campaign, pledgers[0])


def test_pledge_to_expired_campaign_reverts(registry, create_campaign, pledge, pledgers, travel):
    campaign = create_campaign()
    travel(campaign.deadline + 1)
    registry.expire(campaign.id, sender=pledgers[1])

    with reverts(
        "CampaignClosed", campaignId=campaign.id, status=Status.EXPIRED, deadline=campaign.deadline
    ):
        pledge(campaign, pledgers[0])


def test_pledge_to_pending_campaign_after_deadline_reverts(
    create_campaign, pledge_many, pledge, pledgers, travel
):
    campaign = create_campaign(threshold=2, grace=30 * DAY)
    pledge_many(campaign, 2)
    travel(campaign.deadline + 1)

    with reverts(
        "CampaignClosed", campaignId=campaign.id, status=Status.PENDING, deadline=campaign.deadline
    ):
        pledge(campaign, pledgers[2])


def test_pledge_after_reveal_reverts_campaign_closed(
    create_campaign, pledge_many, pledge, pledgers
):
    """#12: joining closes at the reveal unless the campaign takes late pledges."""
    campaign = create_campaign(threshold=2)
    pledge_many(campaign, 2)

    with reverts(
        "CampaignClosed", campaignId=campaign.id, status=Status.REVEALED, deadline=campaign.deadline
    ):
        pledge(campaign, pledgers[2])


def test_pledge_to_revealed_campaign_after_deadline_reverts(
    create_campaign, pledge_many, pledge, pledgers, travel
):
    campaign = create_campaign(threshold=2)
    pledge_many(campaign, 2)
    travel(campaign.deadline + 1)

    with reverts(
        "CampaignClosed", campaignId=campaign.id, status=Status.REVEALED, deadline=campaign.deadline
    ):
        pledge(campaign, pledgers[2])


# ---------------------------------------------------------------- pledgeWithSig


def test_pledge_with_sig_pledges_for_signer(
    registry, create_campaign, relayer, pledge_account, sign_pledge
):
    campaign = create_campaign()
    account = pledge_account()
    sealed = campaign.sealed()
    signature = sign_pledge(account, campaign.id, sealed)

    receipt = registry.pledgeWithSig(
        campaign.id, account.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
    )

    assert events(receipt, "Pledged") == [pledged_event(campaign, account.address, 1, sealed, 1)]
    assert tuple(registry.pledgeOf(campaign.id, account.address)) == (True, 1, 1)
    assert tuple(registry.pledgeOf(campaign.id, relayer.address)) == (False, 0, 0)


def test_pledge_with_sig_replayed_reverts_already_pledged(
    registry, create_campaign, relayer, pledge_account, sign_pledge
):
    campaign = create_campaign()
    account = pledge_account()
    sealed = campaign.sealed()
    signature = sign_pledge(account, campaign.id, sealed)
    registry.pledgeWithSig(
        campaign.id, account.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
    )

    with reverts("AlreadyPledged", campaignId=campaign.id, account=account.address):
        registry.pledgeWithSig(
            campaign.id, account.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
        )


def test_pledge_with_sig_replayed_after_withdrawal_reverts(
    registry, create_campaign, relayer, pledge_account, sign_pledge, sign_withdraw, domain
):
    campaign = create_campaign()
    account = pledge_account()
    sealed = campaign.sealed()
    signature = sign_pledge(account, campaign.id, sealed)
    registry.pledgeWithSig(
        campaign.id, account.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
    )
    registry.withdrawWithSig(
        campaign.id,
        account.address,
        VALID_UNTIL,
        sign_withdraw(account, campaign.id),
        sender=relayer,
    )
    signer = recover(signature, "Pledge", sealed.message(campaign.id, 2, VALID_UNTIL), **domain)
    assert signer != account.address

    with reverts("BadSignature", account=account.address, signer=signer):
        registry.pledgeWithSig(
            campaign.id, account.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
        )


def test_pledge_with_sig_for_other_campaign_reverts(
    registry, create_campaign, relayer, pledge_account, sign_pledge, domain
):
    signed_for, other = create_campaign(), create_campaign()
    account = pledge_account()
    sealed = signed_for.sealed()
    signature = sign_pledge(account, signed_for.id, sealed)
    signer = recover(signature, "Pledge", sealed.message(other.id, 0, VALID_UNTIL), **domain)

    with reverts("BadSignature", account=account.address, signer=signer):
        registry.pledgeWithSig(
            other.id, account.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
        )


@pytest.mark.parametrize("field", ["member_key", "ciphertext", "boxes", "commitment"])
def test_pledge_with_sig_altered_pledge_reverts(
    registry, create_campaign, relayer, pledge_account, sign_pledge, domain, field
):
    campaign = create_campaign()
    account = pledge_account()
    sealed = campaign.sealed()
    signature = sign_pledge(account, campaign.id, sealed)
    altered = sealed.replace(**{field: getattr(campaign.sealed(), field)})
    signer = recover(signature, "Pledge", altered.message(campaign.id, 0, VALID_UNTIL), **domain)

    with reverts("BadSignature", account=account.address, signer=signer):
        registry.pledgeWithSig(
            campaign.id, account.address, altered.abi, VALID_UNTIL, signature, sender=relayer
        )


def test_pledge_with_sig_by_other_account_reverts(
    registry, create_campaign, relayer, pledge_account, sign_pledge
):
    campaign = create_campaign()
    account, thief = pledge_account(), pledge_account()
    sealed = campaign.sealed()
    signature = sign_pledge(thief, campaign.id, sealed, nonce=0)

    with reverts("BadSignature", account=account.address, signer=thief.address):
        registry.pledgeWithSig(
            campaign.id, account.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
        )


def test_pledge_with_sig_future_nonce_reverts(
    registry, create_campaign, relayer, pledge_account, sign_pledge, domain
):
    campaign = create_campaign()
    account = pledge_account()
    sealed = campaign.sealed()
    signature = sign_pledge(account, campaign.id, sealed, nonce=1)
    signer = recover(signature, "Pledge", sealed.message(campaign.id, 0, VALID_UNTIL), **domain)

    with reverts("BadSignature", account=account.address, signer=signer):
        registry.pledgeWithSig(
            campaign.id, account.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
        )


@pytest.mark.parametrize(
    "other_domain",
    [{"chain_id": 1}, {"registry": "0x" + "5a" * 20}],
    ids=["other-chain", "other-registry"],
)
def test_pledge_with_sig_for_other_domain_reverts(
    registry, create_campaign, relayer, pledge_account, sign_pledge, domain, other_domain
):
    campaign = create_campaign()
    account = pledge_account()
    sealed = campaign.sealed()
    signature = sign_pledge(account, campaign.id, sealed, **other_domain)
    signer = recover(signature, "Pledge", sealed.message(campaign.id, 0, VALID_UNTIL), **domain)

    with reverts("BadSignature", account=account.address, signer=signer):
        registry.pledgeWithSig(
            campaign.id, account.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
        )


@pytest.mark.parametrize("account", ["fresh", ZERO_ADDRESS])
def test_pledge_with_sig_unrecoverable_signature_reverts(
    registry, create_campaign, relayer, pledge_account, account
):
    """Nothing recovers from a zero signature; account 0 does not match it either."""
    campaign = create_campaign()
    address = pledge_account().address if account == "fresh" else account

    with reverts("BadSignature", account=address, signer=ZERO_ADDRESS):
        registry.pledgeWithSig(
            campaign.id, address, campaign.sealed().abi, VALID_UNTIL, bytes(65), sender=relayer
        )


@pytest.mark.parametrize("length", [0, 64, 66])
def test_pledge_with_sig_bad_signature_length_reverts(
    registry, create_campaign, relayer, pledge_account, sign_pledge, length
):
    campaign = create_campaign()
    account = pledge_account()
    sealed = campaign.sealed()
    signature = (sign_pledge(account, campaign.id, sealed) + bytes(1))[:length]

    with reverts("BadLength", field=Field.SIGNATURE, length=length, expected=65):
        registry.pledgeWithSig(
            campaign.id, account.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
        )


def test_pledge_with_sig_checks_sizes_before_signature(
    registry, create_campaign, relayer, pledge_account
):
    campaign = create_campaign()
    account = pledge_account()

    with reverts("BadLength", field=Field.CIPHERTEXT, length=0, expected=PLEDGE_CIPHERTEXT):
        registry.pledgeWithSig(
            campaign.id,
            account.address,
            Sealed.random(ciphertext=0).abi,
            VALID_UNTIL,
            b"",
            sender=relayer,
        )


def test_pledge_with_sig_after_deadline_reverts(
    registry, create_campaign, relayer, pledge_account, sign_pledge, travel
):
    campaign = create_campaign()
    account = pledge_account()
    sealed = campaign.sealed()
    signature = sign_pledge(account, campaign.id, sealed)
    travel(campaign.deadline + 1)

    with reverts(
        "CampaignClosed", campaignId=campaign.id, status=Status.EXPIRED, deadline=campaign.deadline
    ):
        registry.pledgeWithSig(
            campaign.id, account.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
        )


def test_pledge_nonce_counts_direct_and_signed_actions(
    registry, create_campaign, pledgers, relayer, sign_pledge, sign_withdraw
):
    """Every pledge and withdrawal of a (campaign, account) pair, signed or not, uses a nonce."""
    campaign = create_campaign(threshold=5)
    pledger = pledgers[0]
    signer = Account.from_key(pledger.private_key)  # the same account, signing off-chain
    nonces = []

    registry.pledge(campaign.id, campaign.sealed().abi, sender=pledger)
    nonces.append(registry.nonceOf(campaign.id, pledger.address))
    signature = sign_withdraw(signer, campaign.id)
    registry.withdrawWithSig(campaign.id, pledger.address, VALID_UNTIL, signature, sender=relayer)
    nonces.append(registry.nonceOf(campaign.id, pledger.address))
    sealed = campaign.sealed()
    signature = sign_pledge(signer, campaign.id, sealed)
    registry.pledgeWithSig(
        campaign.id, pledger.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
    )
    nonces.append(registry.nonceOf(campaign.id, pledger.address))
    registry.withdraw(campaign.id, sender=pledger)
    nonces.append(registry.nonceOf(campaign.id, pledger.address))

    assert nonces == [1, 2, 3, 4]
    assert tuple(registry.pledgeOf(campaign.id, pledger.address)) == (False, 2, 4)
