"""L2 rehearsal: the whole flow on anvil in OP-stack mode with 2-second blocks.

Deploy, a custodian's `spartacus watch` daemon, the web app with its relayer, relayed
pledges, the reveal, the daemon's release and the roster read from the web app's records,
as on Base or Optimism: every transaction waits for a block, and the relayer and the
daemon price the L1 data fee (GasPriceOracle stand-in, see tests.chain.op_stack).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from web3 import HTTPProvider, Web3

from spartacus import protocol
from spartacus.chain.fees import fee_model
from spartacus.protocol.roster import ReleaseRecord
from tests.chain.op_stack import running_op_anvil
from tests.cli.conftest import (  # noqa: F401 - fixtures
    Spartacus,
    create_campaign,
    make_custodians,
    spartacus,
)
from tests.custodian.conftest import Daemon, daemons  # noqa: F401 - fixture
from tests.web.conftest import Web, new_pledger, pledge_body, web, web_config  # noqa: F401


@pytest.fixture(scope="module")
def anvil_rpc() -> Iterator[str]:
    """Replaces the shared anvil for this module: OP-stack mode, a block every 2 s."""
    with running_op_anvil("--block-time", "2") as rpc:
        yield rpc


@pytest.fixture
def w3(anvil_rpc: str) -> Web3:
    return Web3(HTTPProvider(anvil_rpc))


def test_whole_flow_on_op_stack_with_two_second_blocks(
    w3: Web3,
    web: Web,  # noqa: F811
    create_campaign: Callable[..., tuple[int, list[Any]]],  # noqa: F811
    daemons: Callable[..., Daemon],  # noqa: F811
) -> None:
    assert fee_model(w3) == "op-stack"
    campaign_id, (custodian,) = create_campaign(threshold=2)
    daemon = daemons(custodian, "--confirmations", "0")
    daemon.wait_for("campaign_found", campaign=campaign_id)
    web.sync()
    pledgers = [new_pledger("Alice", "alice@example.org"), new_pledger("Bob", "bob@example.org")]
    for p in pledgers:
        answer = web.post("/api/relay/pledge", pledge_body(web, campaign_id, p))
        assert answer.status_code == 200, answer.get_json()
    relayed = web.state.relayer._submitter.sender.last_cost  # type: ignore[union-attr]
    assert relayed is not None and relayed.l1_fee > 0  # the relayer priced the L1 data fee

    daemon.wait_for("release_mined", campaign=campaign_id, count=2)
    sent = daemon.events("release_sent", campaign=campaign_id)
    assert sent and all(e["l1_fee_wei"] > 0 for e in sent)  # the custodian priced it too
    assert all(e["max_cost_wei"] > e["l1_fee_wei"] for e in sent)
    web.sync()
    data = web.get(f"/api/campaigns/{campaign_id}/records").get_json()
    assert data["status"] == "revealed" and data["releases"]
    records = [
        protocol.PledgeRecord(
            r["index"], r["account"], bytes.fromhex(r["memberKey"][2:]),
            bytes.fromhex(r["ciphertext"][2:]), bytes.fromhex(r["boxes"][2:]),
            bytes.fromhex(r["commitment"][2:]),
        )
        for r in [data["instructions"], *data["pledges"]]
    ]  # fmt: skip
    releases = [
        ReleaseRecord(r["custodianIndex"], bytes.fromhex(r["data"][2:])) for r in data["releases"]
    ]
    for reader in pledgers:
        roster = protocol.read_roster(
            web.state.registry.deployment, campaign_id, data["n"], data["t"], records, releases,
            reader=reader.keys, reader_index=None,
        )  # fmt: skip
        assert sorted(m.contact.name for m in roster.members) == ["Alice", "Bob"]
        assert roster.instructions == "Meet Monday 9:00 at the canteen"
    assert daemon.stop() == 0
