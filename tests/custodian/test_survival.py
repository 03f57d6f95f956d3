"""Expiry destroys keys; kill -9 at several points and reorgs never double or hasten a release."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from web3 import Web3

from spartacus import protocol

from .conftest import Daemon, Spartacus, mine, names, pledge, release_parts, wait_until

ROUND_0 = [(0, 0, protocol.KIND_SEALED), (0, 0, protocol.KIND_KEYS)]


def _key_file(spartacus: Spartacus, role: str, campaign_key: str) -> Any:
    return spartacus.home(role) / "custodian" / "keys" / f"{campaign_key[2:]}.json"


@pytest.fixture
def manual_mining(w3: Web3) -> Iterator[Callable[[bool], None]]:
    """Switch anvil's automine off and on; always back on after the test."""

    def automine(on: bool) -> None:
        w3.provider.make_request("evm_setAutomine", [on])  # type: ignore[arg-type]

    yield automine
    automine(True)


def test_expiry_destroys_the_key_and_a_later_release_is_refused(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
    travel: Callable[[int], None],
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2, deadline="1h")
    pledge(spartacus, campaign, "Alice", 2)
    spare = spartacus.ok(
        "custodian", "endorse", "--expiry", "30m",
        role=custodian.role, passphrase=custodian.passphrase, dev=None,
    )  # fmt: skip
    daemon = daemons(custodian, "--confirmations", "0")
    found = daemon.wait_for("campaign_found", campaign=campaign)[0]
    key_file = _key_file(spartacus, custodian.role, found["campaign_key"])
    spare_file = _key_file(spartacus, custodian.role, spare["campaignKey"])
    wait_until(lambda: daemon.campaign_state(campaign).get("status") == "open", "open", daemon)
    assert key_file.exists() and spare_file.exists()

    travel(2 * 3600)
    destroyed = daemon.wait_for("key_destroyed", campaign=campaign)[0]
    assert destroyed["reason"] == "campaign expired" and destroyed["file_removed"] is True
    assert not key_file.exists()
    daemon.wait_for("expire_sent", campaign=campaign)
    unused = daemon.wait_for("key_destroyed", reason="endorsement expired unused")[0]
    assert unused["campaign_key"] == spare["campaignKey"] and not spare_file.exists()
    assert daemon.campaign_state(campaign)["keyDestroyed"]["reason"] == "campaign expired"
    assert spartacus.ok("status", str(campaign))["status"] == "expired"

    refused = spartacus(
        "custodian", "release", str(campaign),
        role=custodian.role, passphrase=custodian.passphrase, dev=None,
    )  # fmt: skip
    assert refused.exit_code == 1 and "release only after the reveal" in refused.stderr
    assert release_parts(spartacus.rpc, spartacus.registry, campaign) == []
    assert daemon.events("release_sent") == []


def test_key_is_destroyed_once_the_release_is_final(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
) -> None:
    """#12: joining closes at the reveal, so once the release is final nothing more can be
    due: the key goes at once, long before the deadline (v1 kept it until then)."""
    campaign, (custodian,) = create_campaign(threshold=2, deadline="7d")
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    daemon = daemons(custodian, "--confirmations", "0")
    found = daemon.wait_for("campaign_found", campaign=campaign)[0]
    key_file = _key_file(spartacus, custodian.role, found["campaign_key"])
    daemon.wait_for("release_mined", campaign=campaign, count=2)

    destroyed = daemon.wait_for("key_destroyed", campaign=campaign)[0]
    assert destroyed["reason"] == "release final"
    assert not key_file.exists()
    assert names(spartacus.ok("roster", str(campaign), role="alice")) == ["Alice", "Bob"]
    refused = spartacus(
        "custodian", "release", str(campaign),
        role=custodian.role, passphrase=custodian.passphrase, dev=None,
    )  # fmt: skip
    assert refused.exit_code == 1 and "not found" in refused.stderr


def test_late_joining_key_kept_until_admission_closes_and_admitted_only_released(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
    travel: Callable[[int], None],
) -> None:
    """A late pledge is released only once its creator admits it; the key stays while an
    admission could still come (until deadline + ADMIT_WINDOW), then goes."""
    campaign, (custodian,) = create_campaign(threshold=2, deadline="1h", late=True)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    pledge(spartacus, campaign, "Carol", 4)  # late: after the reveal
    pledge(spartacus, campaign, "Dave", 5)  # late, never admitted
    daemon = daemons(custodian, "--confirmations", "0")
    found = daemon.wait_for("campaign_found", campaign=campaign)[0]
    key_file = _key_file(spartacus, custodian.role, found["campaign_key"])
    daemon.wait_for("release_mined", campaign=campaign, count=2)
    assert names(spartacus.ok("roster", str(campaign), role="alice")) == ["Alice", "Bob"]

    admitted = spartacus.ok("admit", str(campaign), "3", role="creator", dev=1)
    assert admitted["admitted"] == [3]
    wait_until(
        lambda: (
            names(spartacus.ok("roster", str(campaign), role="alice")) == ["Alice", "Bob", "Carol"]
        ),
        "Carol's key released once admitted",
        daemon,
    )
    assert key_file.exists() and daemon.events("key_destroyed") == []

    travel(8 * 86_400 + 2 * 3600)  # past the deadline and its 7-day admission window
    destroyed = daemon.wait_for("key_destroyed", campaign=campaign)[0]
    assert destroyed["reason"] == "release final and the admission window closed"
    assert not key_file.exists()


