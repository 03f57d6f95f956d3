"""The printed table and bench/results.json (written atomically), from one results dict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from spartacus.dev.build import write_atomic

from . import groups, reading

PLEDGE_DIRECT_AIM = 72_000
PLEDGE_SIGNED_AIM = 78_000
FLOOR_RATIO_AIM = 1.15
ROSTER_AIM_SECONDS = 3.0
ROSTER_AIM_SIZE = 10_000

NOT_MEASURED: dict[str, str] = {}
FAN_OUT_AIM_SECONDS = 1.0


def aims(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each aim of issue 5 that this run can judge: the figure, the aim, met or not."""
    out: dict[str, dict[str, Any]] = {}
    pledge = results.get("gas", {}).get("pledge", {})
    for key, label, budget in (
        ("n1_direct", "pledge, 1 custodian, direct", PLEDGE_DIRECT_AIM),
        ("n1_signed", "pledgeWithSig, 1 custodian", PLEDGE_SIGNED_AIM),
    ):
        if key in pledge:
            figure = pledge[key]
            out[f"{label}: gas < {budget:,}"] = {
                "value": figure["gas"], "met": figure["gas"] < budget,
            }  # fmt: skip
            out[f"{label}: gas <= {FLOOR_RATIO_AIM}x floor"] = {
                "value": figure["ratio"], "met": figure["ratio"] <= FLOOR_RATIO_AIM,
            }  # fmt: skip
    crossing = results.get("gas", {}).get("threshold_crossing", {})
    if len(crossing) >= 2:
        executions = [crossing[n]["execution"] for n in sorted(crossing, key=int)]
        out["threshold-crossing pledge does not grow with N (execution gas)"] = {
            "value": executions, "met": max(executions) - min(executions) <= 200,
        }  # fmt: skip
    for size in results.get("scale", {}).values():
        if size["pledges"] == ROSTER_AIM_SIZE:
            total = size["roster"]["total_seconds"]
            out[f"roster of {ROSTER_AIM_SIZE:,} read in < {ROSTER_AIM_SECONDS} s"] = {
                "value": total, "met": total < ROSTER_AIM_SECONDS,
            }  # fmt: skip
    for step in results.get("web", {}).get("fan_out", []):
        if step["viewers"] >= 500:
            out[f"{step['viewers']:,} live viewers updated within {FAN_OUT_AIM_SECONDS:.0f} s"] = {
                "value": step["within_1s"], "met": step["within_1s"] == 1.0 and not step["refused"],
            }  # fmt: skip
    fan = results.get("web", {}).get("fan_out", [])
    if len(fan) >= 2:
        calls = [step["rpc_calls_per_block"] for step in fan]
        out["RPC calls per block flat as viewers grow"] = {
            "value": calls, "met": max(calls) - min(calls) <= 1.0,
        }  # fmt: skip
    if "groups" in results:
        out.update(groups.aims(results["groups"]))
    relay = results.get("relay")
    if relay:
        out["relayed pledges: nothing lost or duplicated"] = {
            "value": {k: relay[k] for k in ("accepted", "on_chain", "lost", "duplicated")},
            "met": relay["nothing_lost"],
        }  # fmt: skip
    return out


