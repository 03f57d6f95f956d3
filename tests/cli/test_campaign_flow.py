"""Whole campaigns through the CLI against anvil: reveal, withdrawal, expiry, grace, t-of-n."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spartacus import protocol
from spartacus.chain.registry import Registry

from .conftest import Spartacus


def _pledge(spartacus: Spartacus, campaign: int, name: str, dev: int) -> dict[str, object]:
    return spartacus.ok(
        "pledge",
        str(campaign),
        "--name",
        name,
        "--contact",
        f"{name.lower()}@example.org",
        "--message",
        f"{name} is in",
        role=name.lower(),
        dev=dev,
    )


def _release(spartacus: Spartacus, custodian: object, campaign: int = 1) -> dict[str, object]:
    return spartacus.ok(
        "custodian",
        "release",
        str(campaign),
        role=custodian.role,  # type: ignore[attr-defined]
        passphrase=custodian.passphrase,  # type: ignore[attr-defined]
        dev=None,
    )


def _released_indices(
    spartacus: Spartacus, w3: object, campaign: int, readers: dict[int, protocol.PledgeKeys]
) -> set[int]:
    """Every pledge index whose share appears in any release, as far as ``readers`` can see."""
    registry = Registry(w3, spartacus.registry)  # type: ignore[arg-type]
    history = registry.history(campaign)
    t = registry.info(campaign).custodian_threshold
    seen: set[int] = set()
    for release in history.releases:
        part = protocol.parse_release(release.data)
        if part.kind == protocol.KIND_PUBLIC:
            seen |= set(protocol.release_entries(part.body, t))
    for release in history.releases:
        part = protocol.parse_release(release.data)
        if part.kind != protocol.KIND_KEYS:
            continue
        for index, keys in readers.items():
            key = protocol.open_key_seal(part, index, keys.member_secret)
            if key is None:
                continue
            for other in history.releases:
                sealed = protocol.parse_release(other.data)
                if (
                    sealed.kind == protocol.KIND_SEALED
                    and sealed.round == part.round
                    and other.custodian_index == release.custodian_index
                ):
                    seen |= set(
                        protocol.open_sealed_shares(
                            sealed,
                            key,
                            registry.deployment,
                            campaign,
                            release.custodian_index,
                            t,
                        )
                    )
    return seen


def test_threshold_reveal_lets_every_member_read_the_roster(
    spartacus: Spartacus, create_campaign: Callable[..., tuple[int, list]]
) -> None:
    campaign, (custodian,) = create_campaign(threshold=3)
    status = spartacus.ok("status", str(campaign))
    assert (status["status"], status["active"], status["threshold"]) == ("open", 0, 3)

    receipts = {}
    for dev, name in ((2, "Alice"), (3, "Bob")):
        receipts[name] = _pledge(spartacus, campaign, name, dev)["receipt"]
    assert spartacus.ok("status", str(campaign))["status"] == "open"
    early = spartacus("roster", str(campaign), role="alice")
    assert early.exit_code == 1 and "nothing is readable before the reveal" in early.stderr

    receipts["Carol"] = _pledge(spartacus, campaign, "Carol", 4)["receipt"]
    status = spartacus.ok("status", str(campaign))
    assert (status["status"], status["active"]) == ("revealed", 3)

    # Before the custodian releases, members can read nothing yet.
    waiting = spartacus.ok("roster", str(campaign), role="alice")
    assert waiting["members"] == [] and len(waiting["missing"]) == 3

    released = _release(spartacus, custodian)
    assert released["released"] == [0, 1, 2, 3]
    again = _release(spartacus, custodian)
    assert again["released"] == []

    expected = [
        {"index": i, "name": n, "contact": f"{n.lower()}@example.org", "message": f"{n} is in"}
        for i, n in enumerate(("Alice", "Bob", "Carol"), start=1)
    ]
    for name in ("alice", "bob", "carol"):
        roster = spartacus.ok("roster", str(campaign), role=name)
        assert roster["members"] == expected
        assert roster["instructions"] == "Meet Monday 9:00 at the canteen"
        assert roster["problems"] == []
    organiser = spartacus.ok("roster", str(campaign), role="creator")
    assert organiser["members"] == expected

    # A receipt code alone restores access from another "device" (an empty home).
    restored = spartacus.ok(
        "roster", str(campaign), "--receipt", receipts["Bob"], role="bobs-phone"
    )
    assert restored["members"] == expected
    # Someone with no receipt cannot read a members-only roster.
    outsider = spartacus("roster", str(campaign), role="outsider")
    assert outsider.exit_code == 1 and "members only" in outsider.stderr

    assert spartacus.ok("verify", str(campaign))["ok"] is True


def _withdrawn_key_never_released(
    spartacus: Spartacus, w3: object, create_campaign: Callable[..., tuple[int, list]], public: bool
) -> None:
    campaign, (custodian,) = create_campaign(threshold=3, public=public)
    alice = _pledge(spartacus, campaign, "Alice", 2)
    bob = _pledge(spartacus, campaign, "Bob", 3)
    withdrawn = spartacus.ok("withdraw", str(campaign), role="bob", dev=3)
    assert withdrawn["index"] == bob["index"] and withdrawn["active"] == 1
    carol = _pledge(spartacus, campaign, "Carol", 4)
    assert spartacus.ok("status", str(campaign))["status"] == "open"
    dave = _pledge(spartacus, campaign, "Dave", 5)
    assert spartacus.ok("status", str(campaign))["status"] == "revealed"
    _release(spartacus, custodian)

    roster = spartacus.ok("roster", str(campaign), role="alice")
    assert [m["name"] for m in roster["members"]] == ["Alice", "Carol", "Dave"]
    # Bob's receipt was deleted from his home when he withdrew.
    assert not (spartacus.home("bob") / "receipts").exists()
    if not public:
        late = spartacus("roster", str(campaign), "--receipt", bob["receipt"], role="bob")
        assert late.exit_code == 1 and "not active (withdrawn)" in late.stderr

    readers = {
        int(p["index"]): protocol.derive_keys(protocol.decode_receipt(str(p["receipt"]))[1])
        for p in (alice, bob, carol, dave)
    }
    released = _released_indices(spartacus, w3, campaign, readers)
    assert released == {0, alice["index"], carol["index"], dave["index"]}
    assert bob["index"] not in released
    assert spartacus.ok("verify", str(campaign))["ok"] is True


def test_withdrawn_pledge_is_never_released_members_roster(
    spartacus: Spartacus, w3: object, create_campaign: Callable[..., tuple[int, list]]
) -> None:
    _withdrawn_key_never_released(spartacus, w3, create_campaign, public=False)


def test_withdrawn_pledge_is_never_released_public_roster(
    spartacus: Spartacus, w3: object, create_campaign: Callable[..., tuple[int, list]]
) -> None:
    _withdrawn_key_never_released(spartacus, w3, create_campaign, public=True)


def test_public_roster_is_readable_without_a_receipt(
    spartacus: Spartacus, create_campaign: Callable[..., tuple[int, list]]
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2, public=True)
    _pledge(spartacus, campaign, "Alice", 2)
    _pledge(spartacus, campaign, "Bob", 3)
    _release(spartacus, custodian)
    roster = spartacus.ok("roster", str(campaign), role="journalist")
    assert [m["name"] for m in roster["members"]] == ["Alice", "Bob"]
    assert roster["instructions"] == "Meet Monday 9:00 at the canteen"


def test_deadline_passing_expires_the_campaign_and_nothing_is_released(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list]],
    travel: Callable[[int], None],
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2, deadline="1h")
    _pledge(spartacus, campaign, "Alice", 2)
    travel(2 * 3600)
    assert spartacus.ok("status", str(campaign))["status"] == "expired"

    late = spartacus(
        "pledge", str(campaign), "--name", "Bob", "--contact", "b@x", role="bob", dev=3
    )
    assert late.exit_code == 1 and f"campaign {campaign} closed on" in late.stderr
    assert spartacus.ok("expire", str(campaign))["status"] == "expired"
    refused = spartacus(
        "custodian",
        "release",
        str(campaign),
        role=custodian.role,
        passphrase=custodian.passphrase,
        dev=None,
    )
    assert refused.exit_code == 1 and "release only after the reveal" in refused.stderr
    roster = spartacus("roster", str(campaign), role="alice")
    assert roster.exit_code == 1 and "expired" in roster.stderr
    assert spartacus.ok("verify", str(campaign))["ok"] is True


def test_grace_period_reveals_after_it_ends(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list]],
    travel: Callable[[int], None],
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2, grace="1h")
    _pledge(spartacus, campaign, "Alice", 2)
    _pledge(spartacus, campaign, "Bob", 3)
    status = spartacus.ok("status", str(campaign))
    assert status["status"] == "pending" and status["graceEnd"] > 0
    early = spartacus("finalize", str(campaign))
    assert early.exit_code == 1 and "grace period ends at" in early.stderr
    refused = spartacus(
        "custodian",
        "release",
        str(campaign),
        role=custodian.role,
        passphrase=custodian.passphrase,
        dev=None,
    )
    assert refused.exit_code == 1 and "pending" in refused.stderr

    travel(3601)
    assert spartacus.ok("finalize", str(campaign))["status"] == "revealed"
    _release(spartacus, custodian)
    roster = spartacus.ok("roster", str(campaign), role="bob")
    assert [m["name"] for m in roster["members"]] == ["Alice", "Bob"]
    assert spartacus.ok("verify", str(campaign))["ok"] is True


def test_grace_period_falls_back_to_open_after_a_withdrawal(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list]],
    travel: Callable[[int], None],
) -> None:
    campaign, _ = create_campaign(threshold=2, grace="1h")
    _pledge(spartacus, campaign, "Alice", 2)
    _pledge(spartacus, campaign, "Bob", 3)
    assert spartacus.ok("status", str(campaign))["status"] == "pending"
    spartacus.ok("withdraw", str(campaign), role="bob", dev=3)
    travel(3601)
    assert spartacus.ok("finalize", str(campaign))["status"] == "open"
    status = spartacus.ok("status", str(campaign))
    assert (status["status"], status["active"]) == ("open", 1)
    assert spartacus.ok("verify", str(campaign))["ok"] is True


def test_two_of_three_custodians_suffice_and_one_does_not(
    spartacus: Spartacus, create_campaign: Callable[..., tuple[int, list]]
) -> None:
    campaign, custodians = create_campaign(threshold=2, custodians=3, t=2)
    status = spartacus.ok("status", str(campaign))
    assert status["custodianThreshold"] == 2 and len(status["custodians"]) == 3
    _pledge(spartacus, campaign, "Alice", 2)
    _pledge(spartacus, campaign, "Bob", 3)

    _release(spartacus, custodians[0])
    partial = spartacus.ok("roster", str(campaign), role="alice")
    assert partial["members"] == [] and partial["missing"] == [1, 2]
    assert partial["instructions"] is None

    _release(spartacus, custodians[2])
    roster = spartacus.ok("roster", str(campaign), role="alice")
    assert [m["name"] for m in roster["members"]] == ["Alice", "Bob"]
    assert roster["instructions"] == "Meet Monday 9:00 at the canteen"
    assert spartacus.ok("verify", str(campaign))["ok"] is True


def test_late_pledge_after_reveal_is_released_in_a_later_round_once_admitted(
    spartacus: Spartacus, create_campaign: Callable[..., tuple[int, list]]
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2, late=True)
    _pledge(spartacus, campaign, "Alice", 2)
    _pledge(spartacus, campaign, "Bob", 3)
    assert _release(spartacus, custodian)["round"] == 0
    _pledge(spartacus, campaign, "Carol", 4)
    _pledge(spartacus, campaign, "Dave", 5)
    assert spartacus.ok("admit", str(campaign), role="creator", dev=1)["waiting"] == [3, 4]
    refused = spartacus("admit", str(campaign), "3", role="alice", dev=2)
    assert refused.exit_code == 1 and "only" in refused.stderr and "admits" in refused.stderr
    assert _release(spartacus, custodian)["released"] == []  # nobody admitted yet
    assert spartacus.ok("admit", str(campaign), "3", role="creator", dev=1)["admitted"] == [3]
    second = _release(spartacus, custodian)
    assert (second["round"], second["released"]) == (1, [3])
    for name in ("alice", "carol"):
        roster = spartacus.ok("roster", str(campaign), role=name)
        assert [m["name"] for m in roster["members"]] == ["Alice", "Bob", "Carol"]
    assert spartacus.ok("verify", str(campaign))["ok"] is True


def test_pledge_after_reveal_is_refused_without_late_joining(
    spartacus: Spartacus, create_campaign: Callable[..., tuple[int, list]]
) -> None:
    campaign, _ = create_campaign(threshold=2)
    _pledge(spartacus, campaign, "Alice", 2)
    _pledge(spartacus, campaign, "Bob", 3)
    late = spartacus("pledge", str(campaign), "--name", "Carol", "--contact", "c@x.org",
                     role="carol", dev=4)  # fmt: skip
    assert late.exit_code == 1 and "joining closed at the reveal" in late.stderr


def test_create_defaults_are_the_safe_ones_and_unsafe_terms_are_named(
    spartacus: Spartacus, make_custodians: Callable[[int], list[Any]]
) -> None:
    """No --grace and no --custodian-threshold: 72 hours of grace, and two of the custodians
    must release. Asking for t = 1 or no grace is allowed, with a warning that says why."""
    custodians = make_custodians(2)

    def endorsements(roles: list[Any]) -> list[str]:  # each endorsement serves one campaign
        files = []
        for c in roles:
            path = spartacus.home(c.role) / f"e{len(list(spartacus.home(c.role).iterdir()))}.json"
            spartacus.ok(
                "custodian", "endorse", "--out", str(path),
                role=c.role, passphrase=c.passphrase, dev=None,
            )  # fmt: skip
            files += ["--endorsement", str(path)]
        return files

    base = ["create", "--title", "T", "--instructions", "I", "--threshold", "3",
            "--deadline", "7d", "--json"]  # fmt: skip
    safe = spartacus(*base, *endorsements(custodians), role="creator", dev=1)
    assert safe.exit_code == 0 and "warning" not in safe.stderr
    status = spartacus.ok("status", str(safe.data["campaign"]))
    assert (status["gracePeriod"], status["custodianThreshold"]) == (72 * 3600, 2)

    one = endorsements(custodians[:1])
    unsafe = spartacus(*base, *one, "--grace", "0", role="creator", dev=1)
    assert unsafe.exit_code == 0
    assert "warning: one custodian alone holds the key to every pledge" in unsafe.stderr
    assert "warning: no grace period: the moment the threshold is reached" in unsafe.stderr


def test_status_follow_prints_each_change_until_the_reveal(
    spartacus: Spartacus, create_campaign: Callable[..., tuple[int, list[Any]]]
) -> None:
    """`status --follow`: alerts in a terminal, no account anywhere. It ends by itself once
    the campaign is decided; one JSON line per change with --json."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    campaign, _ = create_campaign(threshold=2, grace="0")
    command = [
        str(Path(sys.executable).parent / "spartacus"),
        "--rpc", spartacus.rpc, "--registry", spartacus.registry,
        "--home", str(spartacus.home("follower")),
        "status", str(campaign), "--follow", "--interval", "0.1", "--json",
    ]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        assert p.stdout is not None
        started = p.stdout.readline()  # the full status first; then the pledges come
        _pledge(spartacus, campaign, "Alice", 2)
        _pledge(spartacus, campaign, "Bob", 3)
        out, err = p.communicate(timeout=60)  # it ends by itself at the reveal
    assert p.returncode == 0, err

    first, *changes = [json.loads(line) for line in (started + out).splitlines()]
    assert first["warnings"] and first["status"] == "open"  # t = 1, no grace: both named
    assert changes[-1]["status"] == "revealed" and changes[-1]["active"] == 2
    assert [c["active"] for c in changes] == sorted(c["active"] for c in changes)
    for change in changes:
        assert set(change) == {"campaign", "status", "active", "threshold", "graceEnd", "time"}


def test_threshold_a_minute_before_the_deadline_keeps_the_full_grace_as_promised(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[Any]]],
    travel: Callable[[int], None],
    w3: Any,
) -> None:
    """#12: `status` promises the grace period's end even past the deadline, and keeps it."""
    from .conftest import pledge

    campaign, _ = create_campaign(threshold=2, deadline="1d", grace="3d")
    pledge(spartacus, campaign, "Alice", 2)
    first = spartacus.ok("status", str(campaign))
    travel(first["deadline"] - int(w3.eth.get_block("latest")["timestamp"]) - 300)
    pledge(spartacus, campaign, "Bob", 3)
    pending = spartacus.ok("status", str(campaign))
    assert pending["status"] == "pending"
    assert pending["graceEnd"] > pending["deadline"] + 2 * 86_400  # not cut at the deadline

    travel(2 * 3_600)  # past the deadline, inside the grace period
    still = spartacus.ok("status", str(campaign))
    assert (still["status"], still["graceEnd"]) == ("pending", pending["graceEnd"])
    late = spartacus("pledge", str(campaign), "--name", "Carol", "--contact", "c@x.org",
                     role="carol", dev=4)  # fmt: skip
    assert late.exit_code == 1 and "no more pledges" in late.stderr
