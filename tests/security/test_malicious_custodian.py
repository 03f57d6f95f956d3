"""A malicious or buggy custodian publishes wrong shares on-chain, in well-formed releases.

The registry cannot tell (it never sees a key), and neither can `spartacus verify`, which
needs no secret: it checks who released and for which pledges, not what. Members can: a
rebuilt key counts only if it matches the pledge's commitment. So the roster never shows
what a wrong key would decrypt to; with only t shares of which one is wrong it shows the
pledges as missing and says which custodians' shares fail together; once more than t are
out it reads everyone and names the custodian whose shares match nothing.

On anvil, through the CLI, in both roster modes, with one custodian and with two of three.
The wrong release is built exactly as an honest one (same rounds, same key seals), with
the share bytes changed, and sent from the custodian's own account. (The same at the
crypto level, per pledge and per custodian: tests/protocol/test_crypto.py::
test_read_roster_wrong_share_names_custodian and
::test_read_roster_too_few_good_shares_shows_nothing_garbage.)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from web3 import Web3

from spartacus import protocol
from spartacus.chain.records import RosterMode
from spartacus.chain.registry import Registry
from spartacus.custodian.keystore import Keystore
from spartacus.custodian.release_plan import plan_release
from tests.cli.conftest import CustodianRole, Spartacus, pledge

MEMBERS = [("Alice", 2), ("Bob", 3), ("Carol", 4)]
INSTRUCTIONS = "Meet Monday 9:00 at the canteen"


def _wrong(share: bytes, t: int) -> bytes:
    """The share with its value changed (for t > 1 the x-coordinate, the last byte, kept)."""
    if t == 1:
        return bytes(b ^ 0x5A for b in share)
    return bytes(b ^ 0x5A for b in share[:-1]) + share[-1:]


def _release_wrong_shares(
    spartacus: Spartacus, registry: Registry, campaign: int, custodian: CustodianRole, t: int
) -> list[int]:
    """Release, as ``custodian``, a wrong share for every active pledge and the instructions."""
    keystore = Keystore(spartacus.home(custodian.role), custodian.passphrase)
    account = keystore.account()
    plan = plan_release(registry, keystore, campaign, account)
    assert plan.problems == {} and sorted(plan.shares) == [0, 1, 2, 3]
    wrong = {index: _wrong(share, t) for index, share in plan.shares.items()}
    history = registry.history(campaign)
    assert history.instructions is not None
    recipients = None
    if registry.info(campaign).roster_mode == RosterMode.MEMBERS:
        everyone = [history.instructions, *history.active_records()]
        recipients = {r.index: r.member_key for r in everyone}
    parts = protocol.build_release(
        registry.deployment,
        campaign,
        plan.custodian_index,
        plan.round,
        wrong,
        t,
        recipients=recipients,
    )
    for part in parts:
        registry.release(account, campaign, part)
    return sorted(wrong)


def _release(spartacus: Spartacus, campaign: int, custodian: CustodianRole) -> None:
    released = spartacus.ok(
        "custodian", "release", str(campaign),
        role=custodian.role, passphrase=custodian.passphrase, dev=None,
    )  # fmt: skip
    assert released["released"] == [0, 1, 2, 3] and released["problems"] == {}


@pytest.mark.parametrize("public", [False, True], ids=["members", "public"])
def test_one_of_one_custodian_releasing_wrong_shares_shows_nothing_garbage(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    public: bool,
) -> None:
    campaign, (liar,) = create_campaign(threshold=3, public=public, instructions=INSTRUCTIONS)
    for name, dev in MEMBERS:
        pledge(spartacus, campaign, name, dev)
    registry = Registry(w3, spartacus.registry)
    _release_wrong_shares(spartacus, registry, campaign, liar, 1)

    reader = "journalist" if public else "alice"
    roster = spartacus.ok("roster", str(campaign), role=reader)
    assert roster["members"] == [] and roster["instructions"] is None
    assert roster["missing"] == [1, 2, 3]
    assert roster["problems"] == [
        f"{what}: the shares from custodians 0 rebuild no key matching its commitment"
        for what in ("the instructions", "pledge 1", "pledge 2", "pledge 3")
    ]
    # Public checks cannot see it: the release came from the custodian, after the reveal,
    # for active pledges only. Only the commitments (members' side) expose the lie.
    assert spartacus.ok("verify", str(campaign))["ok"] is True


@pytest.mark.parametrize("public", [False, True], ids=["members", "public"])
def test_a_custodian_releasing_wrong_shares_is_named_and_the_others_suffice(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    public: bool,
) -> None:
    campaign, custodians = create_campaign(
        threshold=3, custodians=3, t=2, public=public, instructions=INSTRUCTIONS
    )
    for name, dev in MEMBERS:
        pledge(spartacus, campaign, name, dev)
    registry = Registry(w3, spartacus.registry)
    reader = "journalist" if public else "bob"

    # The liar (custodian 1) and one honest custodian: t shares, one wrong. Nothing is shown
    # and the two are named together (with exactly t, no one can tell which of them lied).
    _release_wrong_shares(spartacus, registry, campaign, custodians[1], 2)
    _release(spartacus, campaign, custodians[0])
    roster = spartacus.ok("roster", str(campaign), role=reader)
    assert roster["members"] == [] and roster["instructions"] is None
    assert roster["missing"] == [1, 2, 3]
    assert roster["problems"] == [
        f"{what}: the shares from custodians 0, 1 rebuild no key matching its commitment"
        for what in ("the instructions", "pledge 1", "pledge 2", "pledge 3")
    ]

    # The third custodian releases: every member is read, and the liar is named.
    _release(spartacus, campaign, custodians[2])
    roster = spartacus.ok("roster", str(campaign), role=reader)
    assert [(m["index"], m["name"], m["contact"]) for m in roster["members"]] == [
        (1, "Alice", "alice@example.org"),
        (2, "Bob", "bob@example.org"),
        (3, "Carol", "carol@example.org"),
    ]
    assert roster["instructions"] == INSTRUCTIONS and roster["missing"] == []
    assert roster["problems"] == [
        "custodian 1 released shares that match no commitment for pledges 0, 1, 2, 3"
    ]
    assert spartacus.ok("verify", str(campaign))["ok"] is True


def test_a_malformed_public_release_is_reported_by_verify_not_a_crash(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
) -> None:
    """A custodian's public release whose header parses but whose entries do not (one pledge
    listed twice) must show in `verify`'s report as a failed check, with the others intact:
    before, the entries were parsed outside the check and `verify` stopped with an error."""
    campaign, (custodian,) = create_campaign(threshold=3, public=True)
    for name, dev in MEMBERS:
        pledge(spartacus, campaign, name, dev)
    registry = Registry(w3, spartacus.registry)
    keystore = Keystore(spartacus.home(custodian.role), custodian.passphrase)
    plan = plan_release(registry, keystore, campaign, keystore.account())
    entry = (1).to_bytes(4, "big") + plan.shares[1]
    header = bytes([1, protocol.KIND_PUBLIC]) + plan.round.to_bytes(4, "big")
    registry.release(keystore.account(), campaign, header + entry + entry)

    report = spartacus("verify", str(campaign), "--json")
    assert report.exit_code == 1
    checks = {c["name"]: c for c in report.data["checks"]}
    assert checks["releases"]["ok"] is False
    assert "malformed release" in checks["releases"]["detail"]
    assert "appears twice" in checks["releases"]["detail"]
    assert checks["running counts"]["ok"] is True
