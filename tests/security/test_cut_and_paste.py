"""Cut-and-paste: Mallory copies a victim's ciphertext, boxes and commitment into a pledge
of her own account, hoping the custodians release the victim's key as hers.

Each box binds its share to (campaign, account, member key, ciphertext), so every
custodian refuses the copy, names it as a problem and releases nothing for it; the victim
is read once, as the victim, and the copy stays unreadable. On anvil, through the CLI, in
both roster modes, with one custodian and with two of three. (The same at the crypto level:
tests/protocol/test_crypto.py::test_read_roster_copied_boxes_never_reveal_victim; by the daemon:
tests/custodian/test_release.py::test_pledge_with_copied_boxes_is_reported_and_never_released.)
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from eth_account import Account
from web3 import Web3

from spartacus import protocol
from spartacus.chain.registry import Registry
from spartacus.cli.context import dev_account
from spartacus.protocol.sealing import Sealed
from tests.cli.conftest import CustodianRole, Spartacus, pledge


@pytest.mark.parametrize(("n", "t"), [(1, 1), (3, 2)], ids=["1-of-1", "2-of-3"])
@pytest.mark.parametrize("public", [False, True], ids=["members", "public"])
def test_copied_boxes_are_refused_by_every_custodian_and_reveal_nothing(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    n: int,
    t: int,
    public: bool,
) -> None:
    campaign, custodians = create_campaign(threshold=3, custodians=n, t=t, public=public)
    victim = int(pledge(spartacus, campaign, "Victim", 2)["index"])
    registry = Registry(w3, spartacus.registry)
    record = registry.history(campaign).pledges[0].record
    mallory = Account.create()
    copied = Sealed(os.urandom(32), record.ciphertext, record.boxes, record.commitment)
    signature = registry.sign_pledge(mallory, campaign, copied)
    stolen = registry.pledge_with_sig(dev_account(5), campaign, mallory.address, copied, signature)
    # The same with Mallory's own member key: the binding still names the victim's account.
    same_key = Sealed(record.member_key, record.ciphertext, record.boxes, record.commitment)
    other = Account.create()
    signature = registry.sign_pledge(other, campaign, same_key)
    stolen_too = registry.pledge_with_sig(
        dev_account(5), campaign, other.address, same_key, signature
    )
    assert spartacus.ok("status", str(campaign))["status"] == "revealed"

    for custodian in custodians[:t]:
        released = spartacus.ok(
            "custodian", "release", str(campaign),
            role=custodian.role, passphrase=custodian.passphrase, dev=None,
        )  # fmt: skip
        assert released["released"] == [0, victim]  # 0: the instructions
        assert sorted(released["problems"]) == sorted([str(stolen), str(stolen_too)])
        assert all("binding" in why for why in released["problems"].values())

    history = registry.history(campaign)
    seen: set[int] = set()
    for release in history.releases:
        part = protocol.parse_release(release.data)
        if part.kind == protocol.KIND_PUBLIC:
            seen |= set(protocol.release_entries(part.body, t))
    assert seen == ({0, victim} if public else set())

    reader = "journalist" if public else "victim"
    roster = spartacus.ok("roster", str(campaign), role=reader)
    assert [(m["index"], m["name"]) for m in roster["members"]] == [(victim, "Victim")]
    assert sorted(roster["missing"]) == sorted([stolen, stolen_too])
    assert spartacus.ok("verify", str(campaign))["ok"] is True
