"""`spartacus serve` killed (SIGKILL) while one batch is on its way and more pledges wait in
its queue, and the node's pool lost too: after a restart every queued pledge lands exactly
once, including when its requester sends it again.

anvil mines nothing while the first batch is in flight (automine off), so the kill happens
at a known point: the batch signed and sent, the second wave written to the queue file.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from web3 import HTTPProvider, Web3

from bench import relay as load
from spartacus.chain.registry import Registry
from spartacus.cli.context import dev_account
from tests.cli.conftest import Spartacus

from .conftest import RELAYER
from .test_proxy import SCRIPT, free_port, wait_for

FIRST, SECOND = 6, 4


def serve(spartacus: Spartacus, home: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    environment = dict(os.environ, SPARTACUS_RELAY_NEAR_FRACTION="0", **env)
    return subprocess.Popen(
        [SCRIPT, "--rpc", spartacus.rpc, "--registry", spartacus.registry,
         "--home", str(home), "--dev-account", str(RELAYER), "serve", "--port", str(port)],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def until(what: str, check: Any, seconds: float = 120) -> None:
    """Poll ``check`` (bounded): progress is waited for, never assumed after a sleep."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def queued(home: Path) -> tuple[int, int]:
    """(items waiting, items in a batch) in the relayer's queue file."""
    with sqlite3.connect(home / "web" / "relay-queue.sqlite3") as db:
        waiting = db.execute("SELECT count(*) FROM items WHERE batch IS NULL").fetchone()[0]
        bound = db.execute("SELECT count(*) FROM items WHERE batch IS NOT NULL").fetchone()[0]
    return int(waiting), int(bound)


def post(url: str, body: dict[str, Any]) -> tuple[int, str]:
    try:
        answer = requests.post(f"{url}/api/relay/pledge", json=body, timeout=300)
    except requests.RequestException as exc:  # the kill breaks the held requests
        return 0, type(exc).__name__
    return answer.status_code, "" if answer.ok else str(answer.json().get("error"))


def test_a_killed_relayer_sends_every_queued_pledge_once_after_a_restart(
    spartacus: Spartacus, create_campaign: Any, tmp_path: Path
) -> None:
    campaign_id, _ = create_campaign(threshold=50)
    w3 = Web3(HTTPProvider(spartacus.rpc))
    registry = Registry(w3, spartacus.registry)
    history = registry.history(campaign_id)
    assert history.terms is not None
    keys = [c.campaign_key for c in history.custodians]
    bodies = load.pledge_bodies(
        registry, campaign_id, keys, history.terms.custodian_threshold, FIRST + SECOND
    )
    home, port = tmp_path / "web", free_port()
    url = f"http://127.0.0.1:{port}"
    app = serve(
        spartacus, home, port, SPARTACUS_RELAY_MIX_SECONDS="600",
        SPARTACUS_RELAY_BATCH_MAX=str(FIRST),
    )  # fmt: skip
    pool = ThreadPoolExecutor(FIRST + SECOND)
    try:
        wait_for(f"{url}/api/health", app, "spartacus serve")
        w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
        mined_before = w3.eth.block_number
        # The first wave fills a batch: it is signed and sent, and waits to be mined.
        first = [pool.submit(post, url, body) for body in bodies[:FIRST]]
        until("the first batch in the node's pool", lambda: _pending(w3) == 1)
        # The second wave waits in the queue file (the mixer is waiting for the first).
        second = [pool.submit(post, url, body) for body in bodies[FIRST:]]
        until("the second wave queued", lambda: queued(home) == (SECOND, FIRST))

        app.send_signal(signal.SIGKILL)
        app.wait(timeout=30)
        # The node restarts too and forgets its pool: the batch must be sent again.
        w3.provider.make_request("anvil_dropAllTransactions", [])  # type: ignore[arg-type]
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        assert w3.eth.block_number == mined_before and _pending(w3) == 0
        assert all(f.result()[0] == 0 for f in first + second)  # no one was told anything

        app = serve(spartacus, home, port, SPARTACUS_RELAY_MIX_SECONDS="1")
        wait_for(f"{url}/api/health", app, "spartacus serve (restarted)")
        # Each requester sends its pledge again, as a page does after a broken connection:
        # it waits for the same queued item, or learns that its pledge is already active.
        again = [f.result() for f in [pool.submit(post, url, body) for body in bodies]]
        until("every pledge mined", lambda: registry.info(campaign_id).active == len(bodies))
        until("the queue emptied", lambda: queued(home) == (0, 0))
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        pool.shutdown(wait=False, cancel_futures=True)
        app.terminate()
        app.wait(timeout=30)

    landed = Counter(p.record.account.lower() for p in registry.history(campaign_id).pledges)
    assert landed == Counter(b["account"].lower() for b in bodies)  # each exactly once
    for status, error in again:
        assert status == 200 or (status == 409 and "already has an active pledge" in error), (
            status,
            error,
        )
    # Ten pledges, two transactions: the first batch sent again byte for byte, then the rest.
    senders = Counter(
        w3.eth.get_transaction(tx)["from"]
        for block in range(mined_before + 1, w3.eth.block_number + 1)
        for tx in w3.eth.get_block(block)["transactions"]
    )
    assert senders[dev_account(RELAYER).address] == 2


def _pending(w3: Web3) -> int:
    status = w3.provider.make_request("txpool_status", [])  # type: ignore[arg-type]
    return int(status["result"]["pending"], 16)
