"""Group pages and relayed invitation redemptions, on anvil (spartacus/web/groups.py).

Redemptions are checked before the relayer spends anything: a used, revoked or unknown
invitation, a signature for another commitment, a commitment already in the group, each
gets its 4xx with the reason, and the relayer's nonce does not move.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from web3 import Web3

from spartacus.chain.groups import Groups
from spartacus.cli.context import dev_account
from spartacus.protocol.groups import Invitation
from spartacus.web import WebState, create_app
from tests.cli.conftest import Spartacus

from .conftest import RELAYER, Web
from .test_proxy import free_port, wait_for

ADMIN = 0
COMMITMENT = 424242
OTHER = 515151


@pytest.fixture
def groups(web_config: dict[str, Any], w3: Web3) -> Groups:
    """A groups contract on the web app's chain, named in its config (before it starts)."""
    deployed = Groups.deploy(w3, dev_account(ADMIN))
    web_config["GROUPS"] = deployed.address
    return deployed


@pytest.fixture
def web(web_config: dict[str, Any], request: pytest.FixtureRequest) -> Iterator[Web]:
    """The app, made after ``groups`` (when the test asks for it) has named its contract."""
    if "groups" in request.fixturenames:
        request.getfixturevalue("groups")
    app = create_app(web_config)
    shared: WebState = app.extensions["spartacus"]
    shared.start()
    yield Web(app, app.test_client(), shared)
    shared.stop()


def _group(groups: Groups, count: int = 1) -> tuple[int, list[Invitation]]:
    group_id = groups.create_group(dev_account(ADMIN), "Night shift")
    return group_id, groups.create_invitations(dev_account(ADMIN), group_id, count)


def _body(groups: Groups, invitation: Invitation, commitment: int) -> dict[str, Any]:
    signature = invitation.sign(groups.chain_id, groups.address, commitment)
    return {"commitment": str(commitment), "signature": "0x" + signature.hex()}


def _relayer_nonce(groups: Groups) -> int:
    return int(groups.w3.eth.get_transaction_count(dev_account(RELAYER).address))


def test_group_page_shows_name_size_admin_and_invitations(groups: Groups, web: Web) -> None:
    group_id, _ = _group(groups, 2)
    groups.add_members(dev_account(ADMIN), group_id, [COMMITMENT])
    page = web.get(f"/g/{group_id}")
    assert page.status_code == 200, page.get_data(as_text=True)[-800:]
    html = page.get_data(as_text=True)
    assert "Night shift" in html and 'id="group-size">1<' in html
    assert dev_account(ADMIN).address in html
    assert "Open: 2 invitations not yet used" in html
    assert 'src="/static/dist/groups.js"' in html and "dist/app.js" not in html
    assert web.get(f"/g/{group_id}/join").status_code == 200
    assert web.get(f"/api/groups/{group_id}").get_json() == {
        "group": group_id, "name": "Night shift", "admin": dev_account(ADMIN).address,
        "size": 1, "root": str(groups.info(group_id).root), "invitations": 2, "redeemed": 0,
    }  # fmt: skip
    members = web.get(f"/api/groups/{group_id}/members").get_json()
    assert members["members"] == [str(COMMITMENT)]
    groups.add_members(dev_account(ADMIN), group_id, [OTHER])  # a new root: read again
    members = web.get(f"/api/groups/{group_id}/members").get_json()
    assert members["members"] == [str(COMMITMENT), str(OTHER)]
    assert members["root"] == str(groups.info(group_id).root)
    # The prover's workers need blob: workers; nothing else is opened up.
    assert "worker-src 'self' blob:" in page.headers["Content-Security-Policy"]


def test_unknown_group_is_404(groups: Groups, web: Web) -> None:
    assert web.get("/g/9").status_code == 404
    answer = web.post("/api/groups/9/redeem", {"commitment": "1", "signature": "0x" + "00" * 65})
    assert answer.status_code == 404 and "no group 9" in answer.get_json()["error"]


def test_site_defaults_to_the_registrys_groups_contract(web: Web) -> None:
    # Every registry names one groups contract (its gated campaigns' groups): without
    # SPARTACUS_GROUPS the pages serve that one.
    registry = web.state.registry
    groups = Groups(registry.w3, registry.groups_address)
    group_id = groups.create_group(dev_account(ADMIN), "Registry's own")
    answer = web.get(f"/api/groups/{group_id}")
    assert answer.status_code == 200 and answer.get_json()["name"] == "Registry's own"


