"""The local development chain: anvil from the npm package @foundry-rs/anvil."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..exceptions import UsageError

# anvil keeps the state of its last 500 blocks in memory and, by default, writes older ones to
# a temporary folder under ~/.foundry/anvil/tmp that it never removes when it is stopped: a
# chain aged by 10,000 blocks left 15 GB there, and test runs filled the disk. With 0 nothing
# goes to disk (state older than 500 blocks is gone, as on a pruned node) and mining is twice
# as fast.
IN_MEMORY_ONLY: tuple[str, ...] = ("--max-persisted-states", "0")


def anvil_path() -> str:
    """The anvil binary from this checkout's node_modules, else from PATH."""
    here = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "anvil"
    if here.exists():
        return str(here)
    found = shutil.which("anvil")
    if not found:
        raise UsageError(
            "anvil not found: run `make install` in a checkout of the repository, or install "
            "it on PATH (npm install -g @foundry-rs/anvil)"
        )
    return found


def anvil_command(port: int, *options: str, host: str = "127.0.0.1") -> list[str]:
    """The command line of an anvil on ``host:port`` that leaves nothing on disk, with more
    ``options`` (e.g. ``--block-time 1``, ``--chain-id 10``)."""
    return [anvil_path(), "--host", host, "--port", str(port), *IN_MEMORY_ONLY, *options]
