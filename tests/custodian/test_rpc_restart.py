"""The RPC node goes away mid-run and comes back: the daemon waits it out and releases.

This module runs its own anvil, which dumps its state on exit and loads it on restart on
the same port (``--state``), so the chain, its blocks and its logs survive the outage.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import HTTPProvider, Web3

from spartacus.chain.anvil import anvil_command
from tests.cli.conftest import _free_port

from .conftest import Daemon, Spartacus, names, pledge, wait_until


class RestartableAnvil:
    def __init__(self, state: Path) -> None:
        self.state = state
        self.port = _free_port()
        self.rpc = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            anvil_command(self.port, "--state", str(self.state), "--silent"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        w3 = Web3(HTTPProvider(self.rpc))
        wait_until(lambda: _connected(w3), f"anvil on port {self.port}", timeout=30)

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()  # anvil writes its state on the way out
        self.process.wait(timeout=30)


def _connected(w3: Web3) -> bool:
    try:
        return bool(w3.is_connected())
    except Exception:  # noqa: BLE001 - still starting
        return False


@pytest.fixture(scope="module")
def restartable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableAnvil]:
    node = RestartableAnvil(tmp_path_factory.mktemp("anvil") / "state.json")
    node.start()
    yield node
    if node.process and node.process.poll() is None:
        node.stop()  # SIGTERM: the npm wrapper passes it on; SIGKILL would orphan the binary


@pytest.fixture
def anvil_rpc(restartable: RestartableAnvil) -> str:
    """Overrides the shared anvil for this module's fixtures."""
    return restartable.rpc


def test_rpc_node_stopped_and_restarted_is_waited_out(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
    restartable: RestartableAnvil,
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2)
    pledge(spartacus, campaign, "Alice", 2)
    daemon = daemons(custodian, "--confirmations", "0")
    daemon.wait_for("campaign_found", campaign=campaign)

    restartable.stop()
    daemon.wait_for("rpc_unavailable", count=2)
    assert daemon.alive()
    restartable.start()
    daemon.wait_for("rpc_recovered")

    pledge(spartacus, campaign, "Bob", 3)
    daemon.wait_for("release_mined", campaign=campaign, count=2)
    assert daemon.alive()
    assert names(spartacus.ok("roster", str(campaign), role="bob")) == ["Alice", "Bob"]
