"""The daemon releases at the reveal, in later rounds for late pledges, and with t of n."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from eth_account import Account
from web3 import HTTPProvider, Web3

from spartacus import protocol
from spartacus.chain.registry import Registry
from spartacus.cli.context import dev_account
from spartacus.protocol.sealing import Sealed

from .conftest import Daemon, Spartacus, names, pledge, release_parts, wait_until


def test_reveal_is_released_by_the_daemon_and_members_read_the_roster(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2)
    daemon = daemons(custodian, "--confirmations", "0")
    daemon.wait_for("campaign_found", campaign=campaign)
    pledge(spartacus, campaign, "Alice", 2)
    wait_until(lambda: daemon.campaign_state(campaign).get("status") == "open", "open", daemon)
    assert daemon.events("release_sent") == []

    pledge(spartacus, campaign, "Bob", 3)
    mined = daemon.wait_for("release_mined", campaign=campaign, count=2)
    assert {e["round"] for e in mined} == {0}
    for name in ("alice", "bob"):
        roster = spartacus.ok("roster", str(campaign), role=name)
        assert names(roster) == ["Alice", "Bob"]
        assert roster["instructions"] == "Meet Monday 9:00 at the canteen"
    saved = daemon.campaign_state(campaign)
    assert [r["tx"] for r in saved["releases"]] == [e["tx"] for e in mined]
    assert saved["pending"] is None
    assert daemon.stop() == 0
    assert daemon.events("watcher_stopped")
    assert spartacus.ok("verify", str(campaign))["ok"] is True


def test_once_releases_what_is_pending_and_exits(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2, public=True)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    first = daemons(custodian, "--once", "--confirmations", "0")
    assert first.process is not None and first.process.wait(timeout=60) == 0
    assert len(first.events("release_mined", campaign=campaign)) == 1
    assert names(spartacus.ok("roster", str(campaign), role="journalist")) == ["Alice", "Bob"]

    second = daemons(custodian, "--once", "--confirmations", "0")
    assert second.process is not None and second.process.wait(timeout=60) == 0
    assert second.events("release_sent") == []
    assert release_parts(spartacus.rpc, spartacus.registry, campaign) == [
        (0, 0, protocol.KIND_PUBLIC)
    ]


def test_late_pledge_is_released_in_a_later_round(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2, late=True)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    daemon = daemons(custodian, "--confirmations", "0")
    daemon.wait_for("release_mined", campaign=campaign, round=0, count=2)

    pledge(spartacus, campaign, "Carol", 4)  # late: released once the creator admits it
    assert spartacus.ok("admit", str(campaign), "--all", role="creator", dev=1)["admitted"] == [3]
    daemon.wait_for("release_mined", campaign=campaign, round=1, count=2)
    for name in ("alice", "carol"):
        assert names(spartacus.ok("roster", str(campaign), role=name)) == [
            "Alice", "Bob", "Carol"
        ]  # fmt: skip
    parts = release_parts(spartacus.rpc, spartacus.registry, campaign)
    kinds = [(r, k) for _, r, k in parts]
    # Round 0: shares then key seals; round 1: Carol's share, its key seals, and round 0's
    # key sealed to Carol alone.
    assert kinds == [
        (0, protocol.KIND_SEALED),
        (0, protocol.KIND_KEYS),
        (1, protocol.KIND_SEALED),
        (1, protocol.KIND_KEYS),
        (0, protocol.KIND_KEYS),
    ]


def test_two_of_three_custodians_with_one_daemon_down_roster_is_readable(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
) -> None:
    campaign, custodians = create_campaign(threshold=2, custodians=3, t=2)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    running = [daemons(c, "--confirmations", "0") for c in (custodians[0], custodians[2])]
    for daemon in running:
        daemon.wait_for("release_mined", campaign=campaign, count=2)
    roster = spartacus.ok("roster", str(campaign), role="bob")
    assert names(roster) == ["Alice", "Bob"]
    assert roster["instructions"] == "Meet Monday 9:00 at the canteen"
    assert {i for i, _, _ in release_parts(spartacus.rpc, spartacus.registry, campaign)} == {0, 2}


def test_pledge_with_copied_boxes_is_reported_and_never_released(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
) -> None:
    campaign, (custodian,) = create_campaign(threshold=3)
    pledge(spartacus, campaign, "Alice", 2)
    registry = Registry(Web3(HTTPProvider(spartacus.rpc)), spartacus.registry)
    alice = registry.history(campaign).pledges[0].record
    # Mallory copies Alice's boxes into a pledge of her own: the binding names Alice's.
    mallory = Account.create()
    copied = Sealed(os.urandom(32), alice.ciphertext, alice.boxes, alice.commitment)
    signature = registry.sign_pledge(mallory, campaign, copied)
    stolen = registry.pledge_with_sig(dev_account(5), campaign, mallory.address, copied, signature)
    pledge(spartacus, campaign, "Bob", 3)

    daemon = daemons(custodian, "--once", "--confirmations", "0")
    assert daemon.process is not None and daemon.process.wait(timeout=60) == 0
    reported = daemon.events("problem", campaign=campaign, pledge=stolen)
    assert len(reported) == 1 and "binding" in reported[0]["reason"]
    status = spartacus.ok(
        "custodian", "status", role=custodian.role, passphrase=custodian.passphrase, dev=None
    )
    (watched,) = status["campaigns"]
    assert watched["status"] == "revealed" and len(watched["releases"]) == 2
    assert list(watched["problems"]) == [str(stolen)]
    text = spartacus(
        "custodian", "status", role=custodian.role, passphrase=custodian.passphrase, dev=None
    ).stdout
    assert f"problem with pledge #{stolen}" in text and "in round(s) 0" in text
    roster = spartacus.ok("roster", str(campaign), role="bob")
    assert names(roster) == ["Alice", "Bob"]


def test_pending_campaign_is_finalized_after_grace_and_then_released(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    daemons: Callable[..., Daemon],
    travel: Callable[[int], None],
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2, grace="1h")
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    daemon = daemons(custodian, "--confirmations", "0")
    wait_until(
        lambda: daemon.campaign_state(campaign).get("status") == "pending", "pending", daemon
    )
    assert daemon.events("finalize_sent") == [] and daemon.events("release_sent") == []

    travel(3601)
    daemon.wait_for("finalize_sent", campaign=campaign)
    daemon.wait_for("release_mined", campaign=campaign, count=2)
    assert spartacus.ok("status", str(campaign))["status"] == "revealed"
    assert names(spartacus.ok("roster", str(campaign), role="alice")) == ["Alice", "Bob"]
    assert len(daemon.events("finalize_sent")) == 1
