"""The README's walk-through runs as written (issue #16, item 6).

Its first block starts the chain (`spartacus node`, in the background here, as in a second
terminal); its second block is run by bash, line by line, stopping at the first failure,
in a fresh home (HOME and the working directory are a temporary folder, so ~/.spartacus
is empty) against that chain. Nothing is substituted: the test only chooses the port,
through SPARTACUS_RPC, which both `spartacus node` and every other command read.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Walk-through (local chain)"


def walk_through_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    blocks, current = [], []  # indented code blocks (4 spaces), as the README writes them
    for line in section.splitlines():
        if line.startswith("    ") or (current and not line.strip()):
            current.append(line[4:])
        elif current:
            blocks.append("\n".join(current).strip() + "\n")
            current = []
    if current:
        blocks.append("\n".join(current).strip() + "\n")
    return blocks


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(tmp_path: Path, port: int) -> dict[str, str]:
    """A user's shell: `spartacus` on PATH (this checkout's), nothing of ours exported."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "spartacus"
    script.write_text(
        f'#!/bin/sh\nexec {sys.executable} -c "from spartacus.cli import main; main()" "$@"\n'
    )
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPARTACUS_")}
    env.update(
        HOME=str(tmp_path / "user"),
        PATH=f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}",
        PYTHONPATH=str(ROOT),
        SPARTACUS_RPC=f"http://127.0.0.1:{port}",
    )
    (tmp_path / "user").mkdir()
    return env


def _wait_for_chain(port: int, node: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        assert node.poll() is None, "spartacus node exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("spartacus node did not listen")


def test_readme_walk_through_runs_as_written(tmp_path: Path) -> None:
    node_block, script, *_ = walk_through_blocks()
    assert node_block == "spartacus node\n"
    port = _free_port()
    env = _environment(tmp_path, port)
    work = tmp_path / "work"
    work.mkdir()
    node = subprocess.Popen(
        ["bash", "-c", node_block], env=env, cwd=work, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_for_chain(port, node)
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-x", "-c", script],
            env=env, cwd=work, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    finally:
        os.killpg(node.pid, signal.SIGTERM)
        node.wait(timeout=20)
    assert run.returncode == 0, f"the walk-through stopped:\n{run.stderr[-3000:]}"
    out = run.stdout
    assert re.search(r"^link: http://127\.0\.0\.1:8000/c/1$", out, re.M), out
    assert re.search(r"^organiser receipt: sp2-1-", out, re.M), out
    # Alice's and the organiser's rosters: both members and the sealed next steps.
    assert out.count("Monday 9:00, canteen") >= 2, out
    for who in ("alice@example.org", "bob@example.org"):
        assert out.count(who) >= 2, who
    # The custodian and the creator used their own homes and found the registry recorded by
    # `deploy` under ~/.spartacus: nothing was exported but the custodian's passphrase.
    assert (tmp_path / "user" / ".spartacus" / "deployments.json").is_file()
    assert not (work / "cust" / "deployments.json").exists()
