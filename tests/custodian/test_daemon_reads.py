"""The custodian daemon reads a campaign from its checkpoint on, not from its creation, on
every pass (issue #15): through a provider capping ``eth_getLogs`` at 10 blocks
(tests/rpc_proxy.LimitedNode, which records every log query), a pass after the release asks
only for blocks after the block the previous pass confirmed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from web3 import HTTPProvider, Web3

from spartacus.chain.registry import Registry
from spartacus.chain.walk import campaign_topic

from ..rpc_proxy import LimitedNode
from .conftest import Daemon, Spartacus, pledge


@pytest.fixture
def limited(anvil_rpc: str) -> Iterator[LimitedNode]:
    node = LimitedNode(anvil_rpc, max_range=10)
    yield node
    node.close()


def campaign_blocks(node: LimitedNode, campaign: int) -> list[int]:
    """The blocks of the log queries filtered on the campaign (the walk asks one at a time)."""
    topic = campaign_topic(campaign)
    return [
        int(q["fromBlock"], 16)
        for q in node.log_queries
        if len(q.get("topics") or []) > 1 and q["topics"][1] == topic
    ]


def one_pass(daemons: Callable[..., Daemon], custodian: Any, node: LimitedNode) -> Daemon:
    daemon = daemons(custodian, "--once", "--confirmations", "0", rpc=node.url)
    assert daemon.process is not None
    assert daemon.process.wait(timeout=120) == 0, "\n".join(daemon.raw[-6:])
    return daemon


def test_a_pass_reads_only_the_events_after_the_last_confirmed_block(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
    limited: LimitedNode,
) -> None:
    # Late joining keeps the campaign key after the release: the daemon visits it every pass.
    campaign, (custodian,) = create_campaign(threshold=2, late=True)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    registry = Registry(Web3(HTTPProvider(spartacus.rpc)), spartacus.registry)
    revealed = registry.history(campaign).pledges[-1].block_number

    first = one_pass(daemons, custodian, limited)
    assert first.events("release_mined", campaign=campaign)
    assert min(campaign_blocks(limited, campaign)) < revealed  # read from its creation once

    limited.reset()
    second = one_pass(daemons, custodian, limited)
    assert second.events("release_sent") == []
    read = campaign_blocks(limited, campaign)
    assert read and min(read) > revealed  # the releases' blocks, after the checkpoint

    limited.reset()
    third = one_pass(daemons, custodian, limited)
    assert third.events("release_sent") == []
    assert campaign_blocks(limited, campaign) == []  # nothing new: nothing walked
