"""One daemon per custodian home: an exclusive lock on ``<home>/watcher/daemon.lock``.

Two daemons on one home would read and write the same saved progress and send the same
releases twice. The lock is an ``fcntl.flock`` on an open file: the kernel drops it when
the process exits, however it exits (kill -9 included), so no stale lock is ever left.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..exceptions import UsageError


@contextmanager
def daemon_lock(home: Path) -> Iterator[Path]:
    """Hold the home's daemon lock for the ``with`` block, or fail naming the holder."""
    path = home / "watcher" / "daemon.lock"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise UsageError(
                f"another custodian daemon (pid {holder}) already runs on {home}: stop it "
                "first, or give this one its own --home (two daemons on one home would send "
                "the same releases twice)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock
