"""The local development chain: anvil from the npm package @foundry-rs/anvil."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..exceptions import UsageError


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
