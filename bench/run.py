"""``make bench`` / ``python -m bench.run [--quick]``: measure, print the table, write JSON.

Starts a private anvil on a free loopback port and stops it at the end. Full mode measures
campaigns of 1,000 and 10,000 pledges (about 5 to 10 minutes on two cores); ``--quick`` uses
small sizes (under 2 minutes) to check that everything works.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import cryptobench, gas, groups, l2fees, latency, reading, relay, report, scale, web
from .node import anvil, machine
from .world import World, workers

HERE = Path(__file__).resolve().parent
PRE_PRAGUE = {"frontier", "homestead", "byzantium", "constantinople", "petersburg", "istanbul",
              "berlin", "london", "paris", "merge", "shanghai", "cancun"}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--runs", type=int, default=5, help="runs per timing (median)")
    parser.add_argument(
        "--budget", type=float, default=15.0, help="minutes; skip 10,000 if it would not fit"
    )
    parser.add_argument(
        "--viewers", type=int, help=f"live-count viewers of one campaign (default {web.VIEWERS:,})"
    )
    parser.add_argument("--out", type=Path, help="JSON output (default bench/results.json)")
    args = parser.parse_args(argv)
    out = args.out or HERE / ("results-quick.json" if args.quick else "results.json")
    runs = 3 if args.quick else max(1, args.runs)
    started = time.monotonic()
    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "runs": runs,
        "not_measured": report.NOT_MEASURED,
        "skipped": {},
    }
    cores = workers()
    with anvil() as node:
        results["machine"] = machine(node)
        results["eip7623"] = str(results["machine"]["hardfork"]).lower() not in PRE_PRAGUE
        world = World.build(node)
        try:
            _progress("gas")
            results["gas"] = gas.measure(world, quick=args.quick, workers=cores)
            _progress("reading a campaign under a 10-block eth_getLogs cap, old and new")
            results["reading"] = reading.measure(world, quick=args.quick)
            results["scale"] = {}
            sizes = (100,) if args.quick else (1_000, 10_000)
            for size in sizes:
                elapsed = time.monotonic() - started
                if size >= 10_000 and "1000" in results["scale"]:
                    # Everything but verify scales linearly; allow 15x the 1,000 run.
                    projected = elapsed + 15 * results["scale"]["1000"]["section_seconds"]
                    if projected > args.budget * 60:
                        results["skipped"][f"{size:,} pledges"] = (
                            f"skipped: projected {projected / 60:.1f} min "
                            f"> budget {args.budget} min"
                        )
                        continue
                _progress(f"scale {size:,}")
                t0 = time.monotonic()
                figures = scale.measure_size(
                    world, size, runs=min(runs, 3) if size >= 10_000 else runs, workers=cores
                )
                figures["section_seconds"] = round(time.monotonic() - t0, 1)
                results["scale"][str(size)] = figures
                results["gas"]["threshold_crossing"][str(size)] = figures["threshold_crossing"]
            _progress("groups: membership gas and a proof")
            results["groups"] = groups.measure(node, quick=args.quick)
            results["l2_costs"] = l2fees.price(results["gas"], results["groups"])
            _progress("crypto")
            results["crypto"] = cryptobench.measure(quick=args.quick, runs=runs)
        finally:
            world.close()
    _progress("reveal latency (anvil mining every second, the daemon running at 5 s and 1 s)")
    results["latency"] = latency.measure(runs=1 if args.quick else latency.RUNS)
    _progress("web: page latency, live viewers, RPC calls per block")
    viewers = args.viewers or (50 if args.quick else web.VIEWERS)
    results["web"] = web.measure(viewers, quick=args.quick)
    _progress("relay: concurrent pledges with a restart midway")
    results["relay"] = relay.measure(100 if args.quick else 1000)
    _progress("relay: gas per pledge in the mixer's batches of 1, 10 and 50")
    results["relay_batches"] = relay.measure_batches()
    results["aims"] = report.aims(results)
    results["bench_seconds"] = round(time.monotonic() - started, 1)
    print(report.table(results))
    print("\n" + l2fees.table(results["l2_costs"]))
    report.write(out, results)
    print(f"\nwrote {out}")
    return 0


def _progress(what: str) -> None:
    print(f"... {what}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
