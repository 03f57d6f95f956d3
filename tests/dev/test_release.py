"""A release's manifest, committed under releases/ (``make release``, spartacus/dev/release.py).

The manifest committed for this version must be the one a fresh build writes: a change to any
served file without ``make release`` fails here, so it cannot go stale silently. Once the
version's git tag exists, its manifest is frozen.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest

from spartacus import __version__
from spartacus.dev.release import tagged_manifest, write_release
from spartacus.exceptions import ManifestError
from spartacus.web.site import RELEASES, Manifest
from tests.web.test_site import ROOT, build_in


def test_the_committed_manifest_of_this_version_is_what_a_fresh_build_writes(
    tmp_path: Path,
) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert version == __version__
    committed = RELEASES / f"v{__version__}" / "manifest.json"
    assert committed.is_file(), f"no {committed}: run `make release`"
    fresh = build_in(tmp_path / "build") / "dist" / "manifest.json"
    assert committed.read_bytes() == fresh.read_bytes(), (
        f"{committed.relative_to(ROOT)} is not what a fresh build of this commit writes: "
        "run `make release` and commit it (or bump the version if it is already tagged)"
    )
    assert Manifest.committed(f"v{__version__}").cid == json.loads(fresh.read_bytes())["cid"]


def git(root: Path, *args: str) -> None:
    who = ["-c", "user.name=Release Test", "-c", "user.email=release@example.org"]
    subprocess.run(["git", "-C", str(root), *who, *args], check=True, capture_output=True)


def manifest(cid: str) -> bytes:
    entry = {"sha256": "ab" * 32, "integrity": "sha384-x", "size": 1}
    return json.dumps({"version": 1, "cid": cid, "files": {"static/style.css": entry}}).encode()


def test_write_release_refuses_to_change_a_tagged_version(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    path = write_release(tmp_path, "1.0.0", manifest("first"))
    assert path == tmp_path / "releases" / "v1.0.0" / "manifest.json"
    assert tagged_manifest(tmp_path, "v1.0.0") is None
    assert write_release(tmp_path, "1.0.0", manifest("second")).read_bytes() == manifest("second")
    git(tmp_path, "add", "releases")
    git(tmp_path, "commit", "-qm", "Release v1.0.0")
    git(tmp_path, "tag", "v1.0.0")

    assert tagged_manifest(tmp_path, "v1.0.0") == manifest("second")
    write_release(tmp_path, "v1.0.0", manifest("second"))  # the same bytes again: fine
    with pytest.raises(ManifestError, match="v1.0.0 is already tagged"):
        write_release(tmp_path, "1.0.0", manifest("third"))
    assert path.read_bytes() == manifest("second")
    write_release(tmp_path, "1.0.1", manifest("third"))  # the next version is not frozen


def test_write_release_refuses_a_tag_without_its_manifest(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "no manifest")
    git(tmp_path, "tag", "v2.0.0")
    with pytest.raises(ManifestError, match="v2.0.0 is already tagged"):
        write_release(tmp_path, "2.0.0", manifest("late"))
    with pytest.raises(ManifestError, match="is not a site manifest"):
        write_release(tmp_path, "2.0.1", b"{}")
