"""The checkable front: a reproducible build with a manifest, integrity attributes on every
script and style, and ``spartacus check-site`` against the Flask app and a plain static host.

Everything is real: node builds with esbuild and ipfs-car, the app runs under waitress on
loopback, and the static host is Python's own http.server serving a mirrored copy.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import waitress
from click.testing import CliRunner

from spartacus import __version__
from spartacus.cli import cli
from spartacus.web import create_app
from spartacus.web.site import MANIFEST, RELEASES, STATIC, Manifest, _Subresources, integrity

from .conftest import Web

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = "static/dist/app.js"


def build_in(folder: Path) -> Path:
    """A clean checkout of what the build reads, built there; returns its static folder."""
    folder.mkdir(parents=True)
    shutil.copytree(ROOT / "frontend", folder / "frontend")
    shutil.copy(ROOT / "package.json", folder / "package.json")
    # The static copy's chain reader takes the registry's ABI from the contract's artifact.
    (folder / "spartacus" / "artifacts").mkdir(parents=True)
    shutil.copy(ROOT / "spartacus/artifacts/Spartacus.json", folder / "spartacus/artifacts")
    static = folder / "spartacus" / "web" / "static"
    static.mkdir(parents=True)
    shutil.copy(STATIC / "style.css", static / "style.css")
    (folder / "node_modules").symlink_to(ROOT / "node_modules")
    subprocess.run(["node", "frontend/build.mjs"], cwd=folder, check=True)
    return static


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_build_twice_in_clean_folders_gives_identical_bytes(tmp_path: Path) -> None:
    # Two folders at different depths, node_modules a symlink in both: nothing of the
    # folder's own path may reach the bundle, its source map or the manifest.
    one = tree(build_in(tmp_path / "one"))
    two = tree(build_in(tmp_path / "elsewhere" / "deeper" / "two"))
    assert set(one) == {
        "style.css",
        "dist/app.js",
        "dist/app.js.map",
        "dist/app.js.LEGAL.txt",
        "dist/groups.js",
        "dist/groups.js.map",
        "dist/groups.js.LEGAL.txt",
        "dist/semaphore-16.wasm",
        "dist/semaphore-16.zkey",
        "dist/manifest.json",
    }
    assert one == two


def test_manifest_names_every_shipped_file_with_its_hashes(tmp_path: Path) -> None:
    static = build_in(tmp_path / "build")
    manifest = json.loads((static / "dist" / "manifest.json").read_bytes())
    shipped = {
        f"static/{name}": data
        for name, data in tree(static).items()
        if name != "dist/manifest.json"
    }
    assert set(manifest["files"]) == set(shipped)
    for name, data in shipped.items():
        entry = manifest["files"][name]
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert entry["integrity"] == integrity(data), name
        assert entry["size"] == len(data), name
    # The CID is the one `ipfs-car pack` gives for a copy of the served folder.
    copy = tmp_path / "served-static"
    shutil.copytree(static, copy)
    (copy / "dist" / "manifest.json").unlink()
    packed = subprocess.run(
        [str(ROOT / "node_modules" / ".bin" / "ipfs-car"), "pack", str(copy),
         "--output", str(tmp_path / "site.car")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert manifest["cid"] == packed.stdout.strip()
    assert manifest["cid"].startswith("bafy")


def test_pages_carry_the_integrity_of_the_built_files(web: Web) -> None:
    built = Manifest.load()
    for page in ("/", "/create", "/safety"):
        parser = _Subresources()
        parser.feed(web.get(page).get_data(as_text=True))
        loaded = {ref: given for _tag, ref, given in parser.found}
        assert loaded == {
            "/static/style.css": built.files["static/style.css"]["integrity"],
            "/static/dist/app.js": built.files[BUNDLE]["integrity"],
        }, page


# ------------------------------------------------------------------ check-site


def check_site(*args: str) -> Any:
    return CliRunner().invoke(cli, ["check-site", *args])


@pytest.fixture
def served_app(web_config: dict[str, Any]) -> Iterator[str]:
    """The web app under waitress on loopback, as `spartacus serve` runs it."""
    app = create_app(web_config)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    app.extensions["spartacus"].stop()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


def serve_folder(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def mirror(served_app: str, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A plain static file server on loopback serving a copy of the site, as a mirror
    would publish it: the home page saved as index.html and the static folder."""
    folder = tmp_path / "mirror"
    shutil.copytree(STATIC, folder / "static")
    (folder / "index.html").write_bytes(requests.get(served_app + "/", timeout=10).content)
    server, url = serve_folder(folder)
    yield folder, url
    server.shutdown()


def test_check_site_passes_against_the_running_app(served_app: str) -> None:
    result = check_site(served_app, "--page", "/", "--page", "/create")
    assert result.exit_code == 0, result.output
    assert f"{BUNDLE}: same" in result.output
    assert f"serves exactly the build {Manifest.load().cid}" in result.output


