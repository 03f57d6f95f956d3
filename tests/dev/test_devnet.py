"""`make up`'s chain behaves like a real one (issue #16, item 6): blocks come without
traffic, so its clock moves and a campaign's grace period ends on its own."""

from __future__ import annotations

import socket
import subprocess
import time

from web3 import HTTPProvider, Web3

from spartacus.dev.devnet import devnet_anvil


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_demo_chain_mines_blocks_without_transactions() -> None:
    port = _free_port()
    anvil = subprocess.Popen(
        devnet_anvil(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        w3 = Web3(HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 2}))
        first = None
        for _ in range(300):  # bounded: up to ~30 s on a loaded machine
            try:
                block = w3.eth.get_block("latest")
            except Exception:  # noqa: BLE001 - still starting
                time.sleep(0.1)
                continue
            if first is None:
                first = block
            elif block["number"] >= first["number"] + 2:
                break
            time.sleep(0.1)
        assert first is not None, "anvil did not answer"
        assert block["number"] >= first["number"] + 2, "no blocks without transactions"
        assert block["timestamp"] > first["timestamp"]  # the chain's clock moved by itself
        assert w3.eth.get_block_transaction_count(block["number"]) == 0
    finally:
        anvil.terminate()
        anvil.wait(timeout=10)
