"""``make release``: commit the site manifest of this version as ``releases/vX.Y.Z/``.

The build (``node frontend/build.mjs``) writes ``spartacus/web/static/dist/manifest.json``:
the sha256 and SRI of every file the site serves from ``static/`` and the folder's IPFS CID.
This copies it to ``releases/v<version>/manifest.json`` (the version of
``spartacus.__version__``), where ``spartacus check-site URL --release vX.Y.Z`` reads it
without a build, and prints the commands that commit it and tag that commit.

While a version is being prepared its manifest follows every change to the served files
(tests/dev/test_release.py fails when it is stale: run ``make release`` again). Once its tag
exists the manifest is frozen: this refuses to write another one for that version, so the
served files cannot change under a published version number; bump the version first.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

from .. import __version__
from ..exceptions import ManifestError
from ..web.site import MANIFEST, Manifest, release_tag

ROOT = Path(__file__).resolve().parents[2]


def tagged_manifest(root: Path, tag: str) -> bytes | None:
    """The manifest committed for ``tag`` in the commit the git tag ``tag`` names, or None
    when there is no such tag (in ``root``'s repository)."""
    found = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}"],
        capture_output=True,
        check=False,
    )
    if found.returncode != 0:
        return None
    shown = subprocess.run(
        ["git", "-C", str(root), "show", f"{tag}:releases/{tag}/manifest.json"],
        capture_output=True,
        check=False,
    )
    return shown.stdout if shown.returncode == 0 else b""


def write_release(root: Path, version: str, built: bytes) -> Path:
    """Write ``built`` (a build's manifest) as the manifest of ``version`` under
    ``root/releases``; refused if that version is tagged with other bytes."""
    tag = release_tag(version)
    Manifest.parse(built, "the build's manifest")  # refuses a broken one before writing
    frozen = tagged_manifest(root, tag)
    if frozen is not None and frozen != built:
        raise ManifestError(
            f"{tag} is already tagged, with another manifest (or none) under releases/{tag}: "
            "a released version's files cannot change. Bump the version (pyproject.toml and "
            "spartacus/__init__.py) and run `make release` again"
        )
    path = root / "releases" / tag / "manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(built)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Commit the site manifest of this version.")
    parser.add_argument("--version", default=__version__, help="default: %(default)s")
    args = parser.parse_args(argv)
    try:
        built = MANIFEST.read_bytes()
        path = write_release(ROOT, args.version, built)
    except OSError as exc:
        print(f"cannot read the build's manifest {MANIFEST}: run `make frontend`", file=sys.stderr)
        print(exc, file=sys.stderr)
        return 1
    except ManifestError as exc:
        print(exc, file=sys.stderr)
        return 1
    tag = release_tag(args.version)
    digest = hashlib.sha256(built).hexdigest()
    cid = json.loads(built)["cid"]
    name = path.relative_to(ROOT)
    print(f"Wrote {name} (sha256 {digest}, IPFS CID {cid}). To publish {tag}:")
    print(f"  git add {name} && git commit -m 'Release {tag}: the site manifest'")
    print(f"  git tag -s {tag} -m 'Spartacus {tag}: site manifest sha256 {digest}, CID {cid}'")
    print(f"  git push origin {tag}")
    print("(-s signs the tag with your key; with gpg.format=ssh, git signs with ssh-keygen.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
