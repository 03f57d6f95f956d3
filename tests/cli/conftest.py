"""CLI tests against a real anvil node over JSON-RPC.

One anvil serves the whole module run; every test deploys its own registry, so tests do
not share campaigns. Time moves with anvil's own ``evm_increaseTime``, never with sleeps.
Each role (creator, custodians, pledgers) has its own home folder, as on its own machine.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from web3 import HTTPProvider, Web3

from spartacus.chain.anvil import anvil_command
from spartacus.cli import cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_anvil(*extra: str) -> Iterator[str]:
    """An anvil on a free loopback port (``extra``: more options, e.g. ``--optimism``)."""
    port = _free_port()
    process = subprocess.Popen(
        anvil_command(port, "--silent", *extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    rpc = f"http://127.0.0.1:{port}"
    w3 = Web3(HTTPProvider(rpc))
    for _ in range(150):
        if process.poll() is not None:
            raise RuntimeError(
                f"anvil exited: {process.stderr.read().decode() if process.stderr else ''}"
            )
        try:
            if w3.is_connected():
                break
        except Exception:  # noqa: BLE001 - still starting
            pass
        time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("anvil did not start")
    try:
        yield rpc
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def anvil_rpc() -> Iterator[str]:
    with running_anvil() as rpc:
        yield rpc


@pytest.fixture(scope="session")
def w3(anvil_rpc: str) -> Web3:
    return Web3(HTTPProvider(anvil_rpc))


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def data(self) -> Any:
        return json.loads(self.stdout)


class Spartacus:
    """Runs ``spartacus`` commands in-process as a given role (home folder, paying account)."""

    def __init__(self, rpc: str, registry: str, root: Path) -> None:
        self.rpc = rpc
        self.registry = registry
        self.root = root
        self.runner = CliRunner(mix_stderr=False)

    def home(self, role: str) -> Path:
        path = self.root / role
        path.mkdir(exist_ok=True)
        return path

    def __call__(
        self,
        *args: str,
        role: str = "anyone",
        dev: int | None = 0,
        passphrase: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        base = ["--rpc", self.rpc, "--registry", self.registry, "--home", str(self.home(role))]
        if dev is not None:
            base += ["--dev-account", str(dev)]
        environment = {"SPARTACUS_PASSPHRASE": passphrase or "", "SPARTACUS_PRIVATE_KEY": ""}
        environment.update(env or {})
        result = self.runner.invoke(cli, [*base, *args], env=environment, catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str, **kwargs: Any) -> Any:
        """Run with --json, expect success, return the parsed output."""
        result = self(*args, "--json", **kwargs)
        assert result.exit_code == 0, f"{args}: {result.stderr or result.stdout}"
        return result.data


def pledge(spartacus: Spartacus, campaign: int, name: str, dev: int) -> dict[str, Any]:
    """``name`` pledges from their own home (role ``name.lower()``), paying with dev account
    ``dev``; the contact is ``<name>@example.org``. Returns the CLI's JSON answer."""
    return dict(
        spartacus.ok(
            "pledge", str(campaign), "--name", name, "--contact", f"{name.lower()}@example.org",
            role=name.lower(), dev=dev,
        )
    )  # fmt: skip


@pytest.fixture
def spartacus(anvil_rpc: str, tmp_path: Path) -> Spartacus:
    """A fresh registry on the shared anvil, and a runner bound to it."""
    from spartacus.chain.registry import Registry
    from spartacus.cli.context import dev_account

    registry = Registry.deploy(Web3(HTTPProvider(anvil_rpc)), dev_account(0))
    return Spartacus(anvil_rpc, registry.address, tmp_path)


@pytest.fixture
def travel(w3: Web3) -> Callable[[int], None]:
    """Move the chain's clock forward by ``seconds`` and mine a block."""

    def jump(seconds: int) -> None:
        w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    return jump


@dataclass
class CustodianRole:
    role: str
    passphrase: str
    address: str


@pytest.fixture
def make_custodians(spartacus: Spartacus) -> Callable[[int], list[CustodianRole]]:
    """Create ``n`` custodians, each with a keystore and a funded account."""

    def make(n: int) -> list[CustodianRole]:
        out = []
        for i in range(n):
            role, passphrase = f"custodian{i}", f"passphrase-{i}"
            address = spartacus.ok("custodian", "init", role=role, passphrase=passphrase, dev=None)[
                "address"
            ]
            spartacus.ok("fund", address, "--eth", "1")
            out.append(CustodianRole(role, passphrase, address))
        return out

    return make


@pytest.fixture
def create_campaign(
    spartacus: Spartacus, make_custodians: Callable[[int], list[CustodianRole]]
) -> Callable[..., tuple[int, list[CustodianRole]]]:
    """Factory: custodians endorse, the creator creates; returns (campaign id, custodians)."""

    def create(
        threshold: int = 3,
        custodians: int = 1,
        t: int = 1,
        deadline: str = "7d",
        grace: str = "0",
        public: bool = False,
        instructions: str = "Meet Monday 9:00 at the canteen",
        late: bool = False,
        group: int = 0,
    ) -> tuple[int, list[CustodianRole]]:
        roles = make_custodians(custodians)
        files = []
        for c in roles:
            path = spartacus.home(c.role) / "endorsement.json"
            spartacus.ok(
                "custodian",
                "endorse",
                "--out",
                str(path),
                role=c.role,
                passphrase=c.passphrase,
                dev=None,
            )
            files += ["--endorsement", str(path)]
        args = [
            "create",
            "--title", "Fix the heating",
            "--description", "The office is cold",
            "--plan", "We write to facilities together",
            "--instructions", instructions,
            "--threshold", str(threshold),
            "--deadline", deadline,
            "--grace", grace,
            "--custodian-threshold", str(t),
            *files,
        ]  # fmt: skip
        if public:
            args.append("--public-roster")
        if late:
            args.append("--late-joining")
        if group:
            args += ["--group", str(group)]
        campaign = spartacus.ok(*args, role="creator", dev=1)["campaign"]
        return int(campaign), roles

    return create
