"""Forms that seal in the browser cannot leak without the script (issue #16, item 1).

Without the script (JavaScript off, or a slow phone that has not loaded it yet) a form
with named fields and no method would put a person's name and contact in the page's
address. These forms have no named fields, post to an explanation, keep their buttons
disabled until the script enables them, and the site refuses to serve its pages at all
when the script is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from spartacus.web import create_app
from spartacus.web.bundle import BUNDLE, package_static_folder

from .conftest import Web

SEALING_FORMS = {"join-form", "withdraw-form", "roster-form"}


class Forms(HTMLParser):
    """Each form's attributes, its fields' attributes, its buttons and any <noscript>."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, Any]] = {}
        self.current: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.current = {"attrs": a, "fields": [], "buttons": [], "noscript": False}
            self.forms[str(a.get("id"))] = self.current
        elif self.current is not None and tag in ("input", "textarea", "select"):
            self.current["fields"].append(a)
        elif self.current is not None and tag == "button":
            self.current["buttons"].append(a)
        elif self.current is not None and tag == "noscript":
            self.current["noscript"] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None


def forms_of(html: str) -> dict[str, dict[str, Any]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def check_inert(form: dict[str, Any]) -> None:
    assert form["attrs"].get("method") == "post"
    assert form["attrs"].get("action") == "/needs-script"
    assert form["fields"], "the form has fields"
    named = [f for f in form["fields"] if "name" in f]
    assert named == [], f"fields a scriptless browser would send: {named}"
    submits = [b for b in form["buttons"] if b.get("type") == "submit"]
    assert submits and all("disabled" in b for b in submits)
    assert form["noscript"]


def test_sealing_forms_have_no_named_fields_and_post_to_an_explanation(
    web: Web, create_campaign: Any
) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    forms = forms_of(web.get(f"/c/{campaign_id}").get_data(as_text=True))
    assert SEALING_FORMS <= set(forms)
    for name in SEALING_FORMS:
        check_inert(forms[name])
    create = forms_of(web.get("/create").get_data(as_text=True))
    check_inert(create["create-form"])


def test_a_scriptless_post_is_explained_and_nothing_is_echoed(web: Web) -> None:
    response = web.client.post(
        "/needs-script", data={"name": "Alice Martin", "contact": "alice@example.org"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "nothing was sent" in html and "JavaScript" in html
    assert "Alice" not in html and "alice@example.org" not in html


def test_pages_answer_503_without_the_script(
    web_config: dict[str, Any], create_campaign: Any, tmp_path: Path
) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    app = create_app(web_config)
    shared = app.extensions["spartacus"]
    shared.start()
    try:
        client = app.test_client()
        shared.index.sync()
        assert client.get(f"/c/{campaign_id}").status_code == 200  # with the bundle
        empty = tmp_path / "static"
        empty.mkdir()
        app.static_folder = str(empty)  # a checkout where `make install` never ran
        for path in (f"/c/{campaign_id}", "/create", "/"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert "make install" in response.get_data(as_text=True)
        assert client.get("/safety").status_code == 200  # needs no script
        assert client.get(f"/api/campaigns/{campaign_id}").status_code == 200
    finally:
        shared.stop()


def test_serve_refuses_to_start_without_the_script(tmp_path: Path) -> None:
    """The package as a clean clone has it (no dist/): `serve` says what to run, and stops."""
    assert (package_static_folder() / BUNDLE).is_file(), "build it: node frontend/build.mjs"
    copy = tmp_path / "pkg"
    shutil.copytree(
        package_static_folder().parents[1],
        copy / "spartacus",
        ignore=shutil.ignore_patterns("dist", "__pycache__"),
    )
    env = {**os.environ, "PYTHONPATH": str(copy), "HOME": str(tmp_path)}
    env.pop("SPARTACUS_RPC", None)
    run = subprocess.run(
        [sys.executable, "-c", "from spartacus.cli import main; main()", "serve", "--port", "9"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    assert "error: the pages' script" in run.stderr and "make install" in run.stderr
    assert str(copy) in run.stderr  # it names the file it looked for
