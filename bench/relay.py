"""Concurrent pledges through the relayer over HTTP on loopback, and a count of what landed.

Used by the web load test (a few hundred pledges, with the web app restarted midway) and
by ``python -m bench.relay`` (1,000 pledges). Each pledger is sealed and signed like a
browser would; a share of the requests are deliberately bad (duplicates, wrong sizes,
re-targeted signatures) so refusals are exercised too. A client whose connection breaks
asks the API whether its pledge is active before trying again, as the page does.
Everything is bounded: a fixed number of requests, retries and seconds.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from eth_account import Account
from eth_account.messages import encode_typed_data

from spartacus import protocol
from spartacus.chain.registry import Registry

RETRIES = 5
TIMEOUT = 60.0


@dataclass
class Outcome:
    account: str
    status: int
    error: str = ""
    retried: int = 0
    bad: bool = False
    duplicate: bool = False  # the very bytes of a good request: it may land in its place


@dataclass
class LoadReport:
    """Counted per pledger, not per request: a good request and its identical duplicate
    race, and whichever the relayer takes first is the pledge (the other is refused, or,
    after a broken connection, told by the API that its pledge is active)."""

    sent: int
    accepted: int  # pledgers told their pledge was taken (a 200 to any of their requests)
    refused: int  # requests answered with an error
    refused_reasons: dict[str, int]
    on_chain: int
    lost: int  # accepted, but no Pledged event for the account
    duplicated: int  # more than one Pledged event for an account
    unexpected: int  # a malformed or re-targeted request taken, or a refusal without reason
    seconds: float
    active: int
    transactions: int  # distinct transactions the pledges landed in (batches)
    outcomes: list[Outcome] = field(default_factory=list, repr=False)


def pledge_bodies(
    registry: Registry, campaign_id: int, custodian_keys: list[bytes], t: int, count: int
) -> list[dict[str, Any]]:
    """``count`` sealed and signed pledges, one fresh pledger each."""
    bodies = []
    for number in range(count):
        keys = protocol.derive_keys(protocol.new_secret())
        contact = protocol.Contact(f"Member {number}", f"member{number}@example.org")
        sealed = protocol.seal_pledge(
            registry.deployment, campaign_id, keys, contact, custodian_keys, t
        )
        until = registry.default_valid_until()
        typed = protocol.pledge_typed_data(
            registry.chain_id, registry.address, campaign_id, sealed, 0, until
        )
        signature = Account.sign_message(encode_typed_data(full_message=typed), keys.account_key)
        bodies.append(
            {
                "campaignId": campaign_id,
                "account": keys.account,
                "memberKey": "0x" + sealed.member_key.hex(),
                "ciphertext": "0x" + sealed.ciphertext.hex(),
                "boxes": "0x" + sealed.boxes.hex(),
                "commitment": "0x" + sealed.commitment.hex(),
                "validUntil": until,
                "signature": "0x" + bytes(signature.signature).hex(),
            }
        )
    return bodies


def bad_requests(good: list[dict[str, Any]], every: int) -> list[dict[str, Any]]:
    """Every ``every``-th good pledge again as a duplicate, a short ciphertext, or re-signed.

    A duplicate is equal to its good twin (``is_duplicate`` tells them apart from the rest)."""
    out = []
    for number, body in enumerate(good[::every]):
        kind = number % 3
        if kind == 0:
            out.append(dict(body))  # the same pledge twice: exactly one may land
        elif kind == 1:
            out.append(dict(body, ciphertext=body["ciphertext"][:-2]))
        else:
            out.append(dict(body, account=good[-1 - number]["account"]))  # someone else's
    return out


def is_duplicate(body: dict[str, Any], good: list[dict[str, Any]]) -> bool:
    """Whether ``body`` is byte for byte one of the good requests."""
    return body in good


def send(url: str, body: dict[str, Any], bad: bool, duplicate: bool = False) -> Outcome:
    """POST one pledge; after a broken connection, ask whether it landed before retrying."""
    outcome = _send(url, body, bad)
    outcome.duplicate = duplicate
    return outcome


def _send(url: str, body: dict[str, Any], bad: bool) -> Outcome:
    account = body["account"]
    for attempt in range(RETRIES):
        try:
            response = requests.post(f"{url}/api/relay/pledge", json=body, timeout=TIMEOUT)
        except requests.RequestException:
            time.sleep(0.5 * (attempt + 1))
            if not bad and _active(url, body):
                return Outcome(account, 200, retried=attempt + 1)
            continue
        if response.status_code in (429, 503):  # busy, or restarting: wait and try again
            time.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        if response.status_code == 504 and not bad:
            # No outcome yet (the relayer restarted with it queued, say): it may still land.
            # As the page does, keep it, check, and send the very same request again: the
            # relayer then waits for the same queued item rather than making another.
            time.sleep(0.5 * (attempt + 1))
            if _active(url, body):
                return Outcome(account, 200, retried=attempt + 1)
            continue
        if not response.ok and attempt and not bad and _active(url, body):
            return Outcome(account, 200, retried=attempt)  # the broken attempt had landed
        error = "" if response.ok else str(response.json().get("error", ""))
        return Outcome(account, response.status_code, error, attempt, bad)
    return Outcome(account, 0, "no answer after retries", RETRIES, bad)


def _active(url: str, body: dict[str, Any]) -> bool:
    try:
        answer = requests.post(
            f"{url}/api/campaigns/{body['campaignId']}/account",
            json={"account": body["account"]},
            timeout=10,
        )
        return bool(answer.ok and answer.json()["active"])
    except requests.RequestException:
        return False


def run(
    url: str,
    registry: Registry,
    campaign_id: int,
    good: list[dict[str, Any]],
    bad: list[dict[str, Any]],
    *,
    workers: int = 32,
    midway: Any = None,
) -> LoadReport:
    """Send everything concurrently; call ``midway()`` (e.g. a restart) halfway through."""
    jobs = [(body, False, False) for body in good]
    jobs += [(body, True, is_duplicate(body, good)) for body in bad]
    # Interleave the bad among the good, the same way on every run (str hashes are salted).
    jobs.sort(key=lambda job: hashlib.sha256(repr(job).encode()).digest())
    start = time.monotonic()
    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(workers) as pool:
        half = len(jobs) // 2
        futures = [pool.submit(send, url, *job) for job in jobs[:half]]
        if midway is not None:
            while sum(f.done() for f in futures) < half // 2:
                time.sleep(0.05)
            midway()
        futures += [pool.submit(send, url, *job) for job in jobs[half:]]
        outcomes = [f.result() for f in futures]
    seconds = time.monotonic() - start

    history = registry.history(campaign_id)
    landed = Counter(p.record.account.lower() for p in history.pledges)
    taken = [o for o in outcomes if o.status == 200]
    accepted = {o.account.lower() for o in taken if not o.bad or o.duplicate}
    refused = [o for o in outcomes if o.status != 200]
    good_accounts = {b["account"].lower() for b in good}
    return LoadReport(
        sent=len(outcomes),
        accepted=len(accepted),
        refused=len(refused),
        refused_reasons=dict(Counter(_reason(o.error) for o in refused)),
        on_chain=sum(landed.values()),
        lost=sum(1 for account in accepted if landed[account] == 0),
        duplicated=sum(1 for n in landed.values() if n > 1),
        unexpected=sum(1 for o in refused if not o.error)
        + sum(1 for o in taken if o.bad and not o.duplicate)
        + sum(1 for a in landed if a not in good_accounts),
        seconds=seconds,
        active=registry.info(campaign_id).active,
        transactions=len({p.tx_hash for p in history.pledges}),
        outcomes=outcomes,
    )


def good_refused(report: LoadReport) -> list[str]:
    """The refusals of pledgers whose pledge was not taken through any of their requests."""
    taken = {o.account.lower() for o in report.outcomes if o.status == 200 and not o.bad}
    taken |= {o.account.lower() for o in report.outcomes if o.status == 200 and o.duplicate}
    return [
        o.error
        for o in report.outcomes
        if not o.bad and o.status != 200 and o.account.lower() not in taken
    ]


def _reason(error: str) -> str:
    """The reason without the addresses in it, to count refusals by kind."""
    words = [w for w in error.split() if not w.startswith("0x") and not w[:1].isdigit()]
    return " ".join(words[:8]) or "(no reason)"


def listen(app: Any, port: int, threads: int) -> Any:
    """A waitress server on loopback; a port just closed by a restart may take a moment."""
    import waitress

    for _ in range(40):
        try:
            return waitress.create_server(
                app, host="127.0.0.1", port=port, threads=threads, connection_limit=500
            )
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"port {port} stayed busy for 10 s")


def measure(count: int = 1000) -> dict[str, Any]:
    """COUNT concurrent pledges through the relayer on loopback, a restart midway."""
    import logging
    import tempfile
    import threading

    from spartacus.cli.context import dev_account
    from spartacus.web import create_app

    from .node import anvil
    from .world import World

    with anvil() as node, tempfile.TemporaryDirectory(prefix="spartacus-relay-") as home:
        world = World.build(node)
        campaign = world.create(threshold=count + 1)
        config = {
            "RPC": node.rpc,
            "REGISTRY": world.registry.address,
            "HOME": home,
            "RELAYER_KEY": dev_account(8),
            "RELAY_PER_CAMPAIGN_PER_MINUTE": 100_000,
            "RELAY_NEAR_FRACTION": 0,  # throughput, not the slow-down near the threshold
            "RELAY_PER_HOUR": 100_000,
            "POLL_INTERVAL": 0.5,
        }
        servers: list[Any] = []

        def start(port: int = 0) -> int:
            app = create_app(config)
            app.extensions["spartacus"].start()
            server = listen(app, port, threads=72)
            threading.Thread(target=server.run, daemon=True).start()
            servers.append((server, app.extensions["spartacus"]))
            return int(server.effective_port)

        def restart() -> None:
            server, state = servers[-1]
            # The restart is a deliberate crash: waitress then logs a traceback for each
            # request it was serving (its wake-up pipe is gone). Those requests are counted
            # in the report's outcomes; the tracebacks would only clutter the table.
            logging.getLogger("waitress").setLevel(logging.CRITICAL)
            server.close()
            state.stop()
            start(port)

        port = start()
        good = pledge_bodies(world.registry, campaign.id, campaign.keys, campaign.t, count)
        bad = bad_requests(good, every=10)
        report = run(
            f"http://127.0.0.1:{port}", world.registry, campaign.id, good, bad,
            workers=64, midway=restart,
        )  # fmt: skip
        servers[-1][0].close()
        servers[-1][1].stop()
        world.close()
    figures = {k: v for k, v in vars(report).items() if k != "outcomes"}
    figures["good_refused"] = good_refused(report)
    figures["nothing_lost"] = (
        report.lost == 0
        and report.duplicated == 0
        and report.unexpected == 0
        and report.accepted == report.on_chain == report.active == count
    )
    return figures


def _post(endpoint: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(endpoint, json=body, timeout=TIMEOUT)


def measure_batches(sizes: tuple[int, ...] = (1, 10, 50)) -> dict[str, int]:
    """Gas per relayed pledge when the relayer's mixer sends batches of each size: that many
    pledges POSTed at once to the web app (window long, batch size the number sent, so the
    batch is cut when the last one is queued), the batch transaction's gas divided by it."""
    import logging
    import tempfile
    import threading

    from spartacus.cli.context import dev_account
    from spartacus.web import create_app

    from .node import anvil
    from .world import World

    logging.getLogger("waitress").setLevel(logging.CRITICAL)  # its noise on close
    out: dict[str, int] = {}
    with anvil() as node, tempfile.TemporaryDirectory(prefix="spartacus-mix-") as home:
        world = World.build(node)
        campaign = world.create(threshold=1_000_000)
        world.pledge(campaign)  # none of the measured pledges is the campaign's first
        for size in sizes:
            config = {
                "RPC": node.rpc,
                "REGISTRY": world.registry.address,
                "HOME": f"{home}/{size}",
                "RELAYER_KEY": dev_account(8),
                "RELAY_PER_CAMPAIGN_PER_MINUTE": 100_000,
                "RELAY_NEAR_FRACTION": 0,
                "RELAY_MIX_SECONDS": 600,
                "RELAY_BATCH_MAX": size,
                "POLL_INTERVAL": 0.5,
            }
            app = create_app(config)
            state = app.extensions["spartacus"]
            state.start()
            server = listen(app, 0, threads=size + 8)
            threading.Thread(target=server.run, daemon=True).start()
            url = f"http://127.0.0.1:{server.effective_port}"
            bodies = pledge_bodies(world.registry, campaign.id, campaign.keys, campaign.t, size)
            endpoint = f"{url}/api/relay/pledge"
            with ThreadPoolExecutor(size) as pool:
                answers = list(pool.map(_post, [endpoint] * size, bodies))
            server.close()
            state.stop()
            hashes = {a.json()["txHash"] for a in answers if a.ok}
            if len(hashes) != 1 or not all(a.ok for a in answers):
                raise RuntimeError(f"batch of {size}: {[a.text[:200] for a in answers]}")
            receipt = world.registry.w3.eth.get_transaction_receipt(hashes.pop())
            out[str(size)] = round(int(receipt["gasUsed"]) / size)
        world.close()
    return out


def main() -> int:
    """``python -m bench.relay [COUNT]``: COUNT (1,000) concurrent pledges, a restart midway."""
    import json
    import sys

    figures = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
    print(json.dumps(figures, indent=2, default=str))
    return 0 if figures["nothing_lost"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
