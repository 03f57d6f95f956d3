"""A private anvil for the bench, a batching JSON-RPC client, and the machine's description."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from web3 import HTTPProvider, Web3

from spartacus.chain.anvil import anvil_command, anvil_path

START_TIMEOUT = 30.0
BATCH = 250


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Node:
    """A running anvil: its RPC URL, a Web3 on it, and a raw session for batches."""

    rpc: str
    w3: Web3
    session: requests.Session

    def call(self, method: str, params: Sequence[Any]) -> Any:
        return self.batch([(method, params)])[0]

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Send calls in JSON-RPC batches of ``BATCH``; results in order; raise on any error."""
        results: list[Any] = []
        for start in range(0, len(calls), BATCH):
            chunk = calls[start : start + BATCH]
            payload = [
                {"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)}
                for i, (m, p) in enumerate(chunk)
            ]
            response = self.session.post(self.rpc, json=payload, timeout=300)
            response.raise_for_status()
            answers = sorted(response.json(), key=lambda a: a["id"])
            for answer in answers:
                if "error" in answer:
                    method = chunk[answer["id"]][0]
                    raise RuntimeError(f"{method} failed on anvil: {answer['error']}")
                results.append(answer["result"])
        return results

    def mine(self) -> None:
        self.call("evm_mine", [])

    def travel(self, seconds: int) -> None:
        self.call("evm_increaseTime", [seconds])
        self.call("evm_mine", [])


@contextmanager
def anvil(*extra: str) -> Iterator[Node]:
    """Start anvil on a free loopback port (auto-impersonation on, for bulk pledges); stop it.

    ``extra`` arguments go to anvil as they are (e.g. ``"--block-time", "1"``).
    """
    port = free_port()
    process = subprocess.Popen(
        anvil_command(port, "--silent", "--auto-impersonate", "--accounts", "10", *extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    rpc = f"http://127.0.0.1:{port}"
    w3 = Web3(HTTPProvider(rpc, request_kwargs={"timeout": 300}))
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                err = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"anvil exited with code {process.returncode}: {err}")
            try:
                if w3.is_connected():
                    break
            except Exception:  # noqa: BLE001 - still starting
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"anvil did not answer on {rpc} within {START_TIMEOUT:.0f} s")
            time.sleep(0.1)
        with requests.Session() as session:
            yield Node(rpc, w3, session)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(node: Node | None) -> dict[str, Any]:
    """CPU, cores, Python, anvil version and the chain's hardfork."""
    version = subprocess.run(
        [anvil_path(), "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.splitlines()
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "anvil": version[0] if version else "unknown",
    }
    if node is not None:
        node_info = node.call("anvil_nodeInfo", [])
        info["hardfork"] = str(node_info.get("hardFork", "unknown"))
        info["block_gas_limit"] = int(node.w3.eth.get_block("latest")["gasLimit"])
    return info
