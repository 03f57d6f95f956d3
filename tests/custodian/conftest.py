"""Watcher tests: anvil over JSON-RPC, the daemon as a real `spartacus watch` subprocess.

The anvil node, the CLI runner and the campaign factories come from ``tests/cli``. A
``Daemon`` runs the console script, collects its JSON log lines from stderr, and lets a
test wait (polling, with a bounded timeout) for an event or a state the daemon saved.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import HTTPProvider, Web3

from spartacus import protocol
from spartacus.chain.registry import Registry
from tests.cli import conftest as cli
from tests.cli.conftest import CustodianRole, Spartacus

# The fixtures shared with the CLI tests: one anvil, a fresh registry per test, factories.
anvil_rpc = cli.anvil_rpc
w3 = cli.w3
spartacus = cli.spartacus
travel = cli.travel
make_custodians = cli.make_custodians
create_campaign = cli.create_campaign

SCRIPT = str(Path(sys.executable).parent / "spartacus")
TIMEOUT = 60.0


class Daemon:
    """One `spartacus watch` process for one custodian."""

    def __init__(
        self, spartacus: Spartacus, custodian: CustodianRole, args: list[str], rpc: str
    ) -> None:
        self.spartacus = spartacus
        self.custodian = custodian
        self.args = args
        self.rpc = rpc
        self.home = spartacus.home(custodian.role)
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> Daemon:
        command = [
            SCRIPT,
            "--rpc", self.rpc,
            "--registry", self.spartacus.registry,
            "--home", str(self.home),
            "watch", "--poll", "0.2", *self.args,
        ]  # fmt: skip
        env = dict(os.environ, SPARTACUS_PASSPHRASE=self.custodian.passphrase)
        env.pop("SPARTACUS_PRIVATE_KEY", None)
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        return self

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self.raw.append(line)
            try:
                self.lines.append(json.loads(line))
            except json.JSONDecodeError:
                pass

    def events(self, name: str, **match: Any) -> list[dict[str, Any]]:
        return [
            e
            for e in list(self.lines)
            if e.get("event") == name and all(e.get(k) == v for k, v in match.items())
        ]

    def wait_for(self, name: str, count: int = 1, **match: Any) -> list[dict[str, Any]]:
        return wait_until(
            lambda: len(self.events(name, **match)) >= count and self.events(name, **match),
            f"{count} x {name} {match}",
            self,
        )

    def state(self) -> dict[str, Any]:
        path = self.home / "watcher" / "state.json"
        if not path.exists():
            return {}
        sections = json.loads(path.read_text())["registries"]
        return next(iter(sections.values()))

    def campaign_state(self, campaign: int) -> dict[str, Any]:
        return dict(self.state().get("campaigns", {}).get(str(campaign), {}))

    def kill(self) -> None:
        """SIGKILL: no chance to save anything."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def wait_until(
    condition: Callable[[], Any], what: str, daemon: Daemon | None = None, timeout: float = TIMEOUT
) -> Any:
    """Poll ``condition`` until it is truthy; fail with the daemon's log after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if daemon is not None and daemon.process is not None and not daemon.alive():
            break
        time.sleep(0.1)
    log = "".join(daemon.raw[-40:]) if daemon else ""
    raise AssertionError(f"timed out waiting for {what}\n{log}")


@pytest.fixture
def daemons(spartacus: Spartacus, anvil_rpc: str) -> Iterator[Callable[..., Daemon]]:
    """Factory: ``daemons(custodian, *args)`` starts a watcher; all are killed at teardown."""
    started: list[Daemon] = []

    def start(custodian: CustodianRole, *args: str, rpc: str | None = None) -> Daemon:
        daemon = Daemon(spartacus, custodian, list(args), rpc or anvil_rpc).start()
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill()


def pledge(
    spartacus: Spartacus, campaign: int, name: str, dev: int, *, mail_me: bool = True
) -> dict[str, Any]:
    """``name``@example.org pledges; by default it asks for the roster by e-mail (--mail-me)."""
    flag = ["--mail-me"] if mail_me else []
    data: dict[str, Any] = spartacus.ok(
        "pledge", str(campaign),
        "--name", name, "--contact", f"{name.lower()}@example.org", *flag,
        role=name.lower(), dev=dev,
    )  # fmt: skip
    return data


def release_parts(rpc: str, registry: str, campaign: int) -> list[tuple[int, int, int]]:
    """(custodian index, round, kind) of every Released event of a campaign, in log order."""
    history = Registry(Web3(HTTPProvider(rpc)), registry).history(campaign)
    out = []
    for release in history.releases:
        part = protocol.parse_release(release.data)
        out.append((release.custodian_index, part.round, part.kind))
    return out


def names(roster: dict[str, Any]) -> list[str]:
    return [m["name"] for m in roster["members"]]


def mine(w3: Web3, blocks: int = 1) -> None:
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
