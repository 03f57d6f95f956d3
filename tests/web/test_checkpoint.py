"""The web app's index through a provider that caps ``eth_getLogs`` at 10 blocks
(tests/rpc_proxy.LimitedNode, counting calls): its first read walks each campaign event to
event, and a restart starts from the checkpoint it kept at the chain's ``safe`` block, so it
reads only the events after it (issue #15)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from spartacus.web import WebState, create_app

from ..rpc_proxy import LimitedNode
from .conftest import Spartacus

AGE = 300  # blocks mined after the events: older than the index's range reads


@pytest.fixture
def limited(spartacus: Spartacus) -> Iterator[LimitedNode]:
    node = LimitedNode(spartacus.rpc, max_range=10)
    yield node
    node.close()


def mine(w3: Web3, blocks: int) -> None:
    w3.provider.make_request("anvil_mine", [hex(blocks), hex(2)])  # type: ignore[arg-type]


def pledge(spartacus: Spartacus, campaign_id: int, name: str, dev: int) -> None:
    spartacus.ok(
        "pledge", str(campaign_id), "--name", name, "--contact", "x@x.org", role=name, dev=dev
    )


def run_site(config: dict[str, Any]) -> tuple[WebState, Any]:
    app = create_app(config)
    shared: WebState = app.extensions["spartacus"]
    shared.start()
    return shared, app.test_client()


def test_a_restarted_site_reads_only_the_events_after_its_checkpoint(
    spartacus: Spartacus,
    create_campaign: Any,
    w3: Web3,
    web_config: dict[str, Any],
    limited: LimitedNode,
) -> None:
    campaign_id, _ = create_campaign(threshold=5)
    mine(w3, AGE)
    pledge(spartacus, campaign_id, "alice", 2)
    mine(w3, AGE)
    config = {**web_config, "RPC": limited.url}

    first, client = run_site(config)
    assert client.get(f"/api/campaigns/{campaign_id}").get_json()["pledges"] == 1
    # Walked: one getLogs per block holding the campaign's events, none refused.
    assert limited.reads()["eth_getLogs"] == 2 and limited.refused == []
    first.stop()  # keeps the checkpoint
    saved = json.loads((Path(web_config["HOME"]) / "web" / "checkpoints.json").read_text())
    assert [len(c["logs"]) for c in saved["campaigns"].values()] == [4]  # created, 2 more, 1

    mine(w3, AGE)
    pledge(spartacus, campaign_id, "bob", 3)
    mine(w3, AGE)
    limited.reset()
    second, client = run_site(config)
    try:
        detail = client.get(f"/api/campaigns/{campaign_id}").get_json()
        assert (detail["pledges"], detail["active"]) == (2, 2)
        assert limited.reads()["eth_getLogs"] == 1  # bob's block only
    finally:
        second.stop()


def test_a_checkpoint_of_a_block_the_chain_no_longer_holds_is_dropped(
    spartacus: Spartacus,
    create_campaign: Any,
    w3: Web3,
    web_config: dict[str, Any],
) -> None:
    campaign_id, _ = create_campaign(threshold=5)
    pledge(spartacus, campaign_id, "alice", 2)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    pledge(spartacus, campaign_id, "bob", 3)
    first, _ = run_site(web_config)
    first.stop()
    assert (Path(web_config["HOME"]) / "web" / "checkpoints.json").exists()

    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    mine(w3, 3)  # another chain over the checkpoint's block: bob's pledge is gone
    second, client = run_site(web_config)
    try:
        assert client.get(f"/api/campaigns/{campaign_id}").get_json()["pledges"] == 1
    finally:
        second.stop()
