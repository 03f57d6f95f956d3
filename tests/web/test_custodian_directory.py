"""The site's custodian directory: named custodians on the campaign page and in the API,
the creation call's endorsements for the page to check, and the site's own key check when
its node lies about the keys (a rewriting proxy between the app and anvil)."""

from __future__ import annotations

import html as htmllib
import json
import re
from pathlib import Path
from typing import Any

import nacl.bindings as sodium
import pytest

from spartacus import protocol
from spartacus.chain.directory import UNKNOWN
from spartacus.exceptions import DirectoryError
from spartacus.web import WebState, create_app
from tests.security.proxy import RewritingProxy

from .conftest import Web


def _directory(tmp_path: Path, *entries: dict[str, Any]) -> str:
    path = tmp_path / "custodians.json"
    path.write_text(json.dumps({"custodians": list(entries)}))
    return str(path)


def _web(config: dict[str, Any]) -> Web:
    app = create_app(config)
    shared: WebState = app.extensions["spartacus"]
    shared.start()
    return Web(app, app.test_client(), shared)


def test_campaign_page_and_api_name_listed_custodians_and_the_operator(
    web_config: dict[str, Any], create_campaign: Any, tmp_path: Path
) -> None:
    campaign, (legal, ours, stranger) = create_campaign(custodians=3, t=2)
    web_config["CUSTODIAN_DIRECTORY"] = _directory(
        tmp_path,
        {"name": "Legal Aid Collective", "account": legal.address, "url": "https://la.example"},
        {"name": "This site's custodian", "account": ours.address, "operator": True},
    )
    web_config["CUSTODIANS"] = "Old=https://old.example"  # the old variable still works
    web = _web(web_config)
    web.sync()

    detail = web.get(f"/api/campaigns/{campaign}").get_json()
    labels = [c["label"] for c in detail["custodians"]]
    assert labels == [
        "Legal Aid Collective (listed by this site)",
        "This site's custodian (listed by this site); run by this site's operator",
        UNKNOWN,
    ]
    assert detail["keyCheck"] == {"ok": True, "problem": None}
    registry = web.state.registry
    for custodian, signed in zip(detail["custodians"], detail["endorsements"], strict=True):
        assert signed["custodian"] == custodian["account"]
        key = bytes.fromhex(custodian["campaignKey"][2:])
        signature = bytes.fromhex(signed["signature"][2:])
        signer = protocol.endorsement_signer(
            registry.chain_id, registry.address, key, signed["expiry"], signature
        )
        assert signer == custodian["account"]

    config = web.get("/api/config").get_json()
    assert [d["name"] for d in config["directory"]] == [
        "Legal Aid Collective",
        "This site's custodian",
    ]
    assert [(c["index"], c["name"]) for c in config["custodians"]] == [
        (0, "Legal Aid Collective"),
        (1, "Old"),
    ]  # offered on /create: listed daemons, then SPARTACUS_CUSTODIANS

    page = htmllib.unescape(web.get(f"/c/{campaign}").get_data(as_text=True))
    assert "Legal Aid Collective (listed by this site)" in page
    assert "run by this site's operator" in page
    assert f"{UNKNOWN}</span>" in page and stranger.address in page
    assert 'id="custodian-key-problem"' not in page
    data = re.search(r'id="page-data">(.*?)</script>', page, re.S)
    assert data and json.loads(data.group(1))["directory"][0]["account"] == legal.address
    web.state.stop()


def test_a_node_swapping_keys_behind_the_site_is_caught_by_its_check(
    web_config: dict[str, Any], create_campaign: Any
) -> None:
    campaign, (custodian,) = create_campaign(threshold=3)
    attacker, _ = sodium.crypto_box_keypair()
    proxy = RewritingProxy(web_config["RPC"], attacker)
    try:
        web = _web({**web_config, "RPC": proxy.url})
        web.sync()
        detail = web.get(f"/api/campaigns/{campaign}").get_json()
        assert detail["custodians"][0]["campaignKey"] == "0x" + attacker.hex()  # the lie
        # The endorsement travels in the same log (v2): the key swapped, its signature not.
        assert detail["custodians"][0]["signature"] == detail["endorsements"][0]["signature"]
        assert not detail["keyCheck"]["ok"]
        assert "was not signed by this custodian" in detail["keyCheck"]["problem"]
        page = htmllib.unescape(web.get(f"/c/{campaign}").get_data(as_text=True))
        assert 'id="custodian-key-problem"' in page and custodian.address in page
        web.state.stop()
    finally:
        proxy.close()


def test_a_bad_directory_stops_the_app_with_a_reason(
    web_config: dict[str, Any], tmp_path: Path
) -> None:
    web_config["CUSTODIAN_DIRECTORY"] = _directory(tmp_path, {"name": "X", "account": "nope"})
    with pytest.raises(DirectoryError, match="entry 1 \\(X\\): account must be"):
        create_app(web_config)
