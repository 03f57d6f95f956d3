"""Reading a campaign through a provider that caps ``eth_getLogs`` at 5 blocks and fails on
demand (tests/rpc_proxy.LimitedNode.fail): a JSON-RPC error, an HTTP 503, or an answer held
past the client's timeout (issue #15).

A failure that passes is retried by web3's own ``exception_retry_configuration`` and the
history read is the same; one that keeps failing ends the read with a ``ChainError`` that
names the call and says what to do, never with a partial history.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web3 import HTTPProvider, Web3

from spartacus.chain.records import History
from spartacus.chain.registry import Registry
from spartacus.exceptions import ChainError

from ..rpc_proxy import LimitedNode
from .conftest import Spartacus, pledge

GAP = 20  # blocks between events: 4 ranges of a 5-block cap each
TIMEOUT = 0.5  # seconds the client waits for an answer in these tests
HOLD = 1.5  # seconds a "timeout" failure holds the answer: past TIMEOUT


@pytest.fixture
def capped(anvil_rpc: str) -> Iterator[LimitedNode]:
    node = LimitedNode(anvil_rpc, max_range=5)
    yield node
    node.close()


def mine(w3: Web3, blocks: int) -> None:
    w3.provider.make_request("anvil_mine", [hex(blocks), hex(2)])  # type: ignore[arg-type]


def registry(url: str, address: str, start: int = 0) -> Registry:
    """The registry read as the CLI reads it: web3's HTTP provider and its default retries."""
    return Registry(
        Web3(HTTPProvider(url, request_kwargs={"timeout": TIMEOUT})), address, from_block=start
    )


@pytest.fixture
def aged(spartacus: Spartacus, create_campaign: Any, w3: Web3) -> tuple[int, int, History]:
    """A campaign with events in 3 blocks ``GAP`` apart (created, two pledges): its id, the
    registry's deployment block, and its history read straight from anvil."""
    deployed = int(w3.eth.block_number)
    campaign_id, _ = create_campaign(threshold=5)
    for number, name in enumerate(["alice", "bob"]):
        mine(w3, GAP)
        pledge(spartacus, campaign_id, name, 2 + number)
    mine(w3, GAP)
    whole = registry(spartacus.rpc, spartacus.registry, deployed).history(campaign_id)
    assert [p.record.index for p in whole.pledges] == [1, 2]
    return campaign_id, deployed, whole


def test_history_under_a_5_block_cap_costs_its_event_blocks_plus_one_call(
    spartacus: Spartacus, aged: tuple[int, int, History], capped: LimitedNode, w3: Web3
) -> None:
    campaign_id, deployed, whole = aged
    assert int(w3.eth.block_number) - deployed > 3 * GAP  # a scan would cost > 12 calls

    history = registry(capped.url, spartacus.registry, deployed).history(campaign_id)

    assert history == whole
    assert capped.reads() == {"eth_call": 1, "eth_getLogs": 3}
    assert capped.refused == []


@pytest.mark.parametrize("method", ["eth_getLogs", "eth_call"])
@pytest.mark.parametrize("how", ["http", "timeout"])
def test_a_call_that_fails_once_is_retried_and_reads_the_same_history(
    spartacus: Spartacus, aged: tuple[int, int, History], capped: LimitedNode, method: str, how: str
) -> None:
    campaign_id, deployed, whole = aged
    capped.fail(method, 1, how=how, hold=HOLD)

    history = registry(capped.url, spartacus.registry, deployed).history(campaign_id)

    assert history == whole
    assert capped.faults[method] == []  # the failure was met, and asked again past it
    assert capped.reads() == {
        "eth_call": 1,
        "eth_getLogs": 3,
        method: 2 if method == "eth_call" else 4,
    }


@pytest.mark.parametrize(
    ("method", "how", "call"),
    [
        ("eth_getLogs", "http", "eth_getLogs of blocks"),
        ("eth_call", "http", "eth_call campaign("),
        ("eth_call", "timeout", "eth_call campaign("),
    ],
)
def test_a_node_that_keeps_failing_is_a_clear_error_naming_the_call(
    spartacus: Spartacus,
    aged: tuple[int, int, History],
    capped: LimitedNode,
    method: str,
    how: str,
    call: str,
) -> None:
    campaign_id, deployed, _ = aged
    capped.fail(method, 50, how=how, hold=HOLD)

    with pytest.raises(ChainError) as raised:
        registry(capped.url, spartacus.registry, deployed).history(campaign_id)

    message = str(raised.value)
    assert call in message and "did not answer" in message and "another node" in message
    assert capped.url.split("//")[1] not in message  # a hosted node's URL holds its key


def test_a_json_rpc_error_on_get_logs_is_an_error_never_a_partial_history(
    spartacus: Spartacus, aged: tuple[int, int, History], capped: LimitedNode
) -> None:
    campaign_id, deployed, _ = aged
    capped.fail("eth_getLogs", 1, how="rpc")  # the walk's first block: the latest event's

    with pytest.raises(ChainError, match=r"eth_getLogs failed.*internal error.*another node"):
        registry(capped.url, spartacus.registry, deployed).history(campaign_id)
