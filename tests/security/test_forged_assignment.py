"""A lying primary forges which key a campaign uses, to make the custodian destroy another's.

The attack: a custodian serves two campaigns of one registry, each with its own key: A, whose
deadline has passed, and B, still open. The custodian's primary RPC (the source that sends
its transactions) is a proxy that tells the truth about every block, status and roster, and
lies about one thing: in A's ``CustodianAssigned`` log it puts the key the custodian endorsed
for B. A daemon that takes the campaigns it serves from its primary's logs alone records
"A uses B's key", sees A expired (true, and agreed by every source) and destroys B's key: B
can then never be revealed, whatever its members do.

The defence: the campaigns a custodian serves are taken only as the quorum reports them
(``Quorum.assignments``). The honest second source reports A with A's own key, so A is left
alone, one ``problem`` line names it, and B's key stays. The control at the end runs the
same daemon on the lying source alone, as every daemon did before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
import requests

from tests.cli.conftest import CustodianRole, Spartacus
from tests.custodian.conftest import Daemon, wait_until
from tests.rpc_proxy import RpcProxy
from tests.security.proxy import CUSTODIAN_ASSIGNED


class ForgingProxy(RpcProxy):
    """Every answer as the node gives it, but ``victim``'s assignment carries ``key``."""

    def __init__(self, upstream: str, victim: int, key: bytes) -> None:
        self.topic = "0x" + victim.to_bytes(32, "big").hex()
        self.key = key
        self.forged = 0
        super().__init__(upstream)

    def forward(self, body: bytes) -> tuple[int, bytes] | None:
        request = json.loads(body)
        calls = request if isinstance(request, list) else [request]
        methods = {c.get("id"): c.get("method") for c in calls}
        answer = requests.post(self.upstream, json=request, timeout=30).json()
        for item in answer if isinstance(answer, list) else [answer]:
            result = item.get("result")
            if methods.get(item.get("id")) == "eth_getLogs" and isinstance(result, list):
                for log in result:
                    if log["topics"][:2] == [CUSTODIAN_ASSIGNED, self.topic]:
                        # (index, key, expiry, signature...): the key word only
                        data = log["data"]
                        log["data"] = data[: 2 + 64] + self.key.hex() + data[2 + 128 :]
                        self.forged += 1
        return 200, json.dumps(answer).encode()


@pytest.fixture
def watch(spartacus: Spartacus) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def start(custodian: CustodianRole, rpc: str, *args: str) -> Daemon:
        daemon = Daemon(spartacus, custodian, ["--once", "--confirmations", "0", *args], rpc)
        daemon.start()
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill()


def _create(spartacus: Spartacus, custodian: CustodianRole, deadline: str) -> tuple[int, str]:
    """A campaign served by ``custodian`` alone; returns its id and its campaign key."""
    endorsement = spartacus.home(custodian.role) / f"endorsement-{deadline}.json"
    spartacus.ok(
        "custodian", "endorse", "--out", str(endorsement),
        role=custodian.role, passphrase=custodian.passphrase, dev=None,
    )  # fmt: skip
    key = json.loads(endorsement.read_text())["campaignKey"]
    campaign = spartacus.ok(
        "create", "--title", f"Campaign ending in {deadline}", "--description", "d",
        "--plan", "p", "--instructions", "i", "--threshold", "3", "--deadline", deadline,
        "--grace", "0", "--custodian-threshold", "1", "--endorsement", str(endorsement),
        role="creator", dev=1,
    )["campaign"]  # fmt: skip
    return int(campaign), key


def test_a_forged_assignment_from_the_primary_destroys_no_key_of_an_open_campaign(
    spartacus: Spartacus,
    make_custodians: Callable[[int], list[CustodianRole]],
    travel: Callable[[int], None],
    watch: Callable[..., Daemon],
) -> None:
    (custodian,) = make_custodians(1)
    expired, _ = _create(spartacus, custodian, "1d")
    open_, open_key = _create(spartacus, custodian, "30d")
    travel(2 * 86400)
    assert spartacus.ok("status", str(expired))["status"] == "expired"
    assert spartacus.ok("status", str(open_))["status"] == "open"
    open_file = spartacus.home(custodian.role) / "custodian" / "keys" / f"{open_key[2:]}.json"
    assert open_file.exists()
    liar = ForgingProxy(spartacus.rpc, expired, bytes.fromhex(open_key[2:]))
    try:
        daemon = watch(custodian, liar.url, "--source", spartacus.rpc)  # one pass, then exits
        wait_until(lambda: not daemon.alive(), "one pass of the daemon", daemon)
        assert daemon.process is not None and daemon.process.returncode == 0
        assert daemon.events("key_destroyed") == [] and open_file.exists()
        (disputed,) = daemon.events("problem", campaign=expired)
        assert disputed["problem"] == "sources disagree on the campaign's custodian key"
        assert liar.forged > 0 and daemon.events("campaign_found", campaign=open_)
        assert daemon.events("campaign_found", campaign=expired) == []

        # The control: the lying source alone, as every daemon was before.
        alone = watch(custodian, liar.url)
        wait_until(lambda: not alone.alive(), "one pass of the daemon", alone)
        (destroyed,) = alone.events("key_destroyed", campaign=expired)
        assert destroyed["campaign_key"] == open_key and not open_file.exists()
    finally:
        liar.close()
