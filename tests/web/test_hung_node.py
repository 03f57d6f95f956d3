"""The web app when its node hangs: it takes connections and never answers.

Unlike a node that is down (connections refused at once, tests/web/test_node_outage.py), a
hung node makes every call wait for its timeout. The app must not hand that wait to its
visitors: once the poller's read has timed out, pages and lists are served from the index,
`/api/health` answers 503 without asking the node, and relayed requests are refused with
503 (nothing sent) without a single call to the node. When the node answers again, the
poller recovers and relaying works.

The node is anvil behind a small JSON-RPC pass-through that can be told to hang; it counts
the calls it receives, so "without asking the node" is checked by count, not by timing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from spartacus.exceptions import UsageError
from spartacus.web import WebState, create_app
from spartacus.web.config import DEFAULTS, from_environment
from tests.custodian.conftest import wait_until
from tests.rpc_proxy import RpcProxy

from .conftest import Web, new_pledger, pledge_body

RPC_TIMEOUT = 1.0  # seconds per node call in this test (the app's default is 10)


class HangingProxy(RpcProxy):
    """Forwards JSON-RPC to anvil; while ``hang`` is set, holds each request unanswered."""

    def __init__(self, upstream: str) -> None:
        self.hang = threading.Event()
        self.released = threading.Event()
        self.calls: list[str] = []
        super().__init__(upstream)

    def forward(self, body: bytes) -> tuple[int, bytes] | None:
        request = json.loads(body)
        self.calls.append(request.get("method", "batch") if isinstance(request, dict) else "batch")
        if self.hang.is_set():
            self.released.wait(30)  # never answers while hung
            return None
        return super().forward(body)

    def close(self) -> None:
        self.released.set()
        super().close()


@pytest.fixture
def proxy(anvil_rpc: str) -> Iterator[HangingProxy]:
    node = HangingProxy(anvil_rpc)
    yield node
    node.close()


@pytest.fixture
def hung_web(web_config: dict[str, Any], proxy: HangingProxy) -> Iterator[Web]:
    config = {**web_config, "RPC": proxy.url, "RPC_TIMEOUT": RPC_TIMEOUT, "POLL_INTERVAL": 0.2}
    app = create_app(config)
    shared: WebState = app.extensions["spartacus"]
    shared.start()
    yield Web(app, app.test_client(), shared)
    proxy.released.set()
    shared.stop()


def test_a_hung_node_is_not_passed_on_to_visitors(
    hung_web: Web, proxy: HangingProxy, create_campaign: Any
) -> None:
    web = hung_web
    campaign, _ = create_campaign(threshold=3)
    wait_until(lambda: campaign in web.state.index.campaign_ids(), "the campaign indexed")
    alice, bob = new_pledger("Alice", "a@x.org"), new_pledger("Bob", "b@x.org")
    first = web.post("/api/relay/pledge", pledge_body(web, campaign, alice))
    assert first.status_code == 200, first.get_json()
    bob_body = pledge_body(web, campaign, bob)  # signed while the node answers
    count = f"/api/campaigns/{campaign}"
    wait_until(lambda: web.get(count).get_json()["active"] == 1, "the pledge indexed")

    proxy.hang.set()
    wait_until(lambda: web.state.index.last_error is not None, "the poller to time out")
    calls = len(proxy.calls)
    assert web.get(f"/c/{campaign}").status_code == 200
    assert web.get(count).get_json()["active"] == 1  # from the index
    health = web.get("/api/health")
    report = health.get_json()
    assert health.status_code == 503 and report["node"]["reachable"] is False
    assert report["relayer"]["balanceWei"] is None
    refused = web.post("/api/relay/pledge", bob_body)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert "nothing was sent" in refused.get_json()["error"]
    # The poller may have tried again meanwhile; nothing else asked the node anything.
    assert set(proxy.calls[calls:]) <= {"eth_blockNumber", "eth_getBlockByNumber"}

    proxy.hang.clear()
    proxy.released.set()
    wait_until(lambda: web.get("/api/health").status_code == 200, "the poller to recover")
    landed = web.post("/api/relay/pledge", bob_body)
    assert landed.status_code == 200, landed.get_json()
    assert landed.get_json()["active"] == 2


def test_the_node_timeout_is_set_from_the_environment() -> None:
    assert from_environment({})["RPC_TIMEOUT"] == DEFAULTS["RPC_TIMEOUT"] == 10.0
    assert from_environment({"SPARTACUS_RPC_TIMEOUT": "2.5"})["RPC_TIMEOUT"] == 2.5
    assert from_environment({"SPARTACUS_MAX_VIEWERS": "7"})["MAX_VIEWERS"] == 7
    with pytest.raises(UsageError, match="SPARTACUS_RPC_TIMEOUT must be a number, not 'soon'"):
        from_environment({"SPARTACUS_RPC_TIMEOUT": "soon"})
