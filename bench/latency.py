"""Reveal latency: from the block that reaches the threshold to the blocks holding the release.

anvil mines a block every second (``--block-time 1``), as a busy L2 would, and the
custodian's daemon runs as ``spartacus watch`` in its own process, exactly as a custodian
runs it: first with the shipped settings (a pass every 5 s; 0 confirmations on a local
chain), then with ``--poll 1``. For each of RUNS campaigns (threshold N, one custodian,
members mode) the bench sends the N-th pledge, then waits for the daemon's first and last
``Released`` of that campaign, and records the blocks and seconds between them (block
timestamps), and this machine's clock from the crossing pledge's receipt to seeing the
first release. The crossing pledge is sent after a random pause of up to one daemon pass,
so that runs sample every phase of the daemon's cycle instead of locking onto one (back to
back, each run would start at the same point of the cycle). Members mode publishes two
parts (key seals, then sealed shares), sent one after the other, so the last part lands at
least one block after the first.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .node import anvil
from .world import World

BENCH_PASSPHRASE = "bench passphrase"  # World.build's keystore
THRESHOLD = 5
RUNS = 5
DEFAULT_POLL = 5.0  # `spartacus watch` without --poll
POLLS = (DEFAULT_POLL, 1.0)
WAIT = 90.0  # seconds before a run counts as missed
SCRIPT = str(Path(sys.executable).parent / "spartacus")


def measure(
    runs: int = RUNS, threshold: int = THRESHOLD, polls: tuple[float, ...] = POLLS
) -> dict[str, Any]:
    """Reveal latency at each daemon poll interval in ``polls``, on one anvil and registry."""
    by_poll: list[dict[str, Any]] = []
    with anvil("--block-time", "1") as node:
        world = World.build(node)
        try:
            for poll in polls:
                by_poll.append(_measure_poll(world, poll, runs, threshold))
        finally:
            world.close()
    return {"block_time_s": 1, "threshold": threshold, "runs": runs, "polls": by_poll}


def _measure_poll(world: World, poll: float, runs: int, threshold: int) -> dict[str, Any]:
    home = world.keystore.root.parent
    env = dict(os.environ, SPARTACUS_PASSPHRASE=BENCH_PASSPHRASE)
    env.pop("SPARTACUS_PRIVATE_KEY", None)
    command = [SCRIPT, "--rpc", world.node.rpc, "--registry", world.registry.address,
               "--home", str(home), "watch"]  # fmt: skip
    if poll != DEFAULT_POLL:
        command += ["--poll", f"{poll:g}"]
    daemon = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    samples: list[dict[str, float]] = []
    missed = 0
    try:
        for _ in range(runs):
            campaign = world.create(threshold=threshold, keystore_custodian=True)
            for _ in range(threshold - 1):
                world.pledge(campaign)
            time.sleep(random.uniform(0, poll))  # a random phase of the daemon's cycle
            crossing = world.pledge(campaign)
            seen_at = time.monotonic()
            sample = _wait_for_release(world, campaign.id, crossing.receipt, seen_at)
            if sample is None:
                missed += 1
            else:
                samples.append(sample)
    finally:
        daemon.terminate()
        daemon.wait(timeout=70)

    def median(key: str) -> float | None:
        return statistics.median(s[key] for s in samples) if samples else None

    def highest(key: str) -> float | None:
        return max(s[key] for s in samples) if samples else None

    return {
        "daemon_poll_s": poll,
        "default": poll == DEFAULT_POLL,
        "missed": missed,
        "first_release_blocks": median("first_blocks"),
        "first_release_seconds": median("first_seconds"),
        "first_release_blocks_max": highest("first_blocks"),
        "last_release_blocks": median("last_blocks"),
        "last_release_seconds": median("last_seconds"),
        "last_release_blocks_max": highest("last_blocks"),
        "wall_seconds_to_first_release": median("wall_first"),
        "samples": samples,
    }


def _wait_for_release(
    world: World, campaign_id: int, receipt: Any, sent_at: float
) -> dict[str, float] | None:
    """Blocks and seconds from the crossing pledge to the first and the last release part."""
    w3 = world.node.w3
    start_block = int(receipt["blockNumber"])
    start_time = int(w3.eth.get_block(start_block)["timestamp"])
    deadline = time.monotonic() + WAIT
    first_wall: float | None = None
    settled = 0
    last_count = 0
    while time.monotonic() < deadline:
        history = world.registry.history(campaign_id)
        if history.revealed_at() != start_block:
            raise RuntimeError(f"campaign {campaign_id} did not reveal at its crossing pledge")
        releases = history.releases
        if releases and first_wall is None:
            first_wall = time.monotonic() - sent_at
        if releases and len(releases) == last_count:
            settled += 1
            if settled >= 3:  # no new part for three polls: the round is complete
                first, last = releases[0].block_number, releases[-1].block_number
                return {
                    "first_blocks": first - start_block,
                    "first_seconds": int(w3.eth.get_block(first)["timestamp"]) - start_time,
                    "last_blocks": last - start_block,
                    "last_seconds": int(w3.eth.get_block(last)["timestamp"]) - start_time,
                    "wall_first": first_wall or 0.0,
                    "parts": len(releases),
                }
        else:
            settled = 0
        last_count = len(releases)
        time.sleep(0.25 if not releases else 1.0)
    return None


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=2))
