"""The static copy: ``spartacus export-site`` writes a folder whose page may reach only the
node and the relayer, carries the integrity of what it loads and a manifest of itself; the
Flask app's relayer answers such a copy from another origin (its POSTs only).

The browser journey through a static server is tests/e2e/test_static_copy.py.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import subprocess
from pathlib import Path

from click.testing import CliRunner

from spartacus.cli import cli
from spartacus.web.site import _Subresources, integrity
from tests.cli.conftest import Spartacus

from .conftest import Web
from .test_site import ROOT, serve_folder

COPY = "https://copy.example.org"


def test_relayer_posts_answer_any_origin_and_reads_stay_same_origin(web: Web) -> None:
    for path in ("/api/relay/pledge", "/api/relay/withdraw", "/api/relay/create",
                 "/api/relay/create/check", "/api/endorsements"):  # fmt: skip
        preflight = web.client.options(
            path,
            headers={
                "Origin": COPY,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 200, path
        assert preflight.headers["Access-Control-Allow-Origin"] == "*", path
        assert preflight.headers["Access-Control-Allow-Methods"] == "POST", path
        assert preflight.headers["Access-Control-Allow-Headers"] == "Content-Type", path
        assert "Access-Control-Allow-Credentials" not in preflight.headers
    # A refusal is readable by the copy too: its reason is what the visitor sees.
    refused = web.client.post("/api/relay/withdraw", json={}, headers={"Origin": COPY})
    assert refused.status_code == 400 and refused.get_json()["error"]
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    for read in ("/api/campaigns", "/api/config", "/api/campaigns/1/records"):
        assert (
            "Access-Control-Allow-Origin"
            not in web.client.get(read, headers={"Origin": COPY}).headers
        )
    asked = web.client.post("/api/campaigns/1/account", json={"account": "0x" + "11" * 20},
                            headers={"Origin": COPY})  # fmt: skip
    assert "Access-Control-Allow-Origin" not in asked.headers


def export(spartacus: Spartacus, folder: Path, *extra: str) -> dict[str, object]:
    return dict(spartacus.ok("export-site", str(folder), *extra))


def test_export_site_writes_a_page_limited_to_the_node_and_the_relayer(
    spartacus: Spartacus, tmp_path: Path
) -> None:
    folder = tmp_path / "copy"
    answer = export(spartacus, folder, "--relayer", "https://relay.example.org/",
                    "--connect", "https://node.example.net/v1/")  # fmt: skip
    page = (folder / "index.html").read_text()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    directives = dict(d.strip().split(" ", 1) for d in html.unescape(csp.group(1)).split(";"))
    node = spartacus.rpc.rstrip("/")
    assert directives["connect-src"] == f"{node} https://relay.example.org https://node.example.net"
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"
    # The config the page starts from; the visitor may change rpc and relayer on the page.
    config = json.loads(re.search(r'id="site-config">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert config["rpc"] == spartacus.rpc and config["relayer"] == "https://relay.example.org"
    assert config["registry"].lower() == spartacus.registry.lower()
    assert config["chainId"] == 31337 and answer["registry"] == config["registry"]
    # The same bundle and styles the Flask app serves, each loaded with its integrity.
    parser = _Subresources()
    parser.feed(page)
    assert {ref: given for _tag, ref, given in parser.found} == {
        "static/style.css": integrity((folder / "static/style.css").read_bytes()),
        "static/dist/app.js": integrity((folder / "static/dist/app.js").read_bytes()),
    }
    assert (folder / "static/dist/app.js").read_bytes() == (
        ROOT / "spartacus/web/static/dist/app.js"
    ).read_bytes()


def test_export_manifest_names_every_file_and_the_folder_cid(
    spartacus: Spartacus, tmp_path: Path
) -> None:
    folder = tmp_path / "copy"
    export(spartacus, folder)
    manifest = json.loads((folder / "manifest.json").read_bytes())
    shipped = {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and path != folder / "manifest.json"
    }
    assert set(manifest["files"]) == set(shipped)
    assert "index.html" in shipped and "static/dist/app.js" in shipped
    for name, data in shipped.items():
        assert manifest["files"][name]["sha256"] == hashlib.sha256(data).hexdigest(), name
    (folder / "manifest.json").rename(tmp_path / "manifest.json")
    packed = subprocess.run(
        [str(ROOT / "node_modules/.bin/ipfs-car"), "pack", str(folder),
         "--output", str(tmp_path / "copy.car")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert manifest["cid"] == packed.stdout.strip() and manifest["cid"].startswith("bafy")


def test_check_site_passes_on_a_served_export_and_names_a_changed_bundle(
    spartacus: Spartacus, tmp_path: Path
) -> None:
    folder = tmp_path / "copy"
    export(spartacus, folder)
    server, url = serve_folder(folder)
    try:
        for manifest in (
            folder / "manifest.json",
            ROOT / "spartacus/web/static/dist/manifest.json",
        ):
            same = CliRunner().invoke(cli, ["check-site", url, "--manifest", str(manifest)])
            assert same.exit_code == 0, same.output
        bundle = folder / "static/dist/app.js"
        data = bytearray(bundle.read_bytes())
        data[100] ^= 1
        bundle.write_bytes(bytes(data))
        changed = CliRunner().invoke(
            cli, ["check-site", url, "--manifest", str(folder / "manifest.json")]
        )
        assert changed.exit_code == 1
        assert "static/dist/app.js: differs" in changed.output
    finally:
        server.shutdown()


def test_export_site_refuses_a_folder_in_use_and_urls_with_a_secret(
    spartacus: Spartacus, tmp_path: Path
) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    refused = spartacus("export-site", str(used))
    assert refused.exit_code != 0 and "is not empty" in refused.stderr
    assert (used / "notes.txt").read_text() == "mine"
    secret = spartacus(
        "export-site", str(tmp_path / "new"), "--relayer", "https://u:p@relay.example"
    )
    assert secret.exit_code != 0 and "user or password" in secret.stderr
    assert not (tmp_path / "new").exists()


def test_single_file_copy_carries_the_same_bundle_inline_allowed_by_its_hash(
    spartacus: Spartacus, tmp_path: Path
) -> None:
    folder = tmp_path / "one"
    export(spartacus, folder, "--single-file")
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "manifest.json"]
    page = (folder / "index.html").read_text()
    script = re.search(r'<script type="module">(.*?)</script>', page, re.S)
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert script is not None and style is not None
    built = ROOT / "spartacus/web/static"
    assert script.group(1).encode() == (built / "dist/app.js").read_bytes()
    assert style.group(1).encode() == (built / "style.css").read_bytes()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    directives = dict(d.strip().split(" ", 1) for d in html.unescape(csp.group(1)).split(";"))

    def sha(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert directives["script-src"] == f"{sha(script.group(1))} 'wasm-unsafe-eval'"
    assert directives["style-src"] == sha(style.group(1))
    assert "static/" not in page  # nothing is loaded from the folder: it holds nothing else
