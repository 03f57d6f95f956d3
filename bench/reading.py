"""Reading a campaign under a provider's 10-block ``eth_getLogs`` cap: calls and seconds, the
old way (scanning block ranges from the campaign's creation, halving what is refused) against
the new (walking its events back by ``previousBlock``, issue #15).

A campaign of E pledges is spread over D blocks by ``anvil_mine``. The figures hold for any
age: the walk costs one ``eth_call`` plus one ``eth_getLogs`` per block holding events, the
scan about one call per 10 blocks of age (more with halving), so ``old_calls_per_day_2s``
extrapolates it to a day of a 2-second chain. anvil mines about a thousand blocks a second
here (slower under load), so 30-day ages (1.3 million blocks) are extrapolated, not mined.

``python -m bench.reading [--quick]`` runs this section alone on its own anvil.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from web3 import HTTPProvider, Web3
from web3.providers.base import BaseProvider

from spartacus.chain.registry import Registry
from spartacus.chain.walk import scan

from .node import Node, anvil
from .world import World

CAP = 10  # blocks per eth_getLogs, as the free tiers of Base, Optimism and Arbitrum providers
MINE_STEP = 1_000  # blocks per anvil_mine call (larger calls slow down more than linearly)
BLOCKS_PER_DAY_2S = 43_200
# Gas of a pledge with one custodian (not the campaign's first; median of 5) before issue #15:
# ``pledge_gas`` run on main at 381eae3 (gated pledges in, previousBlock not yet; 69,724 and
# 77,316 on 51e86c6, before gated). The figures measured now are printed beside them.
GAS_BEFORE = {"pledge": 72_211, "pledgeWithSig": 79_834}


class CappedCounter(BaseProvider):
    """anvil behind a provider's limit: ranges over ``CAP`` blocks refused; calls counted."""

    def __init__(self, rpc: str) -> None:
        super().__init__()
        self.inner = HTTPProvider(rpc)
        self.calls: dict[str, int] = {}

    def make_request(self, method: Any, params: Any) -> Any:
        self.calls[method] = self.calls.get(method, 0) + 1
        if method == "eth_getLogs":
            query = params[0]
            if int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1 > CAP:
                error = {"code": -32005, "message": f"query exceeds max block range {CAP}"}
                return {"jsonrpc": "2.0", "id": 1, "error": error}
        return self.inner.make_request(method, params)

    def reads(self) -> int:
        return sum(n for m, n in self.calls.items() if m in ("eth_call", "eth_getLogs"))


def mine(node: Node, blocks: int) -> None:
    while blocks > 0:
        step = min(blocks, MINE_STEP)
        node.call("anvil_mine", [hex(step), hex(2)])
        blocks -= step


def pledge_gas(world: World) -> dict[str, int]:
    """Median gas of 5 direct and 5 relayed pledges, one custodian, not a campaign's first."""
    campaign = world.create(threshold=1_000_000)
    world.pledge(campaign)
    direct = sorted(world.pledge(campaign).gas for _ in range(5))
    signed = sorted(world.pledge_with_sig(campaign).gas for _ in range(5))
    return {"pledge": direct[2], "pledgeWithSig": signed[2]}


def measure(world: World, *, quick: bool) -> dict[str, Any]:
    events, age = (10, 2_000) if quick else (100, 20_000)
    campaign = world.create(threshold=events + 10)
    created = int(campaign.created.receipt["blockNumber"])
    for _ in range(events):
        mine(world.node, age // events)
        world.pledge(campaign)
    head = int(world.node.w3.eth.block_number)

    def capped() -> tuple[CappedCounter, Registry]:
        provider = CappedCounter(world.node.rpc)
        return provider, Registry(Web3(provider), world.registry.address, from_block=created)

    new_provider, new_registry = capped()
    t0 = time.monotonic()
    history = new_registry.history(campaign.id)
    new_seconds = time.monotonic() - t0
    assert len(history.pledges) == events

    old_provider, old_registry = capped()
    t0 = time.monotonic()
    scanned = scan(old_registry, campaign.id, created, head)
    old_seconds = time.monotonic() - t0
    assert sum(1 for item in scanned if item.decoder.name == "Pledged") == events

    age_blocks = head - created
    old_calls = old_provider.reads()
    return {
        "events": events,
        "age_blocks": age_blocks,
        "age_days_2s": round(age_blocks / BLOCKS_PER_DAY_2S, 2),
        "cap": CAP,
        "new_calls": new_provider.reads(),
        "new_seconds": round(new_seconds, 3),
        "old_calls": old_calls,
        "old_seconds": round(old_seconds, 3),
        "old_calls_per_day_2s": round(old_calls / age_blocks * BLOCKS_PER_DAY_2S),
        "gas_before": GAS_BEFORE,
        "gas_now": pledge_gas(world),
    }


def rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    r = results.get("reading")
    if not r:
        return []
    where = (
        f"{r['events']} pledges over {r['age_blocks']:,} blocks ({r['age_days_2s']} days at 2 s)"
    )
    per_day = r["old_calls_per_day_2s"]
    out = [
        (
            "reading",
            f"{where}, cap {r['cap']}: new",
            f"{r['new_calls']} calls, {r['new_seconds']} s",
        ),
        (
            "reading",
            f"{where}, cap {r['cap']}: old",
            f"{r['old_calls']} calls, {r['old_seconds']} s",
        ),
        (
            "reading",
            "old scan at 30 days (2 s blocks), extrapolated",
            f"{30 * per_day:,} calls (new: events + 1, whatever the age)",
        ),
    ]
    for name, before in r["gas_before"].items():
        now = r["gas_now"][name]
        out.append(
            (
                "reading",
                f"gas of {name}, n=1: before #15 / now",
                f"{before:,} / {now:,} ({now - before:+,}: 32 bytes of log data for previousBlock)",
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    with anvil() as node:
        world = World.build(node)
        try:
            results = {"reading": measure(world, quick=args.quick)}
        finally:
            world.close()
    print(json.dumps(results, indent=1))
    for section, figure, value in rows(results):
        print(f"{section:<8} {figure}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
