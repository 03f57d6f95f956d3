"""Registry.history reads logs in block ranges, as hosted RPC providers require.

The node is anvil over JSON-RPC; a provider in front of it records every ``eth_getLogs``
range and can refuse wide ones with the kind of error such providers send. The chunk size
is shrunk to a few blocks so that a short test campaign spans several chunks; history read
in chunks or in halved parts must equal history read in one call, and other log errors
are reported, not split.
"""

from __future__ import annotations

from typing import Any

import pytest
from web3 import HTTPProvider, Web3
from web3.providers.base import BaseProvider

from spartacus.chain import registry as chain
from spartacus.chain.registry import Registry
from spartacus.exceptions import ChainError

from .conftest import Spartacus


class RecordingProvider(BaseProvider):
    """Forwards to anvil, records eth_getLogs ranges, refuses ranges over ``cap`` blocks."""

    def __init__(
        self, rpc: str, cap: int | None = None, message: str = "query exceeds max block range"
    ) -> None:
        super().__init__()
        self.inner = HTTPProvider(rpc)
        self.cap = cap
        self.message = message
        self.queries: list[tuple[int, int]] = []
        self.refused: list[tuple[int, int]] = []

    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_getLogs":
            start, end = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
            self.queries.append((start, end))
            if self.cap is not None and end - start + 1 > self.cap:
                self.refused.append((start, end))
                error = {"code": -32005, "message": self.message}
                return {"jsonrpc": "2.0", "id": 1, "error": error}
        return self.inner.make_request(method, params)


def _busy_campaign(spartacus: Spartacus, create_campaign: Any) -> int:
    """A campaign whose events lie in many blocks: four pledges and a withdrawal."""
    campaign_id, _ = create_campaign(threshold=6)
    for number, name in enumerate(["alice", "bob", "chloe", "dan"]):
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
    spartacus.ok("withdraw", str(campaign_id), role="bob", dev=3)
    return campaign_id


def _registry(provider: BaseProvider, address: str, start: int) -> Registry:
    return Registry(Web3(provider), address, from_block=start)