def test_check_site_passes_against_a_static_mirror(mirror: tuple[Path, str]) -> None:
    _, url = mirror
    result = check_site(url, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] is True
    assert sorted(data["checked"]) == sorted(Manifest.load().files)
    assert data["pages"] == ["/"]


def test_check_site_names_the_bundle_after_one_byte_changes(mirror: tuple[Path, str]) -> None:
    folder, url = mirror
    bundle = folder / BUNDLE
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0x01
    bundle.write_bytes(bytes(data))
    result = check_site(url)
    assert result.exit_code == 1
    assert f"{BUNDLE}: differs (served sha256 {hashlib.sha256(data).hexdigest()}" in result.output
    assert "static/style.css: same" in result.output
    assert "1 problem(s)" in result.output


def test_check_site_names_a_missing_file(mirror: tuple[Path, str]) -> None:
    folder, url = mirror
    (folder / "static" / "style.css").unlink()
    result = check_site(url)
    assert result.exit_code == 1
    assert "static/style.css: missing (HTTP 404)" in result.output


def test_check_site_refuses_a_page_whose_integrity_was_changed_or_dropped(
    mirror: tuple[Path, str],
) -> None:
    # The files are intact, but the page would load the bundle with another integrity
    # (a server about to serve other code to a chosen visitor), or with none.
    folder, url = mirror
    page = folder / "index.html"
    html = page.read_text()
    real = Manifest.load().files[BUNDLE]["integrity"]
    page.write_text(html.replace(real, integrity(b"other code")))
    result = check_site(url)
    assert result.exit_code == 1
    assert "page /: <script> /static/dist/app.js has integrity sha384-" in result.output
    page.write_text(html.replace(f' integrity="{real}"', ""))
    result = check_site(url)
    assert result.exit_code == 1
    assert "page /: <script> /static/dist/app.js carries no integrity attribute" in result.output


def test_check_site_refuses_a_script_from_elsewhere(mirror: tuple[Path, str]) -> None:
    folder, url = mirror
    page = folder / "index.html"
    page.write_text(
        page.read_text().replace(
            "</body>", '<script src="http://203.0.113.9/x.js"></script>\n</body>'
        )
    )
    result = check_site(url)
    assert result.exit_code == 1
    assert "page /: <script> loads http://203.0.113.9/x.js from another origin" in result.output


def test_check_site_compares_with_a_published_release(
    mirror: tuple[Path, str], tmp_path: Path
) -> None:
    _, url = mirror
    releases = tmp_path / "releases"
    (releases / "v9.9.9").mkdir(parents=True)
    shutil.copy(MANIFEST, releases / "v9.9.9" / "manifest.json")
    other = json.loads(MANIFEST.read_bytes())
    other["files"][BUNDLE]["sha256"] = "00" * 32
    (releases / "v0.0.1").mkdir()
    (releases / "v0.0.1" / "manifest.json").write_text(json.dumps(other))
    server, releases_url = serve_folder(releases)
    try:
        same = check_site(url, "--release", "v9.9.9", "--releases-url", releases_url)
        assert same.exit_code == 0, same.output
        older = check_site(url, "--release", "v0.0.1", "--releases-url", releases_url)
        assert older.exit_code == 1
        assert f"{BUNDLE}: differs" in older.output
        missing = check_site(url, "--release", "v1.0.0", "--releases-url", releases_url)
        assert missing.exit_code == 1
        assert "cannot fetch the manifest of v1.0.0" in missing.output
    finally:
        server.shutdown()


def test_check_site_compares_with_the_release_committed_in_the_checkout(
    mirror: tuple[Path, str],
) -> None:
    # No build and no URL: releases/v<version>/manifest.json of this checkout (make release).
    _, url = mirror
    committed = RELEASES / f"v{__version__}" / "manifest.json"
    digest = hashlib.sha256(committed.read_bytes()).hexdigest()
    result = check_site(url, "--release", __version__)
    assert result.exit_code == 0, result.output
    assert f"Comparing with the manifest of v{__version__} (sha256 {digest})" in result.output
    assert f"{BUNDLE}: same" in result.output


def test_check_site_explains_a_bad_invocation(tmp_path: Path) -> None:
    unknown = check_site("http://127.0.0.1:9", "--release", "v0.0.9")
    assert unknown.exit_code == 1
    assert f"no manifest of v0.0.9 under {RELEASES}" in unknown.output
    assert f"v{__version__}" in unknown.output  # the releases there are named
    (tmp_path / "m.json").write_text("{}")
    bad = check_site("http://127.0.0.1:9", "--manifest", str(tmp_path / "m.json"))
    assert bad.exit_code == 1
    assert "is not a site manifest" in bad.output
