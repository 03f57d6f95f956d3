"""Gated campaigns on anvil with REAL Semaphore proofs (made by Node, as the CLI makes them).

A gated campaign (``Terms.group``) takes pledges only through ``pledgeGatedWithSig`` and its
batch, each with a membership proof of the campaign's group whose scope is the campaign's
and whose message binds the signed pledge (bytes, account, nonce, validUntil): see
docs/protocol.md, "Gated pledges". anvil rather than eth-tester: py-evm's pairing is slow.
Proofs take seconds each, so the tests share a few, made once per module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from spartacus import semaphore
from spartacus.chain.groups import Groups
from spartacus.chain.registry import Registry, SignedMessage
from spartacus.cli.context import dev_account
from spartacus.exceptions import ContractRevert
from spartacus.protocol import Sealed
from tests.anvil import anvil

DAY = 86_400


@contextmanager
def reverts(error: str, **inputs: Any) -> Iterator[None]:
    """Expect custom error ``error`` with exactly ``inputs`` (a subset when ``inputs`` names
    fewer fields)."""
    with pytest.raises(ContractRevert) as info:
        yield
    assert info.value.name == error, f"expected {error}, got {info.value.name}: {info.value}"
    for key, value in inputs.items():
        assert info.value.args_by_name[key] == value, (key, info.value.args_by_name)


def sealed() -> Sealed:
    """A pledge of the exact sizes (one custodian, t = 1): the registry checks only sizes."""
    return Sealed(os.urandom(32), os.urandom(296), os.urandom(112), os.urandom(32))


def events(registry: Registry, receipt: Any, name: str) -> list[dict[str, Any]]:
    found = getattr(registry.contract.events, name)().process_receipt(receipt, errors=DISCARD)
    return [dict(e["args"]) for e in found]


@dataclass
class Pledge:
    """A signed gated pledge and its proof, ready to send."""

    campaign: int
    account: LocalAccount
    sealed: Sealed
    signed: SignedMessage
    proof: semaphore.Proof


@dataclass
class World:
    w3: Web3
    registry: Registry
    groups: Groups
    relayer: LocalAccount
    creator: LocalAccount
    custodian: LocalAccount
    night: int  # group: alice, bob, dave
    other: int  # group: carol
    ids: dict[str, semaphore.Identity]

    def create(self, group: int, threshold: int = 3, late: bool = False) -> int:
        now = self.registry.latest_timestamp()
        key = os.urandom(32)
        signature = self.registry.sign_endorsement(self.custodian, key, now + DAY)
        terms = ("Fix the heating", "", "", threshold, now + 7 * DAY, 0, 1, 0, late, group)
        instructions = Sealed(os.urandom(32), os.urandom(40 + 256), os.urandom(112), bytes(32))
        endorsement = (self.custodian.address, key, now + DAY, signature)
        return self.registry.create_campaign(self.creator, terms, instructions, [endorsement])

    def prepare(
        self, campaign: int, who: str, account: LocalAccount | None = None, group: int = 0
    ) -> Pledge:
        """``who`` proves membership of ``group`` (default: the campaign's) for a fresh pledge
        of ``account`` (default: a fresh pledge account)."""
        account = account or Account.create()
        pledge = sealed()
        nonce = self.registry.nonce_of(campaign, account.address)
        signed = self.registry.sign_pledge(account, campaign, pledge, nonce=nonce)
        message = self.registry.membership_message(campaign, account.address, pledge, signed, nonce)
        group = group or self.registry.info(campaign).group
        members = self.groups.members(group)
        proof = semaphore.prove(
            self.ids[who].backup, members, self.registry.membership_scope(campaign), message
        )
        return Pledge(campaign, account, pledge, signed, proof)

    def send(self, p: Pledge, **override: Any) -> int:
        values = {**p.__dict__, **override}
        return self.registry.pledge_gated_with_sig(
            self.relayer, values["campaign"], values["account"].address, values["sealed"],
            values["signed"], values["proof"],
        )  # fmt: skip


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with anvil() as w3:
        relayer = dev_account(0)
        groups = Groups.deploy(w3, relayer)
        registry = Registry.deploy(w3, relayer, groups=groups.address)
        admin = dev_account(3)
        ids = {name: semaphore.new_identity() for name in ("alice", "bob", "dave", "carol")}
        night = groups.create_group(admin, "Night shift")
        groups.add_members(admin, night, [ids[n].commitment for n in ("alice", "bob", "dave")])
        other = groups.create_group(admin, "Day shift")
        groups.add_members(admin, other, [ids["carol"].commitment])
        yield World(
            w3, registry, groups, relayer, dev_account(1), dev_account(2), night, other, ids
        )


@pytest.fixture(autouse=True)
def _isolation(world: World) -> Iterator[None]:
    snapshot = world.w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield
    world.w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def gated(world: World) -> Iterator[tuple[int, int, Pledge, Pledge]]:
    """Two campaigns gated to the night shift, and alice's two prepared pledges to the first
    (from accounts a1 and a2): made once, before any test's snapshot."""
    first, second = world.create(world.night), world.create(world.night)
    a1 = world.prepare(first, "alice")
    a2 = world.prepare(first, "alice")
    yield first, second, a1, a2


# ---------------------------------------------------------------- creation and gating


def test_create_gated_campaign_records_its_group(world: World, gated: Any) -> None:
    first, *_ = gated
    info = world.registry.info(first)
    assert info.group == world.night
    assert world.registry.history(first).terms.group == world.night  # type: ignore[union-attr]
    assert world.registry.groups_address == world.groups.address
    # The scope rule written once in Python (protocol) and once in Solidity (MembershipScope).
    scope = world.groups.scope_of(world.registry.address, first)
    assert world.registry.membership_scope(first) == scope


def test_create_with_unknown_group_reverts(world: World) -> None:
    with reverts("UnknownGroup", groupId=9):
        world.create(9)


def test_plain_pledge_to_gated_campaign_reverts(world: World, gated: Any) -> None:
    first, _, a1, _ = gated
    with reverts("MembershipRequired", campaignId=first, groupId=world.night):
        world.registry.pledge_with_sig(
            world.relayer, first, a1.account.address, a1.sealed, a1.signed
        )


def test_gated_pledge_to_open_campaign_reverts(world: World, gated: Any) -> None:
    _, _, a1, _ = gated
    open_campaign = world.create(0)
    pledge = sealed()
    signed = world.registry.sign_pledge(a1.account, open_campaign, pledge)
    with reverts("NotGated", campaignId=open_campaign, groupId=0):
        world.send(a1, campaign=open_campaign, sealed=pledge, signed=signed)


# ---------------------------------------------------------------- the proof


def test_gated_pledge_with_valid_proof_counts(world: World, gated: Any) -> None:
    first, _, a1, _ = gated
    index = world.send(a1)

    assert index == 1 and world.registry.info(first).active == 1
    receipt = world.w3.eth.get_transaction_receipt(
        world.registry.contract.events.MemberPledged().get_logs(from_block=0)[0]["transactionHash"]
    )
    (pledged,) = events(world.registry, receipt, "Pledged")
    assert (pledged["account"], pledged["index"], pledged["active"]) == (a1.account.address, 1, 1)
    # Right after its Pledged, in the same block: previousBlock is that block (issue #15).
    assert events(world.registry, receipt, "MemberPledged") == [
        {
            "campaignId": first,
            "index": 1,
            "nullifier": a1.proof.nullifier,
            "previousBlock": receipt["blockNumber"],
        }
    ]
    assert world.registry.nullifier_holder(first, a1.proof.nullifier) == 1


def test_proof_of_another_group_reverts(world: World, gated: Any) -> None:
    """carol is no member of the night shift: her proof for her own group has a root the
    night shift never had."""
    first, *_ = gated
    carol = world.prepare(first, "carol", group=world.other)
    with reverts("StaleRoot", groupId=world.night, root=carol.proof.root, replacedAt=0):
        world.send(carol)
    assert world.registry.info(first).active == 0


def test_proof_for_another_campaign_reverts(world: World, gated: Any) -> None:
    """alice's proof for the first campaign, with the same pledge signed for the second."""
    _, second, a1, _ = gated
    signed = world.registry.sign_pledge(a1.account, second, a1.sealed)
    with reverts("ProofMismatch", scope=a1.proof.scope, message=a1.proof.message):
        world.send(a1, campaign=second, signed=signed)


def test_relayer_cannot_move_a_proof_onto_other_bytes_or_account(world: World, gated: Any) -> None:
    """A relayer holding alice's proof pairs it with a pledge of its own, validly signed: other
    bytes from alice's account, or alice's bytes from another account. Both refused."""
    first, _, a1, _ = gated
    other_bytes = sealed()
    signed = world.registry.sign_pledge(a1.account, first, other_bytes)
    with reverts("ProofMismatch", message=a1.proof.message):
        world.send(a1, sealed=other_bytes, signed=signed)

    thief = Account.create()
    signed = world.registry.sign_pledge(thief, first, a1.sealed)
    with reverts("ProofMismatch", message=a1.proof.message):
        world.send(a1, account=thief, signed=signed)
    assert world.registry.info(first).active == 0


# ---------------------------------------------------------------- one active pledge per member


def test_same_member_cannot_hold_two_active_pledges(world: World, gated: Any) -> None:
    first, _, a1, a2 = gated
    world.send(a1)
    assert a2.proof.nullifier == a1.proof.nullifier  # one nullifier per member and campaign
    with reverts("NullifierInUse", campaignId=first, nullifier=a1.proof.nullifier, index=1):
        world.send(a2)
    assert world.registry.info(first).active == 1


def test_member_pledges_again_after_withdrawal_but_old_proof_is_dead(
    world: World, gated: Any
) -> None:
    first, _, a1, a2 = gated
    world.send(a1)
    withdrawal = world.registry.sign_withdraw(a1.account, first)
    world.registry.withdraw_with_sig(world.relayer, first, a1.account.address, withdrawal)
    assert world.registry.nullifier_holder(first, a1.proof.nullifier) == 0

    # The old proof, even with a fresh signature of the same bytes at the new nonce.
    signed = world.registry.sign_pledge(a1.account, first, a1.sealed)
    with reverts("ProofMismatch", message=a1.proof.message):
        world.send(a1, signed=signed)

    # The member's pledge from another account (proved for it) is taken: the slot was freed.
    assert world.send(a2) == 2
    assert world.registry.info(first).active == 1
    assert world.registry.nullifier_holder(first, a1.proof.nullifier) == 2


# ---------------------------------------------------------------- batches and late joining


def test_gated_batch_refuses_a_bad_item_and_late_member_is_admitted_at_once(
    world: World,
) -> None:
    campaign = world.create(world.night, threshold=2, late=True)
    alice, bob = world.prepare(campaign, "alice"), world.prepare(campaign, "bob")
    carol = world.prepare(campaign, "carol", group=world.other)
    items = [(p.campaign, p.account.address, p.sealed, p.signed) for p in (alice, carol, bob)]

    outcomes = world.registry.pledge_with_sig_batch(
        world.relayer, items, proofs=[alice.proof, carol.proof, bob.proof]
    )

    assert [(o.index, o.refused) for o in outcomes] == [(1, None), (None, "StaleRoot"), (2, None)]
    info = world.registry.info(campaign)
    assert (info.status.label, info.active, info.reveal_pledges) == ("revealed", 2, 2)

    dave = world.prepare(campaign, "dave")
    assert world.send(dave) == 3
    info = world.registry.info(campaign)
    assert info.active == 3 and world.registry.admitted(campaign, 3)
    admitted = world.registry.contract.events.Admitted().get_logs(from_block=0)
    # Admitted at once, after its Pledged in the same block (issue #15: previousBlock).
    assert [dict(e["args"]) for e in admitted] == [
        {
            "campaignId": campaign,
            "index": 3,
            "active": 3,
            "previousBlock": admitted[0]["blockNumber"],
        }
    ]


def test_gated_batch_needs_one_proof_per_item(world: World, gated: Any) -> None:
    first, _, a1, a2 = gated
    items = [(p.campaign, p.account.address, p.sealed, p.signed) for p in (a1, a2)]
    with pytest.raises(ValueError):  # the client pairs items and proofs itself
        world.registry.pledge_with_sig_batch(world.relayer, items, proofs=[a1.proof])
    # A caller that builds the arrays itself meets the registry's own check.
    structs = [
        (p.campaign, p.account.address, p.sealed.as_abi(), p.signed.valid_until, p.signed.signature)
        for p in (a1, a2)
    ]
    call = world.registry.contract.functions.pledgeGatedWithSigBatch(structs, [a1.proof.abi()])
    with reverts("BadBatchSize", size=1, max=2):
        world.registry._send(call, world.relayer)
