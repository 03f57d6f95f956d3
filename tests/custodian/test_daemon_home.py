"""A custodian's home holds together (issue #16, item 6): one daemon per home, logs a
person can read on a terminal (JSON when asked or piped), a new passphrase asked twice."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pexpect

from tests.cli.conftest import CustodianRole, Spartacus

from .conftest import Daemon

ROOT = Path(__file__).resolve().parents[2]


def _spawn(args: list[str], env: dict[str, str]) -> pexpect.spawn:
    """`spartacus ARGS` on a real terminal (a pty), as a person types it."""
    environment = {k: v for k, v in os.environ.items() if k != "SPARTACUS_PASSPHRASE"}
    environment.update(PYTHONPATH=str(ROOT), **env)
    return pexpect.spawn(
        sys.executable,
        ["-c", "from spartacus.cli import main; main()", *args],
        env=environment,
        encoding="utf-8",
        timeout=90,
    )


def test_a_second_daemon_on_the_same_home_refuses_to_start(
    make_custodians: Callable[[int], list[CustodianRole]],
    daemons: Callable[..., Daemon],
) -> None:
    (custodian,) = make_custodians(1)
    first = daemons(custodian)
    first.wait_for("watcher_started")
    second = daemons(custodian, "--once")
    assert second.process is not None and second.process.wait(timeout=60) == 1
    assert first.process is not None
    refusal = "".join(second.raw)
    assert f"another custodian daemon (pid {first.process.pid}) already runs on" in refusal
    assert second.events("watcher_started") == []
    assert first.alive()
    assert first.stop() == 0
    third = daemons(custodian, "--once")  # the lock went with the first daemon
    assert third.process is not None and third.process.wait(timeout=60) == 0


def test_a_killed_daemon_leaves_no_stale_lock(
    make_custodians: Callable[[int], list[CustodianRole]],
    daemons: Callable[..., Daemon],
) -> None:
    (custodian,) = make_custodians(1)
    first = daemons(custodian)
    first.wait_for("watcher_started")
    first.kill()
    second = daemons(custodian, "--once")
    assert second.process is not None and second.process.wait(timeout=60) == 0


def test_logs_are_text_on_a_terminal_and_json_when_asked(
    spartacus: Spartacus, make_custodians: Callable[[int], list[CustodianRole]]
) -> None:
    (custodian,) = make_custodians(1)
    base = ["--rpc", spartacus.rpc, "--registry", spartacus.registry,
            "--home", str(spartacus.home(custodian.role)), "watch", "--once"]  # fmt: skip
    env = {"SPARTACUS_PASSPHRASE": custodian.passphrase}
    terminal = _spawn(base, env)
    terminal.expect(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d info +watcher_started [^\r\n]*once=true")
    terminal.expect(r"info +watcher_stopped")
    terminal.expect(pexpect.EOF)
    terminal.close()
    assert terminal.exitstatus == 0

    asked = _spawn([*base, "--log-format", "json"], env)
    asked.expect(pexpect.EOF)
    asked.close()
    lines = [json.loads(x) for x in asked.before.splitlines() if x.startswith("{")]
    assert asked.exitstatus == 0 and "watcher_started" in [x["event"] for x in lines]


def test_a_new_passphrase_is_asked_twice(spartacus: Spartacus, tmp_path: Path) -> None:
    home = str(tmp_path / "custodian")
    init = _spawn(["--home", home, "custodian", "init"], {})
    init.expect("New keystore passphrase: ")
    init.sendline("correct horse")
    init.expect("Repeat the passphrase: ")
    init.sendline("correct hose")  # a typo would lock the keystore for good
    init.expect("do not match")
    init.expect("New keystore passphrase: ")
    init.sendline("correct horse")
    init.expect("Repeat the passphrase: ")
    init.sendline("correct horse")
    init.expect(r"custodian account (0x[0-9a-fA-F]{40})")
    address = init.match.group(1)
    init.expect(pexpect.EOF)
    init.close()
    assert init.exitstatus == 0
    opened = _spawn(
        ["--rpc", spartacus.rpc, "--registry", spartacus.registry, "--home", home,
         "custodian", "status"], {"SPARTACUS_PASSPHRASE": "correct horse"},
    )  # fmt: skip
    opened.expect(f"custodian {address}")
    opened.expect(pexpect.EOF)
