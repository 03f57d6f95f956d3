"""``spartacus export-site DIR``: the site as a folder any static host can serve.

The folder holds ``index.html`` (the static copy's one page: client-side views for the
campaign list, a campaign and creation, frontend/src/static-site.js), the very files the
Flask app serves under ``static/`` (the same bundle, byte for byte, so one client is audited
and the build's manifest checks both hosts), and ``manifest.json``: the sha256 and SRI of
every file of the folder and the folder's IPFS CID (``frontend/folder-cid.mjs``, when Node
and the project's node_modules are at hand).

The page reads the chain from a JSON-RPC node and sends through a relayer (the Flask app's
``/api/relay/*``, which answers cross-origin requests) or the visitor's wallet. Its
Content-Security-Policy lets it connect to those two origins and the ones given with
``connect`` only: a visitor who picks another node needs a copy exported with it.

``single_file`` writes ``index.html`` alone, with the same bundle and styles inline (allowed
by their sha256 in the policy instead of ``'self'``): browsers load neither a module script
nor a subresource with ``integrity`` from ``file://``, so this is the copy that opens from a
file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..chain import rules
from ..exceptions import UsageError
from .site import STATIC, Manifest, integrity

TEMPLATES = Path(__file__).resolve().parent / "templates"
FOLDER_CID = Path(__file__).resolve().parents[2] / "frontend" / "folder-cid.mjs"
BUNDLE = "dist/app.js"
LOG_CHUNK = 2000  # frontend/src/chain-reader.js's default; a range refused is halved anyway


@dataclass(frozen=True)
class StaticConfig:
    """What the exported page reads from and sends to (the visitor may change rpc and relayer)."""

    rpc: str
    registry: str
    chain_id: int
    from_block: int
    relayer: str | None = None
    connect: tuple[str, ...] = ()  # further origins the page may reach (other nodes)
    directory: tuple[dict[str, Any], ...] = ()  # known custodians, as the Flask pages get it
    log_chunk: int = LOG_CHUNK  # blocks per eth_getLogs: within the node's range cap

    def origins(self) -> list[str]:
        """The origins of connect-src: the node, the relayer and the extra ones, in order."""
        out: list[str] = []
        for url in (self.rpc, self.relayer, *self.connect):
            if url:
                origin = _origin(url)
                if origin not in out:
                    out.append(origin)
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "rpc": self.rpc,
            "registry": self.registry,
            "chainId": self.chain_id,
            "fromBlock": self.from_block,
            "logChunk": self.log_chunk,
            "relayer": self.relayer or "",
            "connect": self.origins(),
            "directory": list(self.directory),
            "rules": _rules(),
        }


def _rules() -> dict[str, int]:
    return {"minThreshold": rules.MIN_THRESHOLD, "maxCustodians": rules.limits().max_custodians}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{url} is not an http(s) URL")
    if parts.username or parts.password:
        raise UsageError(f"{url} carries a user or password: give the URL without them")
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(
    config: StaticConfig, script: str = "'self'", style: str = "'self'"
) -> str:
    """Scripts and styles from the folder (or the inline ones of these hashes) only; network
    reads to the node and relayer only."""
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {script} 'wasm-unsafe-eval'",  # libsodium's WebAssembly
            f"style-src {style}",
            "img-src 'self' data:",
            f"connect-src {' '.join(config.origins())}",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def _inline_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def export_site(
    dest: str | os.PathLike[str], config: StaticConfig, *, single_file: bool = False
) -> Manifest:
    """Write the static copy into ``dest`` (new or empty) and return its manifest."""
    out = Path(dest)
    csp = content_security_policy(config)  # refuses a bad URL before anything is written
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} is not empty: export into a new or empty folder")
    if not (STATIC / BUNDLE).is_file():
        raise UsageError(f"the bundle {STATIC / BUNDLE} is not built: run `make frontend`")
    inline = None
    if single_file:
        inline = {
            "script": (STATIC / BUNDLE).read_text(encoding="utf-8"),
            "style": (STATIC / "style.css").read_text(encoding="utf-8"),
        }
        if "</script" in inline["script"].lower() or "</style" in inline["style"].lower():
            raise UsageError("the bundle or the styles cannot be inlined: they close their tag")
        csp = content_security_policy(
            config, _inline_hash(inline["script"]), _inline_hash(inline["style"])
        )
        out.mkdir(parents=True, exist_ok=True)
    else:
        shutil.copytree(STATIC, out / "static", dirs_exist_ok=True)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    # The shared forms are marked for translation (web/i18n.py); the static copy is English.
    env.add_extension("jinja2.ext.i18n")
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    page = env.get_template("static_site.html").render(
        csp=csp,
        config=config.as_json(),
        rules=_rules(),
        inline=inline,
        integrity={name: integrity((STATIC / name).read_bytes()) for name in ("style.css", BUNDLE)},
    )
    (out / "index.html").write_text(page, encoding="utf-8")
    files = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        data = path.read_bytes()
        files[path.relative_to(out).as_posix()] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "integrity": integrity(data),
            "size": len(data),
        }
    cid = folder_cid(out)
    manifest = {"version": 1, "cid": cid, "files": files}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return Manifest(cid=cid, files=files)


def folder_cid(folder: Path) -> str:
    """The folder's IPFS CID (without manifest.json), by ipfs-car; "" without Node at hand."""
    if not FOLDER_CID.is_file() or shutil.which("node") is None:
        return ""
    try:
        done = subprocess.run(
            ["node", str(FOLDER_CID), str(folder), "manifest.json"],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
    except (subprocess.SubprocessError, OSError):
        return ""
    return done.stdout.strip()
