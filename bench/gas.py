"""Gas figures: every registry call against its floor, and an OpenZeppelin ERC-20 transfer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_account import Account
from hexbytes import HexBytes

from spartacus import protocol
from spartacus.chain.records import RosterMode
from spartacus.custodian.release_plan import plan_release, send_release
from spartacus.dev.build import REMAPPINGS, ROOT, SETTINGS, SOLC_VERSION

from .floor import ERC20_STORAGE, PLEDGE_STORAGE, RELEASE_STORAGE, Floor, floor_of
from .node import Node
from .world import Campaign, Sent, World, send

TOKEN_SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

contract BenchToken is ERC20 {
    constructor() ERC20("Bench", "BNCH") {
        _mint(msg.sender, 1e27);
    }
}
"""
TOKEN_PATH = "bench/BenchToken.sol"


def median_sent(samples: list[Sent]) -> Sent:
    """The sample with the median gas (calldata bytes differ a little between pledges)."""
    ordered = sorted(samples, key=lambda s: s.gas)
    return ordered[len(ordered) // 2]


def pledge_figures(
    world: World, campaign: Campaign, send_one: Callable[[Campaign], Sent], samples: int, sig: bool
) -> dict[str, Any]:
    sent = median_sent([send_one(campaign) for _ in range(samples)])
    return sent.floor(PLEDGE_STORAGE, ecrecover=sig).as_dict()


def crossing_gas(world: World, threshold: int, workers: int) -> dict[str, Any]:
    """Fill a campaign to N - 1 pledges, then measure the pledge that reaches N."""
    campaign = world.create(threshold=threshold)
    world.bulk_pledge(campaign, threshold - 1, workers)
    return crossing_figures(world, campaign)


def crossing_figures(world: World, campaign: Campaign) -> dict[str, Any]:
    """The next direct pledge, which must be the threshold-crossing one."""
    sent = world.pledge(campaign)
    names = [log["topics"][0] for log in sent.receipt["logs"]]
    reached = world.registry.contract.events.ThresholdReached().topic
    if HexBytes(reached) not in [HexBytes(n) for n in names]:
        raise RuntimeError(f"the pledge to campaign {campaign.id} did not reach the threshold")
    floor = sent.floor(PLEDGE_STORAGE)
    # What the pledge executes beyond the bytes it carries: independent of the payload.
    execution = sent.gas - floor.components["intrinsic"] - floor.components["calldata"]
    return {"gas": sent.gas, "execution": execution, "floor": floor.as_dict()}


def release_figures(world: World, campaign: Campaign) -> dict[str, Any]:
    """The keystore custodian plans and sends its whole release; totals and floors."""
    plan = plan_release(world.registry, world.keystore, campaign.id, world.keystore_account)
    hashes = send_release(world.registry, world.keystore_account, plan)
    return release_totals(world.node, hashes, len(campaign.secrets))


def release_totals(node: Node, hashes: list[str], members: int) -> dict[str, Any]:
    floors: list[Floor] = []
    for tx_hash in hashes:
        receipt = node.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        data = bytes(node.w3.eth.get_transaction(tx_hash)["input"])  # type: ignore[arg-type]
        floors.append(floor_of(data, receipt, RELEASE_STORAGE))
    gas = sum(f.gas_used for f in floors)
    floor = sum(f.total for f in floors)
    return {
        "members": members,
        "transactions": len(hashes),
        "gas": gas,
        "floor": floor,
        "itemised_floor": sum(f.as_dict()["itemised_floor"] for f in floors),
        "eip7623_floor": sum(f.eip7623_floor for f in floors),
        "ratio": round(gas / floor, 4) if floor else None,
        "gas_per_member": round(gas / members) if members else None,
        "floor_per_member": round(floor / members) if members else None,
        "calldata_bytes": sum(f.calldata_bytes for f in floors),
        "eip7623_binds": sum(f.eip7623_binds for f in floors),
    }


def erc20_transfer(world: World, samples: int) -> dict[str, Any]:
    """Compile an OpenZeppelin ERC-20, mint, and transfer to fresh addresses."""
    import solcx

    standard_input = {
        "language": "Solidity",
        "sources": {TOKEN_PATH: {"content": TOKEN_SOURCE}},
        "settings": {**SETTINGS, "remappings": REMAPPINGS},
    }
    output = solcx.compile_standard(
        standard_input, solc_version=SOLC_VERSION, base_path=str(ROOT), allow_paths=[str(ROOT)]
    )
    compiled = output["contracts"][TOKEN_PATH]["BenchToken"]
    w3 = world.node.w3
    container = w3.eth.contract(abi=compiled["abi"], bytecode=compiled["evm"]["bytecode"]["object"])
    deployed = send(world.node, container.constructor(), world.relayer)
    token = w3.eth.contract(address=deployed.receipt["contractAddress"], abi=compiled["abi"])
    sent = [
        send(world.node, token.functions.transfer(Account.create().address, 10**18), world.relayer)
        for _ in range(samples)
    ]
    result = median_sent(sent).floor(ERC20_STORAGE).as_dict()
    result["source"] = "OpenZeppelin 5 ERC20, optimizer 10,000 runs, solc " + SOLC_VERSION
    return result


def measure(world: World, *, quick: bool, workers: int) -> dict[str, Any]:
    samples = 3 if quick else 5
    out: dict[str, Any] = {}
    c1 = world.create(threshold=1_000_000)
    c3 = world.create(threshold=1_000_000, n=3, t=2)
    out["create"] = {"custodians_1": c1.created.gas, "custodians_3_t2": c3.created.gas}
    world.pledge(c1)  # neither measured pledge is a campaign's first
    world.pledge(c3)
    out["pledge"] = {
        "n1_direct": pledge_figures(world, c1, world.pledge, samples, sig=False),
        "n1_signed": pledge_figures(world, c1, world.pledge_with_sig, samples, sig=True),
        "n3_t2_direct": pledge_figures(world, c3, world.pledge, samples, sig=False),
        "n3_t2_signed": pledge_figures(world, c3, world.pledge_with_sig, samples, sig=True),
    }
    out["withdraw"] = withdraw_figures(world, c1)
    # Relayed pledges per pledge: alone (pledgeWithSig), and in batches of 10 and 50.
    out["batch_per_pledge"] = {
        "1": world.pledge_with_sig(c1).gas,
        **{str(k): round(world.pledge_batch(c1, k).gas / k) for k in (10, 50)},
    }
    out["erc20_transfer"] = erc20_transfer(world, samples)

    out["threshold_crossing"] = {
        str(n): crossing_gas(world, n, workers) for n in ((10, 50) if quick else (10, 100))
    }

    pending = world.create(threshold=2, grace=3_600)
    world.pledge(pending)
    world.pledge(pending)
    world.node.travel(3_601)
    fn = world.registry.contract.functions.finalize(pending.id)
    out["finalize"] = send(world.node, fn, world.relayer).gas

    members = 50 if quick else 1_000
    out["release_per_member"] = {}
    for mode in (RosterMode.MEMBERS, RosterMode.PUBLIC):
        campaign = world.create(threshold=members, mode=mode, keystore_custodian=True)
        world.bulk_pledge(campaign, members, workers)
        out["release_per_member"][mode.label] = release_figures(world, campaign)
    return out


def withdraw_figures(world: World, campaign: Campaign) -> dict[str, Any]:
    """A direct withdrawal and a relayed withdrawWithSig, each by a fresh pledger."""
    registry = world.registry
    world.pledge(campaign)
    account = Account.from_key(_account_key(campaign.secrets[-1]))
    direct = send(world.node, registry.contract.functions.withdraw(campaign.id), account)
    world.pledge(campaign)
    signer = Account.from_key(_account_key(campaign.secrets[-1]))
    signed = registry.sign_withdraw(signer, campaign.id)
    fn = registry.contract.functions.withdrawWithSig(
        campaign.id, signer.address, signed.valid_until, signed.signature
    )
    relayed = send(world.node, fn, world.relayer)
    return {"direct": direct.gas, "signed": relayed.gas}


def _account_key(secret: bytes) -> bytes:
    return protocol.derive_keys(secret).account_key
