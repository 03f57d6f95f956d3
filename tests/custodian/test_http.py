"""Key issuance over HTTP: a creator gets a key from the daemon; bad requests and floods get 4xx."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from web3 import HTTPProvider, Web3

from spartacus.chain.quorum import Quorum
from spartacus.chain.registry import Registry
from spartacus.custodian import Watcher, WatchSettings
from spartacus.custodian.issuance import create_app
from spartacus.custodian.keystore import Keystore
from spartacus.ratelimit import RateLimiter
from tests.cli.conftest import _free_port

from .conftest import CustodianRole, Daemon, Spartacus, names, pledge


def _watcher(spartacus: Spartacus, custodian: CustodianRole, rpc: str | None = None) -> Watcher:
    home = spartacus.home(custodian.role)
    keystore = Keystore(home, custodian.passphrase)
    w3 = Web3(HTTPProvider(rpc or spartacus.rpc))
    return Watcher(
        home,
        keystore,
        keystore.account(),
        lambda: Quorum([Registry(w3, spartacus.registry)], tag="latest"),
        WatchSettings(poll=0.01, once_attempts=3),
    )


@pytest.fixture
def custodian(make_custodians: Callable[[int], list[CustodianRole]]) -> CustodianRole:
    return make_custodians(1)[0]


@pytest.fixture
def client(spartacus: Spartacus, custodian: CustodianRole) -> FlaskClient:
    app = create_app(_watcher(spartacus, custodian), {"RATE_PER_MINUTE": 2})
    return app.test_client()


def test_create_with_custodian_url_gets_a_key_and_the_daemon_releases(
    spartacus: Spartacus, custodian: CustodianRole, daemons: Callable[..., Daemon]
) -> None:
    daemon = daemons(custodian, "--confirmations", "0", "--listen", "127.0.0.1:0")
    port = daemon.wait_for("http_listening")[0]["port"]
    url = f"http://127.0.0.1:{port}"
    health = requests.get(f"{url}/health", timeout=10)
    assert health.status_code == 200 and health.json()["custodian"] == custodian.address

    created = spartacus.ok(
        "create", "--title", "Fix the heating", "--instructions", "Monday 9:00",
        "--threshold", "2", "--deadline", "7d", "--grace", "0", "--custodian", url,
        role="creator", dev=1,
    )  # fmt: skip
    campaign = int(created["campaign"])
    issued = daemon.wait_for("key_issued")[0]
    found = daemon.wait_for("campaign_found", campaign=campaign)[0]
    assert found["campaign_key"] == issued["campaign_key"]
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    daemon.wait_for("release_mined", campaign=campaign, count=2)
    roster = spartacus.ok("roster", str(campaign), role="alice")
    assert names(roster) == ["Alice", "Bob"] and roster["instructions"] == "Monday 9:00"


def test_create_with_an_unreachable_custodian_fails_with_a_reason(spartacus: Spartacus) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    result = spartacus(
        "create", "--title", "T", "--instructions", "I", "--threshold", "2",
        "--deadline", "7d", "--custodian", url, role="creator", dev=1,
    )  # fmt: skip
    assert result.exit_code == 1 and f"custodian {url} did not answer" in result.stderr


BAD_REQUESTS: list[tuple[dict[str, Any], int, str]] = [
    ({"data": "expiresIn=60", "content_type": "text/plain"}, 415, "send a JSON object"),
    ({"json": [1, 2]}, 400, "not a JSON object"),
    ({"json": {"colour": "red"}}, 400, "unknown field(s): colour"),
    ({"json": {"expiresIn": "7d"}}, 400, "whole number of seconds"),
    ({"json": {"expiresIn": 10}}, 400, "between 600 and 2592000"),
    ({"json": {"registry": "0x" + "11" * 20}}, 409, "this custodian serves registry"),
    ({"json": {"chainId": 1}}, 409, "this custodian serves chain 31337"),
]


def test_bad_key_requests_get_4xx_with_a_reason_and_issue_nothing(
    client: FlaskClient, spartacus: Spartacus, custodian: CustodianRole
) -> None:
    for kwargs, status, reason in BAD_REQUESTS:
        response = client.post("/keys", **kwargs)
        assert (response.status_code, reason in response.get_json()["error"]) == (
            status,
            True,
        ), (kwargs, response.get_json())
    assert Keystore(spartacus.home(custodian.role), custodian.passphrase).campaign_keys() == []


def test_wrong_method_and_path_get_json_errors(client: FlaskClient) -> None:
    assert client.get("/keys").status_code == 405
    missing = client.get("/nothing")
    assert missing.status_code == 404 and missing.get_json()["error"]


def test_key_requests_beyond_the_rate_limit_get_429(
    client: FlaskClient, spartacus: Spartacus, custodian: CustodianRole
) -> None:
    issued = [client.post("/keys", json={"expiresIn": 3600}) for _ in range(2)]
    assert [r.status_code for r in issued] == [201, 201]
    body = issued[0].get_json()
    assert body["custodian"] == custodian.address and body["registry"] == spartacus.registry
    refused = client.post("/keys")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "too many key requests" in refused.get_json()["error"]
    keys = Keystore(spartacus.home(custodian.role), custodian.passphrase).campaign_keys()
    assert sorted("0x" + k.hex() for k in keys) == sorted(
        r.get_json()["campaignKey"] for r in issued
    )


def test_one_caller_cannot_spend_the_hours_keys_for_everyone(
    spartacus: Spartacus, custodian: CustodianRole
) -> None:
    # A web app asking for all its creators is one caller here, as is an abuser: neither
    # may take the whole hour's budget, so other callers still get keys.
    config = {"RATE_PER_MINUTE": 100, "RATE_PER_CLIENT_HOUR": 2, "RATE_PER_HOUR": 4}
    client = create_app(_watcher(spartacus, custodian), config).test_client()

    def ask(caller: str) -> int:
        return client.post("/keys", environ_base={"REMOTE_ADDR": caller}).status_code

    assert [ask("198.51.100.1") for _ in range(3)] == [201, 201, 429]
    assert [ask("198.51.100.2") for _ in range(2)] == [201, 201]


class Clock:
    """The time the limiter and its storage see, moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 1_000_000.0
        fake = SimpleNamespace(time=lambda: self.now)
        monkeypatch.setattr("spartacus.ratelimit.time", fake)
        monkeypatch.setattr("limits.storage.memory.time", fake)

    def at(self, limiter: RateLimiter, client: str, seconds: float) -> int:
        self.now = 1_000_000.0 + seconds
        return limiter.check(client)


