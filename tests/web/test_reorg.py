"""The web index when the chain it has read is replaced (a reorg, or a dev chain reverted).

anvil's ``evm_snapshot``/``evm_revert`` take the chain back to an earlier block; mining
from there builds a different chain, of the same height, longer or shorter than the one
the index read. Whatever the new height, events that are gone must leave the pages and
the counts, and events of the new chain must come in. Without a reorg the index reads
only the new blocks (counted in ``rpc_calls``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from web3 import Web3

from .conftest import Web, new_pledger, pledge_body


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    answer = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in answer, (method, answer)
    return answer["result"]


def relay(web: Web, campaign_id: int, name: str) -> str:
    pledger = new_pledger(name, f"{name.lower()}@example.org")
    response = web.post("/api/relay/pledge", pledge_body(web, campaign_id, pledger))
    assert response.status_code == 200, response.get_json()
    return str(pledger.keys.account)


def shown(web: Web, campaign_id: int) -> tuple[int, int]:
    """(active, pledges) as the campaign's page data says."""
    detail = web.get(f"/api/campaigns/{campaign_id}").get_json()
    return detail["active"], detail["pledges"]


@pytest.mark.parametrize("blocks_after", [0, 1, 4], ids=["shorter", "same-height", "longer"])
def test_a_pledge_the_chain_no_longer_holds_leaves_the_index(
    web: Web, w3: Web3, create_campaign: Any, blocks_after: int
) -> None:
    campaign_id, _ = create_campaign(threshold=5)
    web.sync()
    relay(web, campaign_id, "Alice")
    web.sync()
    snapshot = rpc(w3, "evm_snapshot")
    relay(web, campaign_id, "Bob")  # one block: the pledge the reorg takes away
    web.sync()
    assert shown(web, campaign_id) == (2, 2)
    version = web.state.index.head.version

    assert rpc(w3, "evm_revert", snapshot) is True
    for _ in range(blocks_after):
        rpc(w3, "evm_mine")
    web.sync()
    if blocks_after == 0:
        # Back at a head the index has read: as a lagging node would answer. The index
        # waits for it to catch up, for lag_tolerance seconds, then reads the chain again.
        assert shown(web, campaign_id) == (2, 2)
        assert web.state.index.head.version == version
        web.state.index.lag_tolerance = 0.0
        web.sync()
    assert shown(web, campaign_id) == (1, 1)
    assert web.state.index.head.version > version  # live-count streams are woken
    assert web.state.index.head.block == w3.eth.block_number
    # The relayer's next transaction is built on the new chain (its nonce went back too).
    carol = relay(web, campaign_id, "Carol")
    web.sync()
    assert shown(web, campaign_id) == (2, 2)
    records = web.get(f"/api/campaigns/{campaign_id}/records").get_json()
    assert carol.lower() in json.dumps(records).lower()


def test_a_campaign_the_chain_no_longer_holds_is_gone_from_the_list(
    web: Web, w3: Web3, create_campaign: Any
) -> None:
    web.sync()
    snapshot = rpc(w3, "evm_snapshot")
    gone, _ = create_campaign(threshold=5)
    web.sync()
    assert [c["id"] for c in web.get("/api/campaigns").get_json()["campaigns"]] == [gone]

    assert rpc(w3, "evm_revert", snapshot) is True
    for _ in range(3):
        rpc(w3, "evm_mine")
    web.sync()
    assert web.get("/api/campaigns").get_json()["campaigns"] == []
    response = web.get(f"/api/campaigns/{gone}")
    assert response.status_code == 404, response.get_json()
    assert response.get_json() == {"error": f"campaign {gone} does not exist"}


def test_without_a_reorg_only_new_blocks_are_read(web: Web, w3: Web3, create_campaign: Any) -> None:
    campaign_id, _ = create_campaign(threshold=5)
    web.sync()
    index = web.state.index

    calls = index.rpc_calls
    assert index.sync() is False  # no new block: one header read
    assert index.rpc_calls == calls + 1

    relay(web, campaign_id, "Alice")  # one block on top of the index's head
    calls = index.rpc_calls
    assert index.sync() is True
    assert index.rpc_calls == calls + 2  # the head, its logs (its parent hash is checked)

    relay(web, campaign_id, "Bob")
    rpc(w3, "evm_mine")
    calls = index.rpc_calls
    assert index.sync() is True
    assert index.rpc_calls == calls + 3  # the head, the old head's hash, the logs
    assert shown(web, campaign_id) == (2, 2)


def test_a_node_behind_the_last_one_is_waited_for_not_read_again(
    web: Web, w3: Web3, create_campaign: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider balancing calls over nodes may answer "latest" with a block the index has
    already passed. That block is on the index's chain: nothing is dropped or re-read."""
    campaign_id, _ = create_campaign(threshold=5)
    web.sync()
    index = web.state.index
    relay(web, campaign_id, "Alice")
    index.sync()
    behind = w3.eth.get_block("latest")
    relay(web, campaign_id, "Bob")
    index.sync()
    assert shown(web, campaign_id) == (2, 2)
    histories, version = index._histories, index.head.version

    real = index.registry.w3.eth.get_block
    monkeypatch.setattr(
        index.registry.w3.eth,
        "get_block",
        lambda block, *a, **k: behind if block == "latest" else real(block, *a, **k),
    )
    calls = index.rpc_calls
    assert index.sync() is False
    assert index.rpc_calls == calls + 1  # the head only: no re-read
    assert index._histories is histories and index.head.version == version
    monkeypatch.undo()
    relay(web, campaign_id, "Carol")
    assert index.sync() is True
    assert index._histories is histories
    assert shown(web, campaign_id) == (3, 3)
