"""Scale, roster and release figures on campaigns of 1,000 and 10,000 real sealed pledges."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak
from web3.types import RPCEndpoint

from spartacus import protocol
from spartacus.chain.verify import verify_campaign
from spartacus.custodian.release_plan import plan_release, send_release

from .gas import crossing_figures, release_totals
from .world import Campaign, World

PLEDGED = keccak(text="Pledged(uint256,address,uint32,bytes32,bytes,bytes,bytes32,uint32)")
RELEASED = keccak(text="Released(uint256,address,uint8,bytes)")
GET_LOGS = RPCEndpoint("eth_getLogs")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def median_time(fn: Callable[[], Any], runs: int) -> float:
    return statistics.median(timed(fn)[0] for _ in range(runs))


def measure_size(world: World, size: int, *, runs: int, workers: int) -> dict[str, Any]:
    """Fill a one-custodian members-mode campaign to ``size``, release it, read it back."""
    out: dict[str, Any] = {"pledges": size}
    campaign = world.create(threshold=size, keystore_custodian=True)
    out["fill_seconds"] = round(timed(lambda: world.bulk_pledge(campaign, size - 1, workers))[0], 2)
    out["threshold_crossing"] = crossing_figures(world, campaign)
    out["release"] = release(world, campaign)
    out["status_seconds"] = median_time(lambda: status(world, campaign.id), runs)
    report = verify_campaign(world.registry, campaign.id)
    if not report.ok:
        raise RuntimeError(f"verify found campaign {campaign.id} inconsistent: {report.checks}")
    out["verify_seconds"] = median_time(lambda: verify_campaign(world.registry, campaign.id), runs)
    out["roster"] = roster(world, campaign, runs)
    return out


def status(world: World, campaign_id: int) -> None:
    """What ``spartacus status`` reads: storage, effective status, the campaign's log."""
    registry = world.registry
    registry.info(campaign_id)
    registry.status_of(campaign_id)
    registry.history(campaign_id)


def release(world: World, campaign: Campaign) -> dict[str, Any]:
    """One custodian releases everything: plan (open boxes, build parts), then send."""
    account, keystore = world.keystore_account, world.keystore
    plan_seconds, plan = timed(lambda: plan_release(world.registry, keystore, campaign.id, account))
    send_seconds, hashes = timed(lambda: send_release(world.registry, account, plan))
    totals = release_totals(world.node, hashes, len(campaign.secrets))
    return {
        "wall_seconds": round(plan_seconds + send_seconds, 3),
        "plan_seconds": round(plan_seconds, 3),
        "send_seconds": round(send_seconds, 3),
        **totals,
    }


def roster(world: World, campaign: Campaign, runs: int) -> dict[str, Any]:
    """A member (pledge 1) reads the roster: fetching the log and decrypting, timed apart."""
    registry = world.registry
    reader = protocol.derive_keys(campaign.secrets[0])
    filter_params: Any = {
        "address": registry.address,
        "fromBlock": registry.from_block,
        "toBlock": "latest",
        "topics": [None, "0x" + campaign.id.to_bytes(32, "big").hex()],
    }
    raw = {**filter_params, "fromBlock": hex(registry.from_block)}
    # The transport alone: the JSON-RPC request and its JSON parsing, as history sends it.
    rpc = median_time(lambda: world.node.w3.provider.make_request(GET_LOGS, [raw]), runs)
    fetch = median_time(lambda: registry.history(campaign.id), runs)
    lean = median_time(lambda: lean_fetch(world, filter_params), runs)
    history = registry.history(campaign.id)
    assert history.instructions is not None
    records = [history.instructions, *history.active_records()]
    releases = [protocol.ReleaseRecord(r.custodian_index, r.data) for r in history.releases]

    def read() -> protocol.Roster:
        return protocol.read_roster(
            registry.deployment,
            campaign.id,
            campaign.n,
            campaign.t,
            records,
            releases,
            reader=reader,
            reader_index=1,
        )

    result = read()
    if len(result.members) != len(campaign.secrets) or result.missing or result.problems:
        raise RuntimeError(
            f"roster of campaign {campaign.id}: {len(result.members)} readable, "
            f"missing {result.missing[:5]}, problems {result.problems[:3]}"
        )
    decrypt = median_time(read, runs)
    return {
        "members": len(result.members),
        "fetch_seconds": round(fetch, 4),
        "fetch_rpc_seconds": round(rpc, 4),
        "fetch_decode_seconds": round(max(fetch - rpc, 0.0), 4),
        "lean_fetch_seconds": round(lean, 4),
        "decrypt_seconds": round(decrypt, 4),
        "total_seconds": round(fetch + decrypt, 4),
        "pledges_opened_per_second": round(len(result.members) / decrypt),
    }


def lean_fetch(world: World, filter_params: dict[str, Any]) -> int:
    """Raw eth_getLogs and eth_abi decoding of Pledged and Released, and nothing else.

    A lower bound for ``Registry.history``, which also decodes every other event, checksums
    addresses and builds typed records.
    """
    raw = {**filter_params, "fromBlock": hex(filter_params["fromBlock"])}
    logs = world.node.call("eth_getLogs", [raw])
    decoded = 0
    for log in logs:
        topic = bytes.fromhex(log["topics"][0][2:])
        data = bytes.fromhex(log["data"][2:])
        if topic == PLEDGED:
            abi_decode(["uint32", "bytes32", "bytes", "bytes", "bytes32", "uint32"], data)
            decoded += 1
        elif topic == RELEASED:
            abi_decode(["uint8", "bytes"], data)
            decoded += 1
    return decoded
