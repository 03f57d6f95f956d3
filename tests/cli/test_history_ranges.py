"""Registry.history on a node that caps eth_getLogs ranges, as hosted RPC providers do.

The node is anvil; the cap is a provider in front of it that refuses any log query over
a few blocks with the kind of error such providers send. History read in parts must equal
history read in one call.
"""

from __future__ import annotations

from typing import Any

import pytest
from web3 import HTTPProvider, Web3
from web3.providers.base import BaseProvider

from spartacus.chain import Registry
from spartacus.exceptions import ChainError

from .conftest import Spartacus


class CappedProvider(BaseProvider):
    """Forwards to anvil; refuses eth_getLogs spanning more than ``cap`` blocks."""

    def __init__(self, rpc: str, cap: int, message: str) -> None:
        super().__init__()
        self.inner = HTTPProvider(rpc)
        self.cap = cap
        self.message = message
        self.log_queries: list[tuple[int, int]] = []

    def make_request(self, method: Any, params: Any) -> Any:
        if method == "eth_getLogs":
            start, end = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
            self.log_queries.append((start, end))
            if end - start + 1 > self.cap:
                return {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "error": {"code": -32005, "message": self.message},
                }
        return self.inner.make_request(method, params)


def test_history_read_in_parts_equals_history_read_at_once(
    spartacus: Spartacus, create_campaign: Any, anvil_rpc: str
) -> None:
    campaign_id, _ = create_campaign(threshold=5)
    for number, name in enumerate(["alice", "bob", "chloe"]):
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

    whole = Registry(Web3(HTTPProvider(anvil_rpc)), spartacus.registry).history(campaign_id)
    capped = CappedProvider(anvil_rpc, cap=3, message="block range too large: 10000 max")
    parts = Registry(Web3(capped), spartacus.registry).history(campaign_id)

    assert len(capped.log_queries) > 3  # it really was split
    answered = [(s, e) for s, e in capped.log_queries if e - s + 1 <= 3]
    assert sum(e - s + 1 for s, e in answered) == capped.log_queries[0][1] + 1  # all, once
    assert [name for name, _ in parts.log] == [name for name, _ in whole.log]
    assert parts.pledges == whole.pledges and parts.withdrawals == whole.withdrawals
    assert parts.terms == whole.terms and parts.instructions == whole.instructions
    assert [r.index for r in parts.active_records()] == [1, 3]


def test_other_log_errors_are_not_split_but_reported(
    spartacus: Spartacus, create_campaign: Any, anvil_rpc: str
) -> None:
    campaign_id, _ = create_campaign(threshold=5)
    capped = CappedProvider(anvil_rpc, cap=0, message="rate limited, slow down")
    with pytest.raises(ChainError, match="eth_getLogs failed.*rate limited"):
        Registry(Web3(capped), spartacus.registry).history(campaign_id)
    assert len(capped.log_queries) == 1
