"""Endorsing a fresh campaign key: the EIP-712 signature a creator lists with the custodian."""

from __future__ import annotations

from typing import Any

from ..chain.registry import Registry
from .keystore import Keystore


def endorse(
    keystore: Keystore, registry: Registry, expiry: int, *, mail_roster: bool = False
) -> dict[str, Any]:
    """Create a campaign key and return the endorsement object a creator passes to create.

    ``mail_roster`` is kept with the key, never in the endorsement: the creator asks this
    custodian's daemon to e-mail the roster to the members after the reveal (t = 1 only).
    """
    account = keystore.account()
    key = keystore.new_campaign_key(
        registry.address, registry.chain_id, expiry, mail_roster=mail_roster
    )
    signature = registry.sign_endorsement(account, key.public, expiry)
    return {
        "version": 1,
        "chainId": registry.chain_id,
        "registry": registry.address,
        "custodian": account.address,
        "campaignKey": "0x" + key.public.hex(),
        "expiry": expiry,
        "signature": "0x" + signature.hex(),
    }