def test_history_in_chunks_equals_history_in_one_call(
    spartacus: Spartacus,
    create_campaign: Any,
    anvil_rpc: str,
    w3: Web3,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start = int(w3.eth.block_number)  # the registry is deployed; its campaign comes next
    campaign_id = _busy_campaign(spartacus, create_campaign)
    end = int(w3.eth.block_number)
    assert end - start + 1 >= 8  # at least four chunks of 2 blocks

    once = RecordingProvider(anvil_rpc)
    whole = _registry(once, spartacus.registry, start).history(campaign_id)
    assert once.queries == [(start, end)]  # a young registry: one call

    monkeypatch.setattr(chain, "LOG_CHUNK_BLOCKS", 2)
    chunked = RecordingProvider(anvil_rpc)
    parts = _registry(chunked, spartacus.registry, start).history(campaign_id)

    expected = [(b, min(b + 1, end)) for b in range(start, end + 1, 2)]
    assert chunked.queries == expected  # consecutive, no gap, no overlap, up to the head
    assert len(whole.pledges) == 4 and len(whole.withdrawals) == 1
    assert parts == whole
    assert [r.index for r in parts.active_records()] == [1, 3, 4]


def test_chunked_history_stops_at_to_block(
    spartacus: Spartacus,
    create_campaign: Any,
    anvil_rpc: str,
    w3: Web3,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start = int(w3.eth.block_number)
    campaign_id = _busy_campaign(spartacus, create_campaign)
    registry = _registry(HTTPProvider(anvil_rpc), spartacus.registry, start)
    second_pledge = registry.history(campaign_id).pledges[1].block_number

    whole = registry.history(campaign_id, to_block=second_pledge)
    monkeypatch.setattr(chain, "LOG_CHUNK_BLOCKS", 3)
    chunked = RecordingProvider(anvil_rpc)
    parts = _registry(chunked, spartacus.registry, start).history(
        campaign_id, to_block=second_pledge
    )

    assert max(end for _, end in chunked.queries) == second_pledge
    assert len(chunked.queries) >= 2
    assert [p.record.index for p in parts.pledges] == [1, 2]
    assert parts == whole


def test_a_provider_cap_below_the_chunk_is_met_by_halving(
    spartacus: Spartacus,
    create_campaign: Any,
    anvil_rpc: str,
    w3: Web3,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start = int(w3.eth.block_number)
    campaign_id = _busy_campaign(spartacus, create_campaign)
    end = int(w3.eth.block_number)
    whole = _registry(HTTPProvider(anvil_rpc), spartacus.registry, start).history(campaign_id)

    monkeypatch.setattr(chain, "LOG_CHUNK_BLOCKS", 4)
    capped = RecordingProvider(anvil_rpc, cap=1)
    parts = _registry(capped, spartacus.registry, start).history(campaign_id)

    answered = [q for q in capped.queries if q not in capped.refused]
    assert capped.refused  # the chunks really were refused and split
    assert all(a == b for a, b in answered)
    assert sorted(a for a, _ in answered) == list(range(start, end + 1))  # each block once
    assert parts == whole


def test_history_read_in_parts_equals_history_read_at_once(
    spartacus: Spartacus, create_campaign: Any, anvil_rpc: str
) -> None:
    campaign_id = _busy_campaign(spartacus, create_campaign)

    whole = Registry(Web3(HTTPProvider(anvil_rpc)), spartacus.registry).history(campaign_id)
    capped = RecordingProvider(anvil_rpc, cap=3, message="block range too large: 10000 max")
    parts = Registry(Web3(capped), spartacus.registry).history(campaign_id)

    assert len(capped.queries) > 3  # it really was split
    answered = [(s, e) for s, e in capped.queries if e - s + 1 <= 3]
    assert sum(e - s + 1 for s, e in answered) == capped.queries[0][1] + 1  # all, once
    assert [name for name, _ in parts.log] == [name for name, _ in whole.log]
    assert parts.pledges == whole.pledges and parts.withdrawals == whole.withdrawals
    assert parts.terms == whole.terms and parts.instructions == whole.instructions
    assert [r.index for r in parts.active_records()] == [1, 3, 4]


def test_other_log_errors_are_not_split_but_reported(
    spartacus: Spartacus, create_campaign: Any, anvil_rpc: str
) -> None:
    campaign_id, _ = create_campaign(threshold=5)
    capped = RecordingProvider(anvil_rpc, cap=0, message="rate limited, slow down")
    with pytest.raises(ChainError, match="eth_getLogs failed.*rate limited"):
        Registry(Web3(capped), spartacus.registry).history(campaign_id)
    assert len(capped.queries) == 1


class PrunedNode(RecordingProvider):
    """A node that keeps no old state (not an archive node): calls on past blocks fail."""

    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_call" and params[1] not in ("latest", "pending"):
            error = {"code": -32000, "message": "missing trie node (state pruned)"}
            return {"jsonrpc": "2.0", "id": 1, "error": error}
        return super().make_request(method, params)


def _old_registry_campaign(
    spartacus: Spartacus, create_campaign: Any, w3: Web3, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, int, int]:
    """A registry 40 blocks old when its campaign is created, with chunks of 2 blocks and
    bisection from 4 chunks on: (campaign id, creation block, head)."""
    w3.provider.make_request("anvil_mine", [40])  # type: ignore[arg-type]
    before = int(w3.eth.block_number)
    campaign_id = _busy_campaign(spartacus, create_campaign)
    monkeypatch.setattr(chain, "LOG_CHUNK_BLOCKS", 2)
    monkeypatch.setattr(chain, "BISECT_AFTER_CHUNKS", 4)
    created = _registry(HTTPProvider(spartacus.rpc), spartacus.registry, 0).creation_block(
        campaign_id, int(w3.eth.block_number)
    )
    assert before < created <= before + 2  # endorsing sends nothing; creating is one tx
    return campaign_id, created, int(w3.eth.block_number)


def test_an_old_registry_is_read_from_the_campaigns_creation_block(
    spartacus: Spartacus, create_campaign: Any, w3: Web3, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id, created, head = _old_registry_campaign(spartacus, create_campaign, w3, monkeypatch)
    whole = _registry(HTTPProvider(spartacus.rpc), spartacus.registry, 0)
    # The deployment block is not known (from_block 0): bisection starts at genesis and
    # sees no registry code there, which counts as no campaign yet.
    node = RecordingProvider(spartacus.rpc)
    history = _registry(node, spartacus.registry, 0).history(campaign_id)
    assert node.queries[0][0] == created and node.queries[-1][1] == head
    assert len(node.queries) == (head - created) // 2 + 1
    assert [e.record.index for e in history.pledges] == [1, 2, 3, 4]
    monkeypatch.setattr(chain, "BISECT_AFTER_CHUNKS", 10**6)
    assert whole.history(campaign_id) == history  # read from genesis, chunk by chunk


def test_a_node_without_old_state_is_read_from_the_deployment_block(
    spartacus: Spartacus, create_campaign: Any, w3: Web3, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed = int(w3.eth.block_number)  # the registry is the fixture's last transaction
    campaign_id, created, head = _old_registry_campaign(spartacus, create_campaign, w3, monkeypatch)
    node = PrunedNode(spartacus.rpc)
    history = _registry(node, spartacus.registry, deployed).history(campaign_id)
    assert node.queries[0][0] == deployed < created and node.queries[-1][1] == head
    assert [e.record.index for e in history.pledges] == [1, 2, 3, 4]