def test_rate_limiter_keeps_a_client_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(monkeypatch)
    limiter = RateLimiter(per_minute=2, per_hour=100, per_client_hour=3)
    assert [clock.at(limiter, "a", t) for t in (0.0, 1.0, 70.0)] == [0, 0, 0]
    assert clock.at(limiter, "a", 71.0) == 3529  # the client's hour, not the minute
    assert clock.at(limiter, "b", 71.0) == 0
    assert clock.at(limiter, "a", 3601.0) == 0


def test_rate_limiter_windows_slide(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(monkeypatch)
    limiter = RateLimiter(per_minute=2, per_hour=3)
    assert [clock.at(limiter, "a", t) for t in (0.0, 1.0)] == [0, 0]
    assert clock.at(limiter, "a", 2.0) == 58
    assert clock.at(limiter, "b", 2.0) == 0
    assert clock.at(limiter, "c", 3.0) > 3000  # the hourly total is spent
    assert clock.at(limiter, "a", 3601.0) == 0


def test_health_reports_failing_passes_with_503(
    spartacus: Spartacus, custodian: CustodianRole
) -> None:
    watcher = _watcher(spartacus, custodian, rpc=f"http://127.0.0.1:{_free_port()}")
    client = create_app(watcher).test_client()
    assert watcher.run(once=True) is False
    report = client.get("/health")
    assert report.status_code == 503
    assert report.get_json()["failures"] == 3
    # The public report never carries the RPC URL (a hosted node's URL holds its API key).
    assert report.get_json()["lastError"] == "the node cannot be reached"
    assert "127.0.0.1" in (watcher.last_error or "")  # the operator's log has it all
    refused = client.post("/keys")
    assert refused.status_code == 503 and "cannot reach its chain" in refused.get_json()["error"]


def test_create_without_any_custodian_is_refused(spartacus: Spartacus) -> None:
    result = spartacus(
        "create", "--title", "T", "--instructions", "I", "--threshold", "2",
        "--deadline", "7d", role="creator", dev=1,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "name the custodians with --endorsement FILE or --custodian URL" in result.stderr
