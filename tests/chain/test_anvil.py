"""The local chain leaves nothing on disk: anvil, by default, writes the state of every block
older than its last 500 to ~/.foundry/anvil/tmp and never removes it when stopped (a chain aged
by 10,000 blocks left 15 GB; test runs filled the disk and CI failed)."""

from __future__ import annotations

import os
from pathlib import Path

from ..anvil import anvil


def test_an_aged_chain_stopped_leaves_no_state_files_and_keeps_recent_state(
    tmp_path: Path,
) -> None:
    # anvil's ~/.foundry is then under tmp_path
    with anvil(env=dict(os.environ, HOME=str(tmp_path))) as w3:
        account = w3.eth.accounts[0]
        w3.provider.make_request("anvil_mine", [hex(700)])  # type: ignore[arg-type]
        head = int(w3.eth.block_number)
        assert head == 700
        # Recent state is still there (the daemon and the pages read a few blocks back).
        assert w3.eth.get_balance(account, block_identifier=head - 100) > 0
    states = tmp_path / ".foundry" / "anvil" / "tmp"
    assert [path for path in states.rglob("*") if path.is_file()] == []
