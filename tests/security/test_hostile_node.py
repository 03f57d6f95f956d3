"""A hostile RPC node: a provider serving a fork makes a custodian release early or destroy keys.

The attack (issue #13): a node serves the real chain up to block B and its own blocks after
it: anvil's own fork of the honest node (``anvil --fork-url honest --fork-block-number B``),
same chain id, identical hashes up to B. On its branch the attacker either

- adds pledges, so that the campaign reveals there only: a custodian that believes the node
  releases its shares, and with them the release key, to members who do not exist; or
- moves its clock 8 days ahead, past the deadline: the campaign reads expired there, and a
  custodian that believes it destroys its key while the real campaign is open.

Both work against a daemon that reads one RPC (the control at the end of each test: the
same setup, the hostile node alone, exactly what the daemon was before issue #13).

The defence: `spartacus watch --source` takes several RPC sources and acts only on facts
read at the block that `--quorum` of them report with the same number and hash (compared
by NUMBER: a fork answers by-hash queries for honest blocks with honest data), at the
finalized tag (each anvil runs with ``--slots-in-an-epoch 1``: finalized = latest - 2).
With the honest node and the fork as sources and a quorum of 2, nothing is released,
finalized or destroyed; each pass logs a ``problem`` saying the sources disagree, and
``/health`` (503) and ``spartacus custodian status`` say so. A confirmed block dated far
ahead of this machine's clock holds the daemon even with the hostile node as its only
source, and so does a source that does not answer when the quorum needs it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from web3 import HTTPProvider, Web3

from spartacus.chain.anvil import anvil_command
from tests.cli.conftest import CustodianRole, Spartacus, _free_port, pledge
from tests.custodian.conftest import Daemon, release_parts, wait_until

EIGHT_DAYS = 8 * 86400


class Node:
    """An anvil whose finalized block is two below its latest; a fork if ``fork`` is given."""

    def __init__(self, fork: tuple[str, int] | None = None) -> None:
        self.port = _free_port()
        self.rpc = f"http://127.0.0.1:{self.port}"
        command = anvil_command(self.port, "--silent", "--slots-in-an-epoch", "1")
        if fork is not None:
            command += ["--fork-url", fork[0], "--fork-block-number", str(fork[1])]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.w3 = Web3(HTTPProvider(self.rpc))
        wait_until(self._up, f"anvil on port {self.port}", timeout=30)

    def _up(self) -> bool:
        try:
            return bool(self.w3.is_connected())
        except Exception:  # noqa: BLE001 - still starting
            return False

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def stop(self) -> None:
        self.process.terminate()  # the npm wrapper passes SIGTERM on; SIGKILL would orphan it
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def honest() -> Iterator[Node]:
    node = Node()
    yield node
    node.stop()


@pytest.fixture
def anvil_rpc(honest: Node) -> str:
    """The shared fixtures (registry, custodians, campaigns) run on the honest node."""
    return honest.rpc


@pytest.fixture
def w3(honest: Node) -> Web3:
    return honest.w3


@pytest.fixture
def fork(honest: Node) -> Iterator[Callable[[], Node]]:
    """Factory: a hostile node forked from the honest one at its current block."""
    started: list[Node] = []

    def start() -> Node:
        node = Node(fork=(honest.rpc, int(honest.w3.eth.block_number)))
        started.append(node)
        return node

    yield start
    for node in started:  # before the honest node it forks from
        node.stop()


@pytest.fixture
def watch(spartacus: Spartacus) -> Iterator[Callable[..., Daemon]]:
    """Factory: ``watch(custodian, rpc, *args)`` runs `spartacus --rpc RPC watch ARGS`."""
    started: list[Daemon] = []

    def start(custodian: CustodianRole, rpc: str, *args: str) -> Daemon:
        daemon = Daemon(spartacus, custodian, list(args), rpc).start()
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill()


def _held(daemon: Daemon, count: int, reason: str) -> list[dict[str, Any]]:
    """Wait for ``count`` passes that did nothing, each saying ``reason``."""
    held = daemon.wait_for("problem", count=count, problem="no action this pass")
    assert all(reason in line["error"] for line in held), held
    return held


def _key_file(spartacus: Spartacus, custodian: CustodianRole) -> Path:
    (key,) = (spartacus.home(custodian.role) / "custodian" / "keys").glob("*.json")
    return key


def test_a_fork_revealing_with_fake_pledges_gets_no_release_from_two_sources(
    spartacus: Spartacus,
    honest: Node,
    fork: Callable[[], Node],
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    watch: Callable[..., Daemon],
) -> None:
    campaign, (custodian,) = create_campaign(threshold=3)
    pledge(spartacus, campaign, "Alice", 2)
    hostile = fork()
    on_fork = Spartacus(hostile.rpc, spartacus.registry, spartacus.root)
    pledge(on_fork, campaign, "Mallory", 3)
    pledge(on_fork, campaign, "Trudy", 4)
    assert on_fork.ok("status", str(campaign))["status"] == "revealed"
    assert spartacus.ok("status", str(campaign))["status"] == "open"
    hostile.mine(3)
    honest.mine(3)  # both finalized blocks now lie past the fork

    daemon = watch(
        custodian, honest.rpc, "--source", hostile.rpc, "--quorum", "2",
        "--confirm-tag", "finalized", "--listen", "127.0.0.1:0",
    )  # fmt: skip
    held = _held(daemon, 3, "sources disagree on block")
    assert "source 1: 0x" in held[0]["error"] and "source 2: 0x" in held[0]["error"]
    port = daemon.wait_for("http_listening")[0]["port"]
    health = requests.get(f"http://127.0.0.1:{port}/health", timeout=10)
    assert health.status_code == 503 and "sources disagree" in health.json()["held"]
    assert str(hostile.port) not in health.text  # sources by position, never by URL
    status = spartacus.ok(
        "custodian", "status", role=custodian.role, passphrase=custodian.passphrase, dev=None
    )
    assert "sources disagree on block" in status["registries"][0]["held"]["reason"]
    assert daemon.alive() and daemon.events("release_sent") == []
    assert daemon.events("key_destroyed") == [] and _key_file(spartacus, custodian).exists()
    assert release_parts(hostile.rpc, spartacus.registry, campaign) == []
    assert daemon.stop() == 0

    # The control: the hostile node as the only source, as every daemon was before #13.
    alone = watch(custodian, hostile.rpc)
    alone.wait_for("release_mined", campaign=campaign)
    assert release_parts(hostile.rpc, spartacus.registry, campaign) != []


def test_a_fork_whose_clock_jumped_destroys_no_key_with_two_sources(
    spartacus: Spartacus,
    honest: Node,
    fork: Callable[[], Node],
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    watch: Callable[..., Daemon],
) -> None:
    campaign, (custodian,) = create_campaign(threshold=3, deadline="7d")
    pledge(spartacus, campaign, "Alice", 2)
    hostile = fork()
    hostile.w3.provider.make_request("evm_increaseTime", [EIGHT_DAYS])  # type: ignore[arg-type]
    hostile.mine(3)
    honest.mine(3)
    on_fork = Spartacus(hostile.rpc, spartacus.registry, spartacus.root)
    assert on_fork.ok("status", str(campaign))["status"] == "expired"
    assert spartacus.ok("status", str(campaign))["status"] == "open"
    key = _key_file(spartacus, custodian)

    daemon = watch(
        custodian, honest.rpc, "--source", hostile.rpc, "--confirm-tag", "finalized"
    )  # the quorum defaults to all sources
    _held(daemon, 3, "sources disagree on block")
    assert daemon.events("key_destroyed") == [] and key.exists()
    assert daemon.stop() == 0

    # Alone, but checking its clock: a block dated 8 days ahead of this machine is refused.
    checked = watch(custodian, hostile.rpc, "--confirm-tag", "finalized", "--clock-margin", "3600")
    _held(checked, 2, "ahead of this machine's clock")
    assert checked.events("key_destroyed") == [] and key.exists()
    assert checked.stop() == 0

    # The control: the hostile node alone, as before #13, destroys the key of an open campaign.
    alone = watch(custodian, hostile.rpc)
    destroyed = alone.wait_for("key_destroyed", campaign=campaign)[0]
    assert destroyed["reason"] == "campaign expired" and not key.exists()


def test_a_source_that_does_not_answer_leaves_too_few_and_nothing_is_done(
    spartacus: Spartacus,
    make_custodians: Callable[[int], list[CustodianRole]],
    watch: Callable[..., Daemon],
) -> None:
    (custodian,) = make_custodians(1)
    silent = f"http://127.0.0.1:{_free_port()}/v3/SECRET-KEY"
    daemon = watch(custodian, spartacus.rpc, "--source", silent, "--once")
    wait_until(lambda: not daemon.alive(), "the daemon to give up", daemon)
    assert daemon.process is not None and daemon.process.returncode == 1
    held = _held(daemon, 5, "only 1 of 2 sources answered for the confirmed block")
    assert "source 2: the node cannot be reached" in held[0]["error"]
    assert not any("SECRET" in line for line in daemon.raw)
    started = daemon.events("watcher_started")[0]
    assert started["sources"][1] == f"source 2: {silent.split('/')[2]}"
