"""A private anvil over JSON-RPC for tests that need a fast real EVM (pairing precompiles)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from web3 import HTTPProvider, Web3

from spartacus.chain.anvil import anvil_command


@contextmanager
def anvil(env: dict[str, str] | None = None) -> Iterator[Web3]:
    """Start anvil on a free loopback port (with ``env`` as its environment, if given); yield a
    Web3 on it; stop it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    process = subprocess.Popen(
        anvil_command(port, "--silent"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    w3 = Web3(HTTPProvider(f"http://127.0.0.1:{port}"))
    try:
        for _ in range(150):
            if process.poll() is not None:
                raise RuntimeError("anvil exited")
            try:
                if w3.is_connected():
                    break
            except Exception:  # noqa: BLE001 - still starting
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("anvil did not start")
        yield w3
    finally:
        process.terminate()
        process.wait(timeout=10)


def travel(w3: Web3, seconds: int) -> None:
    """Move anvil's clock forward and mine a block."""
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
