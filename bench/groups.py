"""Gas of membership groups (SpartacusGroups): adding members one by one and in batches,
redeeming an invitation, verifying a proof, a gated pledge next to a plain one; and the time
of one proof under Node and in headless Chromium (bench/groupsweb.py)."""

from __future__ import annotations

import random
import statistics
import sys
import time
from typing import Any

from eth_account import Account
from hexbytes import HexBytes

from spartacus import semaphore
from spartacus.chain.gated import prove_pledge
from spartacus.chain.groups import Groups
from spartacus.chain.registry import Registry
from spartacus.cli.context import dev_account
from spartacus.protocol import Sealed

from . import groupsweb
from .node import Node

INSERT_AIM = 100_000  # issue 12: group insertion under 100,000 gas
GATED_AIM = 300_000  # issue 12: a gated pledge at most 300,000 gas above a plain one


def measure(node: Node, *, quick: bool) -> dict[str, Any]:
    admin, payer = dev_account(5), dev_account(6)
    groups = Groups.deploy(node.w3, admin)
    group_id = groups.create_group(admin, "bench")
    next_commitment = iter(range(10**6, 10**9))

    def add_single() -> int:
        (receipt,) = groups.add_members(admin, group_id, [next(next_commitment)])
        return int(receipt["gasUsed"])

    # One by one from an empty group: the cost follows the tree's depth, dearest just
    # before a power of two (every level is hashed).
    singles = [add_single() for _ in range(32 if quick else 128)]
    batch_gas = []
    for _ in range(2 if quick else 10):  # batches of 100, growing the group to ~1,100
        (receipt,) = groups.add_members(
            admin, group_id, [next(next_commitment) for _ in range(100)]
        )
        batch_gas.append(int(receipt["gasUsed"]))
    size = groups.info(group_id).size
    at_size = [add_single() for _ in range(16)]

    invitations = groups.create_invitations(admin, group_id, 5)
    identities = [semaphore.new_identity() for _ in invitations]
    redeem_gas = [
        int(groups.redeem(payer, inv, ident.commitment)["gasUsed"])
        for inv, ident in zip(invitations, identities, strict=True)
    ]

    members = groups.members(group_id)
    scope, message = groups.scope_of(admin.address, 1), 2**255 + 1
    started = time.monotonic()
    proof = semaphore.prove(identities[0].backup, members, scope, message)
    prove_seconds = time.monotonic() - started
    verify = groups.contract.functions.verifyMembership(group_id, scope, message, proof.abi())
    verify_gas = int(verify.estimate_gas())
    gated, registry = _gated_pledge(node, groups, group_id, identities[1])
    member = identities[2]  # its identity file, as `group join` saves it
    backup = {"chainId": groups.chain_id, "groups": groups.address, "group": group_id,
              "commitment": str(member.commitment), "backup": member.backup}  # fmt: skip
    browser = groupsweb.measure(
        node, registry, group_id, backup, groups.scope_of(registry, 1), runs=3 if quick else 5
    )

    return {
        "add_member": {
            "first": singles[0],
            "median_first_32": int(statistics.median(singles[:32])),
            "max_first_32": max(singles[:32]),
            f"median_at_{size}": int(statistics.median(at_size)),
            f"max_at_{size}": max(at_size),
        },
        "add_members_100": {
            "gas": int(statistics.median(batch_gas)),
            "per_member": int(statistics.median(batch_gas)) // 100,
        },
        "redeem_invitation": int(statistics.median(redeem_gas)),
        "verify_membership": {
            "gas": verify_gas,
            "note": "eth_estimateGas of the view as a transaction (21,000 intrinsic and "
            "calldata included)",
        },
        "gated_pledge": gated,
        "prove_seconds_node": round(prove_seconds, 2),
        "prove_browser": browser,
        "group_size": size + 16 + len(invitations),
    }


