"""The local chain leaves nothing on disk: anvil, by default, writes the state of every block
older than its last 500 to ~/.foundry/anvil/tmp and never removes it when stopped (a chain aged
by 10,000 blocks left 15 GB; test runs filled the disk and CI failed)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

from web3 import HTTPProvider, Web3

from spartacus.chain.anvil import anvil_command


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def test_an_aged_chain_stopped_leaves_no_state_files_and_keeps_recent_state(
    tmp_path: Path,
) -> None:
    port = _free_port()
    env = dict(os.environ, HOME=str(tmp_path))  # anvil's ~/.foundry is then under tmp_path
    process = subprocess.Popen(
        anvil_command(port, "--silent"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        w3 = Web3(HTTPProvider(f"http://127.0.0.1:{port}"))
        for _ in range(150):
            if process.poll() is not None:
                raise RuntimeError("anvil exited")
            try:
                if w3.is_connected():
                    break
            except Exception:  # noqa: BLE001 - still starting
                pass
            time.sleep(0.1)
        account = w3.eth.accounts[0]
        w3.provider.make_request("anvil_mine", [hex(700)])  # type: ignore[arg-type]
        head = int(w3.eth.block_number)
        assert head == 700
        # Recent state is still there (the daemon and the pages read a few blocks back).
        assert w3.eth.get_balance(account, block_identifier=head - 100) > 0
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert _files_under(tmp_path / ".foundry" / "anvil" / "tmp") == []
