"""Signed messages expire (#13 §5) and batches of them (#13 §6): one bad item sinks nothing."""

from __future__ import annotations

from eth_utils import keccak

from .helpers import MAX_BATCH, VALID_UNTIL, Status, event_names, events, recover, reverts


def selector(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


ALREADY_PLEDGED = selector("AlreadyPledged(uint256,address)")
BAD_SIGNATURE = selector("BadSignature(address,address)")
SIGNATURE_EXPIRED = selector("SignatureExpired(uint64,uint256)")
BAD_LENGTH = selector("BadLength(uint8,uint256,uint256)")
CAMPAIGN_CLOSED = selector("CampaignClosed(uint256,uint8,uint64)")
NOT_PLEDGED = selector("NotPledged(uint256,address)")


def test_pledge_with_expired_signature_reverts(
    registry, create_campaign, relayer, pledge_account, sign_pledge, now
):
    campaign = create_campaign()
    account = pledge_account()
    sealed = campaign.sealed()
    valid_until = now() - 1
    signature = sign_pledge(account, campaign.id, sealed, valid_until=valid_until)

    with reverts("SignatureExpired", validUntil=valid_until, timestamp=now()):
        registry.pledgeWithSig(
            campaign.id, account.address, sealed.abi, valid_until, signature, sender=relayer
        )


def test_pledge_with_signature_at_valid_until_accepted(
    registry, create_campaign, relayer, pledge_account, sign_pledge, now
):
    campaign = create_campaign()
    account = pledge_account()
    sealed = campaign.sealed()
    valid_until = now()
    signature = sign_pledge(account, campaign.id, sealed, valid_until=valid_until)

    receipt = registry.pledgeWithSig(
        campaign.id, account.address, sealed.abi, valid_until, signature, sender=relayer
    )

    assert event_names(receipt) == ["Pledged"]


def test_pledge_with_extended_valid_until_reverts_bad_signature(
    registry, create_campaign, relayer, pledge_account, sign_pledge, now, domain
):
    """validUntil is signed: a relayer cannot stretch it."""
    campaign = create_campaign()
    account = pledge_account()
    sealed = campaign.sealed()
    signature = sign_pledge(account, campaign.id, sealed, valid_until=now() + 60)
    stretched = now() + 3_600
    signer = recover(signature, "Pledge", sealed.message(campaign.id, 0, stretched), **domain)

    with reverts("BadSignature", account=account.address, signer=signer):
        registry.pledgeWithSig(
            campaign.id, account.address, sealed.abi, stretched, signature, sender=relayer
        )


def test_withdraw_with_expired_signature_reverts(
    registry, create_campaign, relayer, pledge_account, sign_pledge, sign, now
):
    campaign = create_campaign()
    account = pledge_account()
    sealed = campaign.sealed()
    registry.pledgeWithSig(
        campaign.id,
        account.address,
        sealed.abi,
        VALID_UNTIL,
        sign_pledge(account, campaign.id, sealed),
        sender=relayer,
    )
    valid_until = now() - 5
    message = {"campaignId": campaign.id, "nonce": 1, "validUntil": valid_until}
    signature = sign(account.key, "Withdraw", message)

    with reverts("SignatureExpired", validUntil=valid_until, timestamp=now()):
        registry.withdrawWithSig(
            campaign.id, account.address, valid_until, signature, sender=relayer
        )


# ---------------------------------------------------------------- batches


def signed_item(campaign, account, sign_pledge, valid_until=VALID_UNTIL, sealed=None, **kw):
    sealed = campaign.sealed() if sealed is None else sealed
    signature = sign_pledge(account, campaign.id, sealed, valid_until=valid_until, **kw)
    return (campaign.id, account.address, sealed.abi, valid_until, signature)


def test_pledge_batch_skips_bad_items_and_records_good_ones(
    registry, create_campaign, relayer, pledge_account, sign_pledge, pledgers, now
):
    campaign = create_campaign(threshold=10)
    good = [pledge_account() for _ in range(3)]
    thief = pledge_account()
    expired = pledge_account()
    items = [
        signed_item(campaign, good[0], sign_pledge),
        signed_item(campaign, good[0], sign_pledge),  # the same account again
        (
            *signed_item(campaign, thief, sign_pledge)[:4],
            signed_item(campaign, good[2], sign_pledge)[4],
        ),
        signed_item(campaign, expired, sign_pledge, valid_until=now() - 1),
        signed_item(campaign, good[1], sign_pledge),
        (*signed_item(campaign, good[2], sign_pledge)[:4], b"\x01" * 64),
    ]

    receipt = registry.pledgeWithSigBatch(items, sender=relayer)

    assert events(receipt, "BatchItemRefused") == [
        {"index": 1, "errorSelector": ALREADY_PLEDGED},
        {"index": 2, "errorSelector": BAD_SIGNATURE},
        {"index": 3, "errorSelector": SIGNATURE_EXPIRED},
        {"index": 5, "errorSelector": BAD_LENGTH},
    ]
    assert [e["account"] for e in events(receipt, "Pledged")] == [good[0].address, good[1].address]
    assert [e["index"] for e in events(receipt, "Pledged")] == [1, 2]
    assert registry.activeCount(campaign.id) == 2


def test_pledge_batch_reaching_threshold_reveals_and_closes(
    registry, create_campaign, relayer, pledge_account, sign_pledge
):
    campaign = create_campaign(threshold=2)
    items = [signed_item(campaign, pledge_account(), sign_pledge) for _ in range(3)]

    receipt = registry.pledgeWithSigBatch(items, sender=relayer)

    assert event_names(receipt) == ["Pledged", "Pledged", "ThresholdReached", "BatchItemRefused"]
    assert events(receipt, "BatchItemRefused") == [{"index": 2, "errorSelector": CAMPAIGN_CLOSED}]
    assert registry.statusOf(campaign.id) == Status.REVEALED


def test_pledge_batch_across_campaigns(
    registry, create_campaign, relayer, pledge_account, sign_pledge
):
    one, two = create_campaign(threshold=5), create_campaign(threshold=5, custodians=2)
    account = pledge_account()
    items = [signed_item(one, account, sign_pledge), signed_item(two, account, sign_pledge)]

    receipt = registry.pledgeWithSigBatch(items, sender=relayer)

    assert [(e["campaignId"], e["index"]) for e in events(receipt, "Pledged")] == [
        (one.id, 1),
        (two.id, 1),
    ]


def test_pledge_batch_bad_size_reverts(
    registry, relayer, create_campaign, pledge_account, sign_pledge
):
    campaign = create_campaign()
    item = signed_item(campaign, pledge_account(), sign_pledge)

    with reverts("BadBatchSize", size=0, max=MAX_BATCH):
        registry.pledgeWithSigBatch([], sender=relayer)
    with reverts("BadBatchSize", size=MAX_BATCH + 1, max=MAX_BATCH):
        registry.pledgeWithSigBatch([item] * (MAX_BATCH + 1), sender=relayer)


def test_withdraw_batch_skips_bad_items(
    registry, create_campaign, relayer, pledge_account, sign_pledge, sign, now
):
    campaign = create_campaign(threshold=10)
    accounts = [pledge_account() for _ in range(3)]
    registry.pledgeWithSigBatch(
        [signed_item(campaign, a, sign_pledge) for a in accounts[:2]], sender=relayer
    )

    def withdrawal(account, valid_until=VALID_UNTIL, nonce=1):
        message = {"campaignId": campaign.id, "nonce": nonce, "validUntil": valid_until}
        return (campaign.id, account.address, valid_until, sign(account.key, "Withdraw", message))

    items = [
        withdrawal(accounts[0]),
        withdrawal(accounts[2], nonce=0),  # never pledged
        withdrawal(accounts[1], valid_until=now() - 1),
        withdrawal(accounts[0]),  # already withdrawn
    ]

    receipt = registry.withdrawWithSigBatch(items, sender=relayer)

    assert events(receipt, "Withdrawn") == [
        {"campaignId": campaign.id, "account": accounts[0].address, "index": 1, "active": 1}
    ]
    assert events(receipt, "BatchItemRefused") == [
        {"index": 1, "errorSelector": NOT_PLEDGED},
        {"index": 2, "errorSelector": SIGNATURE_EXPIRED},
        {"index": 3, "errorSelector": NOT_PLEDGED},
    ]


def test_withdraw_batch_bad_size_reverts(registry, relayer):
    with reverts("BadBatchSize", size=0, max=MAX_BATCH):
        registry.withdrawWithSigBatch([], sender=relayer)


def test_batch_item_signature_length_refused_with_bad_length(
    registry, create_campaign, relayer, pledge_account, sign_pledge
):
    campaign = create_campaign()
    item = signed_item(campaign, pledge_account(), sign_pledge)

    receipt = registry.pledgeWithSigBatch([(*item[:4], item[4][:64])], sender=relayer)

    assert events(receipt, "BatchItemRefused") == [{"index": 0, "errorSelector": BAD_LENGTH}]
