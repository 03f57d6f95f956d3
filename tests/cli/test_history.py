"""Registry.history reads a campaign event to event (spartacus.chain.walk), as hosted RPC
providers with small ``eth_getLogs`` caps require.

The node is anvil behind ``LimitedNode``, a real JSON-RPC proxy that refuses log queries over
10 blocks (the free tiers of the largest providers on Base, Optimism and Arbitrum) and answers
over a result cap, and counts every call. A campaign aged by ``anvil_mine`` costs one
``eth_call`` plus one ``eth_getLogs`` per block holding its events, whatever its age; the old
reader scanned every block from the campaign's creation (a tenth of a call per block here).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import HTTPProvider, Web3

from spartacus.chain.checkpoint import Checkpoints
from spartacus.chain.quorum import Quorum
from spartacus.chain.registry import Registry
from spartacus.chain.walk import scan
from spartacus.exceptions import ChainError

from ..rpc_proxy import LimitedNode, RpcProxy
from .conftest import Spartacus

GAP = 150  # blocks mined between events: 5 minutes of a 2-second chain each


@pytest.fixture
def limited(anvil_rpc: str) -> Iterator[LimitedNode]:
    node = LimitedNode(anvil_rpc, max_range=10)
    yield node
    node.close()


def mine(w3: Web3, blocks: int) -> None:
    w3.provider.make_request("anvil_mine", [hex(blocks), hex(2)])  # type: ignore[arg-type]


def _aged_campaign(spartacus: Spartacus, create_campaign: Any, w3: Web3) -> tuple[int, int]:
    """A campaign with events in 6 blocks, ``GAP`` blocks apart: created, four pledges, one
    withdrawal. Returns (campaign id, its creation block)."""
    campaign_id, _ = create_campaign(threshold=6, custodians=2)
    created = int(w3.eth.block_number)
    for number, name in enumerate(["alice", "bob", "chloe", "dan"]):
        mine(w3, GAP)
        spartacus.ok(
            "pledge",
            str(campaign_id),
            "--name",
            name,
            "--contact",
            f"{name}@x.org",
            role=name,
            dev=2 + number,
        )
    mine(w3, GAP)
    spartacus.ok("withdraw", str(campaign_id), role="bob", dev=3)
    return campaign_id, created


def _registry(url: str, address: str, start: int = 0) -> Registry:
    return Registry(Web3(HTTPProvider(url)), address, from_block=start)


def test_history_costs_its_event_blocks_plus_one_call_whatever_its_age(
    spartacus: Spartacus, create_campaign: Any, w3: Web3, limited: LimitedNode
) -> None:
    deployed = int(w3.eth.block_number)
    campaign_id, created = _aged_campaign(spartacus, create_campaign, w3)
    head = int(w3.eth.block_number)
    assert head - created >= 5 * GAP

    history = _registry(limited.url, spartacus.registry, deployed).history(campaign_id)

    assert limited.reads() == {"eth_call": 1, "eth_getLogs": 6}  # 6 blocks hold its events
    assert limited.refused == []
    assert [p.record.index for p in history.pledges] == [1, 2, 3, 4]
    assert [r.index for r in history.active_records()] == [1, 3, 4]
    assert len(history.custodians) == 2 and history.instructions is not None
    assert history == _registry(spartacus.rpc, spartacus.registry, deployed).history(campaign_id)

    mine(w3, 3 * GAP)  # older, no new event: the same cost
    limited.reset()
    assert _registry(limited.url, spartacus.registry, deployed).history(campaign_id) == history
    assert limited.reads() == {"eth_call": 1, "eth_getLogs": 6}

    # What scanning from the creation block (the old reader) costs through the same node.
    limited.reset()
    scanned = scan(_registry(limited.url, spartacus.registry, deployed), campaign_id, created, head)
    assert [item.decoder.name for item in scanned].count("Pledged") == 4
    assert limited.get_logs_calls() > (head - created) // 10


def test_history_up_to_a_block_starts_from_the_last_event_before_it(
    spartacus: Spartacus, create_campaign: Any, w3: Web3, limited: LimitedNode
) -> None:
    campaign_id, _ = _aged_campaign(spartacus, create_campaign, w3)
    whole = _registry(spartacus.rpc, spartacus.registry).history(campaign_id)
    second_pledge = whole.pledges[1].block_number

    part = _registry(limited.url, spartacus.registry).history(
        campaign_id, to_block=second_pledge + GAP // 2
    )

    assert [p.record.index for p in part.pledges] == [1, 2]
    assert part.withdrawals == []
    assert limited.reads() == {"eth_call": 1, "eth_getLogs": 3}


def test_only_events_after_a_checkpoint_are_read(
    spartacus: Spartacus, create_campaign: Any, w3: Web3, limited: LimitedNode
) -> None:
    campaign_id, _ = _aged_campaign(spartacus, create_campaign, w3)
    registry = _registry(limited.url, spartacus.registry)
    checkpoint = int(w3.eth.block_number)
    mine(w3, GAP)
    spartacus.ok(
        "pledge", str(campaign_id), "--name", "eve", "--contact", "e@x.org", role="eve", dev=6
    )

    newer = registry.campaign_logs(campaign_id, after=checkpoint)

    assert [item.decoder.name for item in newer] == ["Pledged"]
    assert newer[0].args["index"] == 5
    assert limited.reads() == {"eth_call": 1, "eth_getLogs": 1}


def test_a_block_over_the_result_cap_is_read_event_kind_by_kind(
    spartacus: Spartacus, create_campaign: Any, anvil_rpc: str
) -> None:
    campaign_id, _ = create_campaign(threshold=6, custodians=3)  # 5 logs in one block
    node = LimitedNode(anvil_rpc, max_results=3)
    try:
        history = _registry(node.url, spartacus.registry).history(campaign_id)
        assert node.refused  # the block really was refused and split
    finally:
        node.close()
    assert history == _registry(anvil_rpc, spartacus.registry).history(campaign_id)
    assert len(history.custodians) == 3 and history.terms is not None


class PrunedNode(RpcProxy):
    """A node that keeps no old state (not an archive node): calls on past blocks fail."""

    def forward(self, body: bytes) -> tuple[int, bytes] | None:
        item = json.loads(body)
        if item["method"] == "eth_call" and item["params"][1] not in ("latest", "pending"):
            error = {"code": -32000, "message": "missing trie node (state pruned)"}
            return 200, json.dumps({"jsonrpc": "2.0", "id": item["id"], "error": error}).encode()
        return super().forward(body)


def test_a_node_without_old_state_is_scanned_and_says_so(
    spartacus: Spartacus, create_campaign: Any, w3: Web3, caplog: pytest.LogCaptureFixture
) -> None:
    deployed = int(w3.eth.block_number)
    campaign_id, _ = _aged_campaign(spartacus, create_campaign, w3)
    head = int(w3.eth.block_number)
    node = PrunedNode(spartacus.rpc)
    try:
        with caplog.at_level(logging.WARNING, logger="spartacus.chain"):
            history = _registry(node.url, spartacus.registry, deployed).history(
                campaign_id, to_block=head
            )
    finally:
        node.close()
    assert [e.record.index for e in history.pledges] == [1, 2, 3, 4]
    assert f"reading campaign {campaign_id} by scanning blocks {deployed} to {head}" in caplog.text
    assert "missing trie node" in caplog.text


def test_other_log_errors_are_reported(spartacus: Spartacus, create_campaign: Any) -> None:
    campaign_id, _ = create_campaign(threshold=5)

    class RateLimited(RpcProxy):
        def forward(self, body: bytes) -> tuple[int, bytes] | None:
            if b"eth_getLogs" in body:
                error = b'{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"rate limited"}}'
                return 200, error
            return super().forward(body)

    node = RateLimited(spartacus.rpc)
    try:
        with pytest.raises(ChainError, match="eth_getLogs failed.*rate limited"):
            _registry(node.url, spartacus.registry).history(campaign_id)
    finally:
        node.close()


def test_a_daemon_restart_reads_only_events_after_the_agreed_checkpoint(
    spartacus: Spartacus, create_campaign: Any, w3: Web3, limited: LimitedNode, tmp_path: Path
) -> None:
    """The custodian daemon's quorum keeps what its sources agreed at the confirmed block
    (``<home>/watcher/checkpoints.json``); after a restart only newer events are read."""
    campaign_id, _ = _aged_campaign(spartacus, create_campaign, w3)
    mine(w3, GAP)  # anvil's safe block is 32 behind the head: past the withdrawal now
    path = tmp_path / "checkpoints.json"

    def quorum() -> Quorum:
        chosen = Quorum([_registry(limited.url, spartacus.registry)], tag="safe")
        chosen.checkpoints = Checkpoints(chosen.primary, path)
        return chosen

    first = quorum()
    first.confirm()
    assert [p.record.index for p in first.history(campaign_id).pledges] == [1, 2, 3, 4]
    assert first.checkpoints is not None
    first.checkpoints.save()
    mine(w3, GAP)
    spartacus.ok(
        "pledge", str(campaign_id), "--name", "eve", "--contact", "e@x.org", role="eve", dev=6
    )
    mine(w3, GAP)

    limited.reset()
    second = quorum()
    second.confirm()
    history = second.history(campaign_id)

    assert [p.record.index for p in history.pledges] == [1, 2, 3, 4, 5]
    assert [r.index for r in history.active_records()] == [1, 3, 4, 5]
    assert limited.reads()["eth_getLogs"] == 1  # eve's block only