def _gated_pledge(
    node: Node, groups: Groups, group_id: int, identity: semaphore.Identity
) -> tuple[dict[str, int], str]:
    """pledgeWithSig to an open campaign and pledgeGatedWithSig to one gated to the group,
    same sizes (one custodian, t = 1), both relayed; gas used as mined. Also the registry's
    address (its site serves the browser proof)."""
    creator, relayer, custodian = dev_account(7), dev_account(8), dev_account(9)
    registry = Registry.deploy(node.w3, relayer, groups=groups.address)
    rng = random.Random(12)

    def sealed() -> Sealed:
        return Sealed(rng.randbytes(32), rng.randbytes(296), rng.randbytes(112), rng.randbytes(32))

    def campaign(group: int) -> int:
        now, key = registry.latest_timestamp(), rng.randbytes(32)
        endorsement = (custodian.address, key, now + 86_400,
                       registry.sign_endorsement(custodian, key, now + 86_400))  # fmt: skip
        terms = ("bench", "", "", 10, now + 7 * 86_400, 3_600, 1, 0, False, group)
        instructions = Sealed(rng.randbytes(32), rng.randbytes(296), rng.randbytes(112), bytes(32))
        return registry.create_campaign(creator, terms, instructions, [endorsement])

    def gas_of_last() -> int:
        tx = node.w3.eth.get_block("latest")["transactions"][-1]
        assert isinstance(tx, bytes)  # hashes, not full transactions
        return int(node.w3.eth.get_transaction_receipt(HexBytes(tx))["gasUsed"])

    open_id, gated_id = campaign(0), campaign(group_id)
    account, pledge = Account.create(), sealed()
    registry.pledge_with_sig(
        relayer, open_id, account.address, pledge, registry.sign_pledge(account, open_id, pledge)
    )
    plain = gas_of_last()
    account, pledge = Account.create(), sealed()
    signed = registry.sign_pledge(account, gated_id, pledge, nonce=0)
    proof = prove_pledge(
        registry, identity.backup, identity.commitment, gated_id, group_id, account.address,
        pledge, signed, 0,
    )  # fmt: skip
    registry.pledge_gated_with_sig(relayer, gated_id, account.address, pledge, signed, proof)
    gated = gas_of_last()
    return {"plain": plain, "gated": gated, "extra": gated - plain}, registry.address


def rows(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    out = [("groups", f"addMember, {k.replace('_', ' ')}", f"{v:,}") for k, v in
           figures["add_member"].items()]  # fmt: skip
    batch = figures["add_members_100"]
    out.append(
        ("groups", "addMembers, batch of 100", f"{batch['gas']:,} ({batch['per_member']:,}/member)")
    )
    out.append(("groups", "redeemInvitation", f"{figures['redeem_invitation']:,}"))
    verify = figures["verify_membership"]["gas"]
    out.append(("groups", "verifyMembership (estimate)", f"{verify:,}"))
    gated = figures["gated_pledge"]
    out.append(("groups", "pledgeWithSig, open campaign", f"{gated['plain']:,}"))
    out.append(
        ("groups", "pledgeGatedWithSig", f"{gated['gated']:,} (+{gated['extra']:,}; proof "
         f"check ~{verify - 21_000:,} of it)")
    )  # fmt: skip
    out.append(("groups", "proof under Node, depth 16", f"{figures['prove_seconds_node']:.2f} s"))
    return out + groupsweb.rows(figures["prove_browser"])


def aims(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (key,) = [k for k in figures["add_member"] if k.startswith("median_at_")]
    typical, size = figures["add_member"][key], int(key.removeprefix("median_at_"))
    batch = figures["add_members_100"]["per_member"]
    extra = figures["gated_pledge"]["extra"]
    return {
        f"gated pledge: gas above a plain pledge <= {GATED_AIM:,}": {
            "value": extra, "met": extra <= GATED_AIM,
        },
        f"group insertion, addMember (median at {size:,} members): gas < {INSERT_AIM:,}": {
            "value": typical, "met": typical < INSERT_AIM,
        },
        f"group insertion, addMembers per member (batch of 100): gas < {INSERT_AIM:,}": {
            "value": batch, "met": batch < INSERT_AIM,
        },
    } | groupsweb.aims(figures["prove_browser"])  # fmt: skip


def main() -> int:
    """``python -m bench.groups [--quick]``: this section alone, on a private anvil."""
    from .node import anvil

    with anvil() as node:
        figures = measure(node, quick="--quick" in sys.argv)
    for section, figure, value in rows(figures):
        print(f"{section:<8} {figure:<40} {value}")
    for aim, verdict in aims(figures).items():
        print(f"aim {'MET   ' if verdict['met'] else 'MISSED'} {aim}: {verdict['value']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