def test_kill_between_passes_then_restart_releases_each_round_once(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2, late=True)  # Carol joins late
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    first = daemons(custodian, "--confirmations", "0")
    first.wait_for("release_mined", campaign=campaign, count=2)
    first.kill()

    pledge(spartacus, campaign, "Carol", 4)
    spartacus.ok("admit", str(campaign), "--all", role="creator", dev=1)
    second = daemons(custodian, "--confirmations", "0")
    second.wait_for("release_mined", campaign=campaign, round=1, count=2)
    # Round 0 is not released again: the only round-0 part the second daemon sends is the
    # key seal for Carol, who joined after it.
    expected = [
        *ROUND_0,
        (0, 1, protocol.KIND_SEALED),
        (0, 1, protocol.KIND_KEYS),
        (0, 0, protocol.KIND_KEYS),
    ]
    wait_until(
        lambda: len(release_parts(spartacus.rpc, spartacus.registry, campaign)) >= len(expected),
        "the late member's key seal",
        second,
    )
    assert len(second.events("release_mined", round=0)) <= 1
    assert release_parts(spartacus.rpc, spartacus.registry, campaign) == expected
    assert names(spartacus.ok("roster", str(campaign), role="carol")) == ["Alice", "Bob", "Carol"]


def test_kill_right_after_release_sent_then_restart_releases_once(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    first = daemons(custodian, "--confirmations", "0")
    sent = first.wait_for("release_sent", campaign=campaign)[0]
    first.kill()  # the transaction is mined (automine), its receipt maybe not saved
    # The daemon may have gone on to the next part before the kill landed; whatever it
    # left pending belongs to round 0, and the restart below must finish it exactly once.
    saved = first.campaign_state(campaign)
    assert saved["pending"] is None or saved["pending"]["round"] == 0

    second = daemons(custodian, "--confirmations", "0")
    wait_until(
        lambda: (
            len(second.campaign_state(campaign).get("releases", [])) == 2
            and second.campaign_state(campaign)["pending"] is None
        ),
        "both parts recorded",
        second,
    )
    assert release_parts(spartacus.rpc, spartacus.registry, campaign) == ROUND_0
    assert sent["tx"] in [r["tx"] for r in second.campaign_state(campaign)["releases"]]


def test_kill_while_the_release_is_unmined_then_restart_waits_for_it(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
    manual_mining: Callable[[bool], None],
    w3: Web3,
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    manual_mining(False)
    first = daemons(custodian, "--confirmations", "0")
    sent = first.wait_for("release_sent", campaign=campaign)[0]
    first.kill()
    assert first.campaign_state(campaign)["pending"]["tx"] == sent["tx"]

    second = daemons(custodian, "--confirmations", "0")
    second.wait_for("release_pending", campaign=campaign, tx=sent["tx"])
    assert (
        second.events("release_sent") == []
        and release_parts(spartacus.rpc, spartacus.registry, campaign) == []
    )
    manual_mining(True)
    mine(w3)
    mined = second.wait_for("release_mined", campaign=campaign, count=2)
    assert mined[0]["tx"] == sent["tx"]
    assert release_parts(spartacus.rpc, spartacus.registry, campaign) == ROUND_0


def test_dropped_release_is_planned_again_and_sent_once(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
    manual_mining: Callable[[bool], None],
    w3: Web3,
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    manual_mining(False)
    first = daemons(custodian, "--confirmations", "0")
    sent = first.wait_for("release_sent", campaign=campaign)[0]
    first.kill()
    w3.provider.make_request("anvil_dropTransaction", [sent["tx"]])  # type: ignore[arg-type]
    manual_mining(True)

    second = daemons(custodian, "--confirmations", "0")
    second.wait_for("release_dropped", campaign=campaign, tx=sent["tx"])
    mined = second.wait_for("release_mined", campaign=campaign, count=2)
    assert sent["tx"] not in [e["tx"] for e in mined]
    assert release_parts(spartacus.rpc, spartacus.registry, campaign) == ROUND_0
    assert names(spartacus.ok("roster", str(campaign), role="alice")) == ["Alice", "Bob"]


def test_reorg_of_the_threshold_pledge_releases_nothing_and_depth_is_awaited(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
    w3: Web3,
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2)
    pledge(spartacus, campaign, "Alice", 2)
    daemon = daemons(custodian, "--confirmations", "2")

    def seen(block: int) -> Callable[[], bool]:
        return lambda: (daemon.campaign_state(campaign).get("lastBlock") or -1) >= block

    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    pledge(spartacus, campaign, "Bob", 3)
    reveal = w3.eth.block_number
    assert spartacus.ok("status", str(campaign))["status"] == "revealed"
    mine(w3)  # one block on top: still shallower than two confirmations
    wait_until(seen(reveal - 1), "a pass with the reveal one block deep", daemon)
    assert daemon.campaign_state(campaign)["status"] == "open"
    assert daemon.events("release_sent") == []

    assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True  # type: ignore[arg-type]
    mine(w3, 4)  # a longer chain without Bob's pledge
    wait_until(seen(reveal + 1), "a pass past the reverted reveal", daemon)
    assert daemon.campaign_state(campaign)["status"] == "open"
    assert spartacus.ok("status", str(campaign))["status"] == "open"
    assert daemon.events("release_sent") == []
    assert release_parts(spartacus.rpc, spartacus.registry, campaign) == []

    pledge(spartacus, campaign, "Carol", 4)  # a threshold pledge that stays
    mine(w3, 2)
    daemon.wait_for("release_mined", campaign=campaign, count=2)
    assert names(spartacus.ok("roster", str(campaign), role="carol")) == ["Alice", "Carol"]
