"""Views: unknown ids, per-account state, keys, the EIP-712 domain."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from .helpers import Status, rand32, reverts


def test_campaign_unknown_reverts(registry, create_campaign):
    create_campaign()

    for campaign_id in (0, 2):
        with reverts("UnknownCampaign", campaignId=campaign_id):
            registry.campaign(campaign_id)


def test_active_count_and_threshold_unknown_revert(registry):
    with reverts("UnknownCampaign", campaignId=1):
        registry.activeCount(1)
    with reverts("UnknownCampaign", campaignId=1):
        registry.thresholdOf(1)


def test_active_count_and_threshold_report_campaign(registry, create_campaign, pledge, pledgers):
    campaign = create_campaign(threshold=5)
    pledge(campaign, pledgers[0])
    pledge(campaign, pledgers[1])

    assert (registry.activeCount(campaign.id), registry.thresholdOf(campaign.id)) == (2, 5)


def test_pledge_of_unknown_account_is_empty(registry, create_campaign, pledgers):
    campaign = create_campaign()

    assert tuple(registry.pledgeOf(campaign.id, pledgers[0].address)) == (False, 0, 0)
    assert tuple(registry.pledgeOf(99, pledgers[0].address)) == (False, 0, 0)
    assert registry.nonceOf(campaign.id, pledgers[0].address) == 0
    assert registry.nonceOf(99, pledgers[0].address) == 0


def test_key_used_reports_only_endorsed_keys(registry, create_campaign):
    campaign = create_campaign(custodians=2)

    assert [registry.keyUsed(k) for k in [*campaign.keys, rand32(), bytes(32)]] == [
        True,
        True,
        False,
        False,
    ]


def test_campaign_count_counts_campaigns(registry, create_campaign):
    counts = [registry.campaignCount()]
    for _ in range(3):
        create_campaign()
        counts.append(registry.campaignCount())

    assert counts == [0, 1, 2, 3]


def test_domain_separator_matches_eip712(registry, chain):
    typehash = keccak(
        b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    expected = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [typehash, keccak(b"Spartacus"), keccak(b"2"), chain.chain_id, registry.address],
        )
    )

    assert registry.domainSeparator() == expected


def test_eip712_domain_reports_name_version_chain_and_registry(registry, chain):
    domain = registry.eip712Domain()

    assert bytes(domain.fields) == b"\x0f"
    assert (domain.name, domain.version) == ("Spartacus", "2")
    assert (domain.chainId, domain.verifyingContract) == (chain.chain_id, registry.address)
    assert (bytes(domain.salt), list(domain.extensions)) == (bytes(32), [])


def test_status_of_fresh_registry_is_none(registry):
    assert registry.statusOf(1) == Status.NONE