def test_relayed_redemption_adds_the_signed_commitment(groups: Groups, web: Web) -> None:
    group_id, (invitation,) = _group(groups)
    answer = web.post(f"/api/groups/{group_id}/redeem", _body(groups, invitation, COMMITMENT))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["size"] == 1
    assert groups.is_member(group_id, COMMITMENT)
    assert groups.info(group_id).invitations == 0


def test_redemptions_refused_before_anything_is_sent(groups: Groups, web: Web) -> None:
    group_id, (used, revoked, fresh) = _group(groups, 3)
    first = web.post(f"/api/groups/{group_id}/redeem", _body(groups, used, COMMITMENT))
    assert first.status_code == 200
    groups.revoke_invitations(dev_account(ADMIN), group_id, [revoked.address])
    stranger = Invitation.new(group_id)  # never registered
    before = _relayer_nonce(groups)

    cases = [
        (_body(groups, used, OTHER), 409, "already used"),
        (_body(groups, revoked, OTHER), 410, "revoked"),
        (_body(groups, stranger, OTHER), 404, "not an invitation to group"),
        (_body(groups, fresh, COMMITMENT), 409, "already a member"),
    ]
    # A signature made for one commitment, sent with another (a relayer or mempool watcher
    # trying to take the invitation): it recovers another key, which is no invitation.
    stolen = _body(groups, fresh, OTHER) | {"commitment": str(OTHER + 1)}
    cases.append((stolen, 404, "not an invitation to group"))
    for body, status, words in cases:
        answer = web.post(f"/api/groups/{group_id}/redeem", body)
        assert answer.status_code == status, (words, answer.get_json())
        assert words in answer.get_json()["error"]
    bad = web.post(f"/api/groups/{group_id}/redeem", {"commitment": "0", "signature": "0x00"})
    assert bad.status_code == 400
    assert _relayer_nonce(groups) == before  # nothing was sent
    assert groups.invitation_state(group_id, fresh.address) == 1  # still outstanding


def test_page_without_its_script_is_refused(
    groups: Groups, web_config: dict[str, Any], tmp_path: Path
) -> None:
    group_id, _ = _group(groups)
    (tmp_path / "static" / "dist").mkdir(parents=True)
    (tmp_path / "static" / "dist" / "app.js").write_text("x")  # the groups bundle is missing
    app = create_app(web_config)
    app.static_folder = str(tmp_path / "static")
    answer = app.test_client().get(f"/g/{group_id}")
    assert answer.status_code == 503
    assert "dist/groups.js) is missing" in answer.get_data(as_text=True)


def test_proving_files_are_the_npm_ones_served_and_pinned_by_the_bundle() -> None:
    root = Path(__file__).resolve().parents[2]
    dist = root / "spartacus" / "web" / "static" / "dist"
    artifacts = root / "node_modules" / "@zk-kit" / "semaphore-artifacts"
    manifest = json.loads((dist / "manifest.json").read_text())
    bundle = (dist / "groups.js").read_text()
    for name in ("semaphore-16.wasm", "semaphore-16.zkey"):
        data = (artifacts / name).read_bytes()
        assert (dist / name).read_bytes() == data
        digest = hashlib.sha256(data).hexdigest()
        assert manifest["files"][f"static/dist/{name}"]["sha256"] == digest
        assert digest in bundle  # checked in the browser before proving
    assert sorted(p.name for p in dist.glob("semaphore-*")) == [
        "semaphore-16.wasm", "semaphore-16.zkey"
    ]  # fmt: skip


def test_serve_with_groups_option_serves_that_contracts_groups(
    groups: Groups, spartacus: Spartacus, tmp_path: Path
) -> None:
    group_id, _ = _group(groups)
    port = free_port()
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=root, SPARTACUS_GROUPS="", SPARTACUS_RELAYER_KEY="")
    process = subprocess.Popen(
        [sys.executable, "-c", "from spartacus.cli import main; main()",
         "--rpc", spartacus.rpc, "--registry", spartacus.registry, "--groups", groups.address,
         "--home", str(tmp_path / "served"), "--dev-account", str(RELAYER),
         "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/api/health", process, "spartacus serve")
        answer = requests.get(f"{url}/api/groups/{group_id}", timeout=30)
        assert answer.status_code == 200 and answer.json()["name"] == "Night shift"
    finally:
        process.terminate()
        process.wait(timeout=20)
