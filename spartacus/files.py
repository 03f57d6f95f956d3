"""Private files under the Spartacus home folder: written atomically, readable by the owner only.

Everything secret that this package keeps on disk (keystores, pledge receipts, the
organiser's instructions secret) goes through ``write_private``: a temporary file with
mode 0600 in the same folder, fsynced, then renamed over the target. A crash leaves
either the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .exceptions import UsageError

DEFAULT_HOME = Path("~/.spartacus")


def resolve_home(home: str | os.PathLike[str] | None) -> Path:
    """The home folder, created with mode 0700 if missing."""
    path = Path(home).expanduser() if home else DEFAULT_HOME.expanduser()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600."""
    raw = data.encode() if isinstance(data, str) else data
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_json(path: Path, value: Any) -> None:
    write_private(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def read_json(path: Path, what: str) -> Any:
    """Read a JSON file, or fail with a message naming ``what`` it should have been."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise UsageError(f"{what} not found: {path}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{what} at {path} is not valid JSON: {exc}") from exc
