"""Release planning: ``plan_release``
works out, from the logs alone, what this custodian has not released yet and builds the
release parts for it; ``send_release`` sends them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount

from .. import protocol
from ..chain.records import CampaignInfo, History, RosterMode, Status
from ..chain.registry import Registry
from ..exceptions import CampaignStateError
from .keystore import Keystore


@dataclass
class ReleasePlan:
    campaign_id: int
    custodian_index: int
    round: int
    shares: dict[int, bytes]
    parts: list[bytes]
    problems: dict[int, str] = field(default_factory=dict)


@dataclass
class Progress:
    """What this custodian's earlier releases already cover, read back from the logs."""

    covered: set[int] = field(default_factory=set)  # pledge indices whose share was released
    sealed_to: dict[int, set[int]] = field(default_factory=dict)  # round -> key-seal recipients
    rounds: set[int] = field(default_factory=set)

    @property
    def next_round(self) -> int:
        return max(self.rounds) + 1 if self.rounds else 0


def progress(
    deployment: protocol.Deployment,
    history: History,
    custodian_index: int,
    campaign_secret: bytes,
    t: int,
) -> Progress:
    """Replay this custodian's own releases.

    Its release keys derive from its campaign key, so it can read back even the parts it
    sealed for members.
    """
    seen = Progress()
    for release in history.releases:
        if release.custodian_index != custodian_index:
            continue
        part = protocol.parse_release(release.data)
        seen.rounds.add(part.round)
        if part.kind == protocol.KIND_PUBLIC:
            seen.covered.update(protocol.release_entries(part.body, t))
        elif part.kind == protocol.KIND_SEALED:
            key = protocol.release_key(campaign_secret, part.round)
            seen.covered.update(
                protocol.open_sealed_shares(
                    part, key, deployment, history.campaign_id, custodian_index, t
                )
            )
        elif part.kind == protocol.KIND_KEYS:
            seen.sealed_to.setdefault(part.round, set()).update(protocol.key_seal_indices(part))
    return seen


def plan_release(
    registry: Registry,
    keystore: Keystore,
    campaign_id: int,
    account: LocalAccount,
    *,
    confirmed_block: int | None = None,
    agreed: History | None = None,
    info: CampaignInfo | None = None,
    latest: History | None = None,
) -> ReleasePlan:
    """What this custodian should release now (``parts`` is empty when all is released).

    A new round carries the shares of the pledges not covered yet, with its release key
    sealed to every active member and the organiser. Members who joined after an earlier
    round get that round's key sealed to them too, so a late member reads the whole
    roster. Whatever an interrupted run left out is found in the logs and completed;
    nothing is sent twice. With ``confirmed_block``, only pledges made by that block are
    released (what this custodian already released is still read up to the latest block).
    The daemon passes ``agreed`` (the history up to the confirmed block that its RPC sources
    agree on) and ``info``: the instructions and active pledges then come from those.
    ``latest`` is the history up to the latest block if the caller holds it already (the
    daemon reads it from its checkpoint); else it is read here, from the campaign's creation.
    A campaign key issued for another chain or registry (a copycat registry that names a
    real key) is refused with ``KeyNotForThisRegistry`` before anything is opened with it.
    """
    if info is None:  # else the campaign as the daemon's RPC sources agree on it
        info = registry.info(campaign_id)
    if info.status != Status.REVEALED:
        raise CampaignStateError(
            f"campaign {campaign_id} is {registry.status_of(campaign_id).label}: "
            "custodians release only after the reveal"
        )
    history = registry.history(campaign_id) if latest is None else latest
    mine = [c for c in history.custodians if c.account.lower() == account.address.lower()]
    if not mine:
        raise CampaignStateError(f"{account.address} is not a custodian of campaign {campaign_id}")
    if history.instructions is None:
        raise CampaignStateError(f"campaign {campaign_id} has no sealed instructions in its log")
    custodian = mine[0]
    key = keystore.campaign_key_for(custodian.campaign_key, registry.chain_id, registry.address)
    n, t = len(history.custodians), info.custodian_threshold
    deployment = registry.deployment
    done = progress(deployment, history, custodian.index, key.secret, t)
    confirmed = history if agreed is None else agreed
    if agreed is None and confirmed_block is not None:
        confirmed = registry.history(campaign_id, to_block=confirmed_block)
    everyone = [confirmed.instructions or history.instructions, *confirmed.active_records()]
    pending = [r for r in everyone if r.index not in done.covered]
    shares, problems = protocol.custodian_shares(
        key.secret, deployment, campaign_id, custodian.index, n, t, pending
    )
    round_ = done.next_round
    plan = ReleasePlan(campaign_id, custodian.index, round_, shares, [], problems)
    if info.roster_mode == RosterMode.PUBLIC:
        if shares:
            plan.parts = protocol.build_release(
                deployment, campaign_id, custodian.index, round_, shares, t, recipients=None
            )
        return plan

    member_keys = {r.index: r.member_key for r in everyone}
    if shares:
        new = protocol.build_release(
            deployment,
            campaign_id,
            custodian.index,
            round_,
            shares,
            t,
            recipients=member_keys,
            release_key=protocol.release_key(key.secret, round_),
        )
        # Shares first, key seals last, so an interruption leaves nothing half-announced.
        new.sort(key=lambda part: protocol.parse_release(part).kind == protocol.KIND_KEYS)
        plan.parts += new
    for earlier in sorted(done.rounds):
        missing = {
            index: member_key
            for index, member_key in member_keys.items()
            if index not in done.sealed_to.get(earlier, set())
        }
        if missing:
            plan.parts += protocol.build_release(
                deployment,
                campaign_id,
                custodian.index,
                earlier,
                {},
                t,
                recipients=missing,
                release_key=protocol.release_key(key.secret, earlier),
            )
    return plan


def send_release(registry: Registry, account: LocalAccount, plan: ReleasePlan) -> list[str]:
    """Send every part of a planned release; returns the transaction hashes."""
    return [registry.release(account, plan.campaign_id, part) for part in plan.parts]
