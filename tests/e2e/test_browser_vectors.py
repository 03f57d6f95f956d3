"""The shared protocol vectors, run in Chromium under the site's Content-Security-Policy.

tests/js/vectors.test.mjs (the same file node runs) is bundled by esbuild with small
browser stand-ins for node:test, node:assert and node:fs, and loaded in a page served
with the production CSP. Every test must pass in the browser too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from playwright.sync_api import Browser, Route

from spartacus.web import CSP

ROOT = Path(__file__).resolve().parents[2]
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"
SHIMS = {"node:test": "node-test.mjs", "node:assert/strict": "assert.mjs", "node:fs": "fs.mjs"}


def bundle(test_file: str, out: Path) -> bytes:
    aliases = [f"--alias:{name}=./tests/js/browser/{shim}" for name, shim in SHIMS.items()]
    subprocess.run(
        [str(ESBUILD), test_file, "--bundle", "--format=esm", "--platform=browser",
         *aliases, f"--outfile={out}", "--log-level=warning"],
        cwd=ROOT, check=True,
    )  # fmt: skip
    return out.read_bytes()


def node_test_count(test_file: str) -> int:
    """How many tests node's own runner counts in the file."""
    out = subprocess.run(
        ["node", "--test", "--test-reporter=tap", test_file],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("# tests")))


def test_the_protocol_vectors_pass_in_chromium(browser: Browser, tmp_path: Path) -> None:
    script = bundle("tests/js/vectors.test.mjs", tmp_path / "vectors.js")
    vectors = (ROOT / "tests" / "vectors" / "protocol.json").read_text()
    files = b"window.__files = " + json.dumps({"protocol.json": vectors}).encode() + b";"
    pages = {
        "/": (b'<!doctype html><script src="/files.js"></script>'
              b'<script type="module" src="/vectors.js"></script>', "text/html"),
        "/files.js": (files, "text/javascript"),
        "/vectors.js": (script, "text/javascript"),
    }  # fmt: skip

    def serve(route: Route) -> None:
        body, kind = pages[route.request.url.removeprefix("http://vectors.test")]
        route.fulfill(body=body, content_type=kind, headers={"Content-Security-Policy": CSP})

    context = browser.new_context()
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if m.type == "error" else None)
    page.route("http://vectors.test/**", serve)
    page.goto("http://vectors.test/")
    page.wait_for_function("window.__testResults !== undefined", timeout=60_000)
    results = page.evaluate("window.__testResults")
    context.close()

    failed = [r for r in results if not r["ok"]]
    assert failed == [], failed
    assert len(results) == node_test_count("tests/js/vectors.test.mjs")  # all of them ran
    assert violations == []
