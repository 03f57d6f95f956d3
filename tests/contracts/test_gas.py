"""Gas of the hot paths with one custodian (t = 1): deterministic, so bounds are asserted.

Run with ``-s`` to see the figures. Budgets: a direct pledge under 75,000 gas, a relayed
pledgeWithSig under 81,000 (296-byte ciphertext, one 112-byte box). Both read the campaign's
group slot (one cold SLOAD, 2,100 gas) to refuse a proof-less pledge to a gated campaign.
Payloads are fixed pseudo-random bytes (as real ciphertexts look: almost no zero bytes), so
calldata costs the same on every run.
"""

from __future__ import annotations

import random

from eth_account import Account

from .helpers import VALID_UNTIL, Sealed

PLEDGE_BUDGET = 75_000
PLEDGE_WITH_SIG_BUDGET = 81_000
CREATE_BUDGET = 230_000


def fixed_sealed(seed: int) -> Sealed:
    rng = random.Random(seed)
    return Sealed(rng.randbytes(32), rng.randbytes(296), rng.randbytes(112), rng.randbytes(32))


def test_gas_pledge_and_pledge_with_sig_within_budget(
    registry, create_campaign, pledgers, relayer, sign_pledge
):
    campaign = create_campaign(threshold=10, custodians=1, t=1)
    registry.pledge(campaign.id, fixed_sealed(0).abi, sender=pledgers[0])  # not the first pledge

    direct = registry.pledge(campaign.id, fixed_sealed(1).abi, sender=pledgers[1])
    account = Account.from_key(b"\x01" * 32)
    sealed = fixed_sealed(2)
    signature = sign_pledge(account, campaign.id, sealed)
    relayed = registry.pledgeWithSig(
        campaign.id, account.address, sealed.abi, VALID_UNTIL, signature, sender=relayer
    )
    withdrawal = registry.withdraw(campaign.id, sender=pledgers[1])

    print(
        f"\ngas with 1 custodian: createCampaign {campaign.receipt.gas_used}, "
        f"pledge {direct.gas_used}, pledgeWithSig {relayed.gas_used}, "
        f"withdraw {withdrawal.gas_used}"
    )
    assert direct.gas_used < PLEDGE_BUDGET
    assert relayed.gas_used < PLEDGE_WITH_SIG_BUDGET
    assert campaign.receipt.gas_used < CREATE_BUDGET


def test_gas_batched_relayed_pledge_cheaper_per_pledge(
    registry, create_campaign, pledgers, relayer, sign_pledge
):
    """pledgeWithSigBatch spreads the transaction's base cost: per pledge, a batch of 10 costs
    less than a pledge sent alone, and a batch of 50 less again (figures with ``-s``)."""
    campaign = create_campaign(threshold=1_000, custodians=1, t=1)
    registry.pledge(campaign.id, fixed_sealed(0).abi, sender=pledgers[0])  # not the first
    seed = iter(range(100, 1_000))

    def item():
        account = Account.from_key(next(seed).to_bytes(32, "big"))
        sealed = fixed_sealed(next(seed))
        signature = sign_pledge(account, campaign.id, sealed, nonce=0)
        return (campaign.id, account.address, sealed.abi, VALID_UNTIL, signature)

    alone = registry.pledgeWithSig(*item(), sender=relayer).gas_used
    per = {1: alone}
    for size in (10, 50):
        receipt = registry.pledgeWithSigBatch([item() for _ in range(size)], sender=relayer)
        assert len([e for e in receipt.events if e.event_name == "Pledged"]) == size
        per[size] = receipt.gas_used // size

    print(f"\nrelayed pledge gas per pledge, 1 custodian: {per}")
    assert per[50] < per[10] < per[1] < PLEDGE_WITH_SIG_BUDGET
