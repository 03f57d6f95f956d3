"""Preparing a campaign for ``createCampaign``: shared by the CLI and the ape script.

Everything is checked before a transaction is built, with the registry's rules
(``spartacus.chain.rules``), so a creator reads "endorsement 2 expired on ..." rather than a
revert. The instructions are sealed here, like a pledge; their secret goes to the caller,
who must keep it before sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import protocol
from ..exceptions import UsageError
from ..files import read_json
from . import rules
from .records import RosterMode

# How the commands that create a campaign (``spartacus create``, ``ape run create_campaign``)
# name the terms in their messages: by their options.
OPTION_NAMES = {
    "title": "--title",
    "description": "--description",
    "plan": "--plan",
    "threshold": "--threshold",
    "custodianThreshold": "--custodian-threshold",
}


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
    rules.check_signature(endorsement.signature, f"the signature of {where}")
    rules.check_endorsement(where, endorsement.expiry, now)
    return endorsement


def prepare_campaign(
    *,
    deployment: protocol.Deployment,
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
    late_joining: bool = False,
    group: int = 0,
) -> PreparedCampaign:
    """Check the terms and seal the instructions to the custodians' campaign keys, bound to
    the registry the campaign is created in (``deployment``)."""
    if not instructions:
        raise UsageError("give the sealed next steps with --instructions or --instructions-file")
    rules.check_terms(
        title=title,
        description=description,
        plan=plan,
        threshold=threshold,
        deadline=deadline,
        now=now,
        names=OPTION_NAMES,
    )
    rules.check_deadline_ahead(deadline, now)
    rules.check_custodians(len(endorsements), custodian_threshold, names=OPTION_NAMES)
    if grace < 0:
        raise UsageError("--grace cannot be negative")
    secret = protocol.new_secret()
    sealed = protocol.seal_instructions(
        deployment,
        protocol.derive_keys(secret),
        instructions,
        [e.campaign_key for e in endorsements],
        custodian_threshold,
    )
    rules.check_instructions(sealed, len(endorsements), custodian_threshold)
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
        late_joining,
        group,
    )
    return PreparedCampaign(terms, sealed, endorsements, secret)