def _latency_rows(latency: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for p in (latency or {}).get("polls", []):
        poll = f"daemon pass every {p['daemon_poll_s']:g} s{' (default)' if p['default'] else ''}"
        if p["first_release_blocks"] is None:
            rows.append(("reveal", f"threshold -> release, {poll}", f"missed all {p['missed']}"))
            continue
        for which in ("first", "last"):
            rows.append(
                ("reveal", f"threshold -> {which} release part, {poll}, 1 s blocks",
                 f"median {p[f'{which}_release_blocks']:g} blocks "
                 f"({p[f'{which}_release_seconds']:g} s), most "
                 f"{p[f'{which}_release_blocks_max']:g}; missed {p['missed']}")
            )  # fmt: skip
    return rows


def _web_rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    web = results.get("web")
    if web:
        for key, label in (("page", "campaign page"), ("api", "campaign JSON")):
            w = web[key]
            rows.append(
                (
                    "web",
                    f"{label}, {w['requests']} requests, 16 clients",
                    f"p50 {w['p50_ms']:.1f} ms, p99 {w['p99_ms']:.1f} ms, {w['per_second']:,.0f}/s",
                )
            )
        for step in web["fan_out"]:
            if step["viewers"]:
                rows.append(
                    (
                        "web",
                        f"{step['viewers']:,} live viewers: update after a block",
                        f"p50 {step['p50_ms']:.0f} ms, p99 {step['p99_ms']:.0f} ms, "
                        f"max {step['max_ms']:.0f} ms, "
                        f"within 1 s {100 * step['within_1s']:.0f}%, "
                        f"refused {step['refused']}, missed {step['missed']}",
                    )
                )
            if "server_memory_mb" in step:
                rows.append(
                    (
                        "web",
                        f"server with {step['viewers']:,} live viewers",
                        f"{step['server_memory_mb']:.0f} MB resident, "
                        f"{step['server_cpu_ms_per_block']:.0f} ms CPU per block "
                        f"(machine load {step['load_average']:.1f})",
                    )
                )
            rows.append(
                (
                    "web",
                    f"RPC calls per block, {step['viewers']} viewers",
                    f"{step['rpc_calls_per_block']:.1f}",
                )
            )
    relay = results.get("relay")
    if relay:
        rows.append(
            (
                "relay",
                f"{relay['sent']} concurrent relay requests, restart midway",
                f"accepted {relay['accepted']}, refused {relay['refused']} (all with a "
                f"reason), on chain {relay['on_chain']}, lost {relay['lost']}, "
                f"duplicated {relay['duplicated']}, {relay['seconds']:.0f} s",
            )
        )
    for size, per in results.get("relay_batches", {}).items():
        rows.append(
            ("relay", f"gas per relayed pledge, through the mixer in a batch of {size}", f"{per:,}")
        )
    return rows  # fmt: skip


def _gas_rows(gas: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    create = gas["create"]
    rows.append(("gas", "createCampaign, 1 custodian", f"{create['custodians_1']:,}"))
    rows.append(("gas", "createCampaign, 3 custodians (t=2)", f"{create['custodians_3_t2']:,}"))
    names = {
        "n1_direct": "pledge, n=1, direct",
        "n1_signed": "pledgeWithSig, n=1, relayed",
        "n3_t2_direct": "pledge, n=3 t=2, direct",
        "n3_t2_signed": "pledgeWithSig, n=3 t=2, relayed",
    }
    for key, label in names.items():
        f = gas["pledge"][key]
        rows.append(("gas", label, f"{f['gas']:,} (floor {f['floor']:,}, {f['ratio']:.3f}x)"))
    e = gas["erc20_transfer"]
    rows.append(
        ("gas", "yardstick: OZ ERC-20 transfer", f"{e['gas']:,} (floor {e['floor']:,}, "
         f"{e['ratio']:.3f}x)")
    )  # fmt: skip
    rows.append(("gas", "withdraw, direct", f"{gas['withdraw']['direct']:,}"))
    rows.append(("gas", "withdrawWithSig, relayed", f"{gas['withdraw']['signed']:,}"))
    for size, per in gas.get("batch_per_pledge", {}).items():
        label = "pledgeWithSig alone" if size == "1" else f"pledgeWithSigBatch of {size}"
        rows.append(("gas", f"relayed pledge, n=1: {label}, per pledge", f"{per:,}"))
    for n, f in sorted(gas["threshold_crossing"].items(), key=lambda kv: int(kv[0])):
        rows.append(_crossing_row("gas", f"{int(n):,}", f))
    rows.append(("gas", "finalize (grace over, reveals)", f"{gas['finalize']:,}"))
    for mode, r in gas["release_per_member"].items():
        rows.append(
            ("gas", f"release per member, {mode} mode ({r['members']:,} members)",
             f"{r['gas_per_member']:,} (floor {r['floor_per_member']:,}, {r['ratio']:.3f}x; "
             f"{r['transactions']} tx)")
        )  # fmt: skip
    return rows


def _crossing_row(section: str, n: str, figures: dict[str, int]) -> tuple[str, str, str]:
    """The gas of the pledge that reaches N, with its execution part."""
    gas = f"{figures['gas']:,} (execution {figures['execution']:,})"
    return (section, f"threshold-crossing pledge, N={n}", gas)


def _scale_rows(scale: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for size in scale.values():
        n = f"{size['pledges']:,}"
        rows.append(("scale", f"status, {n} pledges (median)", f"{size['status_seconds']:.3f} s"))
        rows.append(("scale", f"verify, {n} pledges (median)", f"{size['verify_seconds']:.3f} s"))
        rows.append(_crossing_row("scale", n, size["threshold_crossing"]))
        r = size["roster"]
        rows.append(
            ("roster", f"member reads {n}: fetch logs (raw rpc + decode)",
             f"{r['fetch_seconds']:.3f} s ({r['fetch_rpc_seconds']:.3f} + "
             f"{r['fetch_decode_seconds']:.3f})")
        )  # fmt: skip
        rows.append(("roster", f"member reads {n}: decrypt", f"{r['decrypt_seconds']:.3f} s"))
        rows.append(("roster", f"member reads {n}: total", f"{r['total_seconds']:.3f} s"))
        rows.append(
            ("roster", f"  (floor: raw rpc + eth_abi of 2 events, {n})",
             f"{r['lean_fetch_seconds']:.3f} s")
        )  # fmt: skip
        rel = size["release"]
        rows.append(
            ("release", f"custodian releases {n} (members)",
             f"{rel['wall_seconds']:.2f} s, {rel['transactions']} tx, {rel['gas']:,} gas "
             f"({rel['gas_per_member']:,}/member, {rel['ratio']:.3f}x floor)")
        )  # fmt: skip
    return rows


def _crypto_rows(crypto: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for label in ("n1_t1", "n3_t2"):
        c = crypto[label]
        rows += [
            ("crypto", f"pledges sealed/s ({label})", f"{c['pledges_sealed_per_second']:,.0f}"),
            ("crypto", f"pledges built/s incl. key derivation ({label})",
             f"{c['pledges_built_per_second_with_key_derivation']:,.0f}"),
            ("crypto", f"custodian boxes opened/s ({label})",
             f"{c['boxes_opened_per_second']:,.0f}"),
            ("crypto", f"pledges opened from releases/s ({label}, {c['custodians_releasing']} "
             "releasing)", f"{c['roster_pledges_opened_per_second']:,.0f}"),
        ]  # fmt: skip
    for name, value in crypto["shamir_combine_per_second"].items():
        rows.append(("crypto", f"Shamir combines/s, {name}", f"{value:,.0f}"))
    return rows


def table(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Spartacus bench ({results['mode']}), {results['date']}",
        f"machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), "
        f"Python {m['python']}, {m['anvil']}, hardfork {m.get('hardfork')}, "
        f"EIP-7623 floor {'on' if results['eip7623'] else 'off'}",
        f"timings: median of {results['runs']} runs (3 at 10,000); "
        f"bench took {results['bench_seconds']:.0f} s",
        "",
    ]
    rows = _gas_rows(results["gas"]) + _scale_rows(results["scale"])
    rows += groups.rows(results["groups"]) if "groups" in results else []
    rows += _crypto_rows(results["crypto"])
    rows += _latency_rows(results.get("latency"))
    rows += _web_rows(results)
    rows += reading.rows(results)
    rows += [("later", k, v) for k, v in results["not_measured"].items()]
    rows += [("skipped", k, v) for k, v in results.get("skipped", {}).items()]
    width = max(len(r[1]) for r in rows)
    for section, figure, value in rows:
        lines.append(f"{section:<8} {figure:<{width}}  {value}")
    lines.append("")
    for aim, verdict in results["aims"].items():
        lines.append(f"aim {'MET   ' if verdict['met'] else 'MISSED'} {aim}: {verdict['value']}")
    return "\n".join(lines)


def write(path: Path, results: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(results, indent=1, sort_keys=True) + "\n")
    path.chmod(0o644)  # a public result, unlike the private files write_atomic is made for
