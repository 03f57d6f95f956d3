"""Preparing a campaign for ``createCampaign``: shared by the CLI and the ape script.

Everything is checked before a transaction is built, so a creator reads "endorsement 2
expired on ..." rather than a revert. The instructions are sealed here, like a pledge;
their secret goes to the caller, who must keep it before sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import protocol
from ..exceptions import UsageError
from ..files import read_json
from .records import RosterMode, iso


@dataclass(frozen=True)
class Endorsement:
    custodian: str
    campaign_key: bytes
    expiry: int
    signature: bytes

    def as_abi(self) -> tuple[str, bytes, int, bytes]:
        return (self.custodian, self.campaign_key, self.expiry, self.signature)


@dataclass(frozen=True)
class PreparedCampaign:
    terms: tuple[Any, ...]
    instructions: protocol.Sealed
    endorsements: list[Endorsement]
    secret: bytes  # the organiser's instructions secret: keep it before sending


def load_endorsement(path: str, number: int, chain_id: int, registry: str, now: int) -> Endorsement:
    """Read an endorsement file and check it is for this chain and registry, and unexpired."""
    where = f"endorsement {number} ({path})"
    data = read_json(Path(path), f"endorsement {number}")
    try:
        endorsement = Endorsement(
            str(data["custodian"]),
            bytes.fromhex(data["campaignKey"].removeprefix("0x")),
            int(data["expiry"]),
            bytes.fromhex(data["signature"].removeprefix("0x")),
        )
        chain, target = int(data["chainId"]), str(data["registry"])
    except (KeyError, ValueError, AttributeError, TypeError) as exc:
        raise UsageError(f"{where} is malformed: {exc}") from exc
    if chain != chain_id or target.lower() != registry.lower():
        raise UsageError(
            f"{where} is for registry {target} on chain {chain}, not {registry} on chain {chain_id}"
        )
    if len(endorsement.campaign_key) != 32:
        raise UsageError(f"{where} has a campaign key that is not 32 bytes")
    if endorsement.expiry < now:
        raise UsageError(
            f"{where} expired on {iso(endorsement.expiry)}; ask the custodian for a new one"
        )
    return endorsement


def prepare_campaign(
    *,
    title: str,
    description: str,
    plan: str,
    instructions: str,
    threshold: int,
    deadline: int,
    grace: int,
    endorsements: list[Endorsement],
    custodian_threshold: int,
    public_roster: bool,
    now: int,
) -> PreparedCampaign:
    """Check the terms and seal the instructions to the custodians' campaign keys."""
    if not instructions:
        raise UsageError("give the sealed next steps with --instructions or --instructions-file")
    if threshold < 2:
        raise UsageError(f"--threshold must be at least 2 (got {threshold})")
    if not 1 <= len(endorsements) <= 5:
        raise UsageError(f"a campaign needs 1 to 5 custodians (got {len(endorsements)})")
    if not 1 <= custodian_threshold <= len(endorsements):
        raise UsageError(
            f"--custodian-threshold must be between 1 and {len(endorsements)} "
            f"(got {custodian_threshold})"
        )
    if deadline <= now:
        raise UsageError(f"the deadline {iso(deadline)} is not in the future")
    if grace < 0:
        raise UsageError("--grace cannot be negative")
    secret = protocol.new_secret()
    sealed = protocol.seal_instructions(
        protocol.derive_keys(secret),
        instructions,
        [e.campaign_key for e in endorsements],
        custodian_threshold,
    )
    mode = RosterMode.PUBLIC if public_roster else RosterMode.MEMBERS
    terms = (
        title,
        description,
        plan,
        threshold,
        deadline,
        grace,
        custodian_threshold,
        int(mode),
    )
    return PreparedCampaign(terms, sealed, endorsements, secret)
