"""SpartacusGroups on anvil: groups, admins, invitations, and REAL Semaphore proofs.

The proofs are made by Node with the npm prover and the depth-16 proving files
(tools/semaphore.mjs through spartacus.semaphore), as the CLI makes them. anvil rather
than eth-tester: py-evm's pure-Python pairing makes every verification take seconds.
Each test runs in its own anvil snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.exceptions import ContractCustomError, Web3Exception
from web3.logs import DISCARD

from spartacus import semaphore
from spartacus.chain.artifact import load_artifact
from spartacus.chain.groups import CANONICAL_POSEIDON_T3, Groups, InvitationState
from spartacus.cli.context import dev_account
from spartacus.exceptions import ContractRevert
from spartacus.protocol.groups import SNARK_SCALAR_FIELD, Invitation
from tests.anvil import anvil, travel

REGISTRY = "0x00000000000000000000000000000000000000A1"  # any address: the scope's registry
CAMPAIGN = 7
MESSAGE = 0xC0FFEE  # stands for the registry's digest of a pledge


@contextmanager
def reverts(error: str, **inputs: Any) -> Iterator[None]:
    """Expect custom error ``error`` with exactly ``inputs``."""
    with pytest.raises(ContractRevert) as info:
        yield
    assert info.value.name == error, f"expected {error}, got {info.value.name}: {info.value}"
    assert info.value.args_by_name == inputs


def events(groups: Groups, receipt: Any, name: str) -> list[dict[str, Any]]:
    found = getattr(groups.contract.events, name)().process_receipt(receipt, errors=DISCARD)
    return [dict(e["args"]) for e in found]


@dataclass
class World:
    w3: Web3
    groups: Groups
    admin: LocalAccount
    stranger: LocalAccount
    group_id: int  # "Night shift": alice and two others
    alice: semaphore.Identity
    members: list[int]
    scope: int
    proof: semaphore.Proof  # alice's, for (group, scope, MESSAGE), at the current root


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with anvil() as w3:
        admin = dev_account(0)
        groups = Groups.deploy(w3, admin)
        group_id = groups.create_group(admin, "Night shift")
        alice = semaphore.new_identity()
        groups.add_members(admin, group_id, [alice.commitment, 1111, 2222])
        members = groups.members(group_id)
        scope = groups.scope_of(REGISTRY, CAMPAIGN)
        proof = semaphore.prove(alice.backup, members, scope, MESSAGE)
        yield World(w3, groups, admin, dev_account(1), group_id, alice, members, scope, proof)


@pytest.fixture(autouse=True)
def _isolation(world: World) -> Iterator[None]:
    snapshot = world.w3.provider.make_request("evm_snapshot", [])  # type: ignore[arg-type]
    yield
    world.w3.provider.make_request("evm_revert", [snapshot["result"]])  # type: ignore[arg-type]


# ---------------------------------------------------------------- groups and members


def test_create_group_emits_event_and_reads_back(world: World) -> None:
    groups = world.groups
    receipt = groups.transact(groups.contract.functions.createGroup("Day shift"), world.stranger)

    (created,) = events(groups, receipt, "GroupCreated")
    assert created == {"groupId": 2, "admin": world.stranger.address, "name": "Day shift"}
    info = groups.info(2)
    assert (info.name, info.admin, info.size, info.root, info.invitations) == (
        "Day shift", world.stranger.address, 0, 0, 0,
    )  # fmt: skip
    assert groups.group_count() == 2


@pytest.mark.parametrize("name", ["", "x" * 101])
def test_create_group_with_bad_name_reverts(world: World, name: str) -> None:
    with reverts("BadNameLength", length=len(name), maximum=100):
        world.groups.create_group(world.admin, name)


def test_unknown_group_reverts(world: World) -> None:
    with reverts("UnknownGroup", groupId=9):
        world.groups.info(9)
    with reverts("UnknownGroup", groupId=0):
        world.groups.add_members(world.admin, 0, [5])


def test_add_member_emits_event_with_index_and_root(world: World) -> None:
    groups = world.groups
    (receipt,) = groups.add_members(world.admin, world.group_id, [3333])

    (added,) = events(groups, receipt, "MemberAdded")
    info = groups.info(world.group_id)
    assert added == {"groupId": world.group_id, "index": 3, "commitment": 3333, "root": info.root}
    assert info.size == 4 and groups.is_member(world.group_id, 3333)
    assert groups.members(world.group_id) == [*world.members, 3333]


def test_add_member_by_non_admin_reverts(world: World) -> None:
    fn = world.groups.contract.functions.addMember(world.group_id, 3333)
    with reverts(
        "NotGroupAdmin", groupId=world.group_id, caller=world.stranger.address,
        admin=world.admin.address,
    ):  # fmt: skip
        world.groups.transact(fn, world.stranger)


@pytest.mark.parametrize("commitment", [0, SNARK_SCALAR_FIELD])
def test_add_member_bad_commitment_reverts(world: World, commitment: int) -> None:
    fn = world.groups.contract.functions.addMember(world.group_id, commitment)
    with reverts("BadCommitment", commitment=commitment):
        world.groups.transact(fn, world.admin)


def test_add_member_twice_reverts(world: World) -> None:
    with reverts("AlreadyMember", groupId=world.group_id, commitment=1111):
        world.groups.add_members(world.admin, world.group_id, [1111])


def test_add_members_batch_emits_one_event_in_leaf_order(world: World) -> None:
    groups = world.groups
    (receipt,) = groups.add_members(world.admin, world.group_id, [9000, 4000, 5000])

    (added,) = events(groups, receipt, "MembersAdded")
    assert added["startIndex"] == 3 and list(added["commitments"]) == [4000, 5000, 9000]
    assert added["root"] == groups.info(world.group_id).root
    assert groups.members(world.group_id) == [*world.members, 4000, 5000, 9000]


def test_add_members_not_ascending_or_present_reverts(world: World) -> None:
    fn = world.groups.contract.functions.addMembers
    with reverts("AlreadyMember", groupId=world.group_id, commitment=4000):
        world.groups.transact(fn(world.group_id, [4000, 4000]), world.admin)
    with reverts("AlreadyMember", groupId=world.group_id, commitment=2222):
        world.groups.transact(fn(world.group_id, [2000, 2222]), world.admin)
    with reverts("BadCommitment", commitment=SNARK_SCALAR_FIELD):
        world.groups.transact(fn(world.group_id, [5, SNARK_SCALAR_FIELD]), world.admin)
    with reverts("BadBatchSize", size=0, max=100):
        world.groups.transact(fn(world.group_id, []), world.admin)
    with reverts("BadBatchSize", size=101, max=100):
        world.groups.transact(fn(world.group_id, list(range(10, 111))), world.admin)


# ---------------------------------------------------------------- invitations


def test_invitation_redeemed_adds_the_signed_commitment(world: World) -> None:
    groups, gid = world.groups, world.group_id
    (invitation,) = groups.create_invitations(world.admin, gid, 1)
    assert groups.info(gid).invitations == 1
    assert groups.invitation_state(gid, invitation.address) == InvitationState.OUTSTANDING

    # The invitee's client holds only the code; anyone (here the stranger) may pay.
    bob = Invitation.from_code(invitation.code)
    receipt = groups.redeem(world.stranger, bob, 4444)

    assert events(groups, receipt, "InvitationRedeemed") == [
        {"groupId": gid, "invitation": invitation.address, "commitment": 4444}
    ]
    (added,) = events(groups, receipt, "MemberAdded")
    assert (added["index"], added["commitment"]) == (3, 4444)
    info = groups.info(gid)
    assert (info.size, info.invitations, info.redeemed) == (4, 0, 1)
    assert groups.invitation_state(gid, invitation.address) == InvitationState.REDEEMED


def test_create_invitations_emits_events_and_refuses_repeats(world: World) -> None:
    groups, gid = world.groups, world.group_id
    first, second = Invitation.new(gid), Invitation.new(gid)
    fn = groups.contract.functions.createInvitations
    receipt = groups.transact(fn(gid, [first.address, second.address]), world.admin)

    assert events(groups, receipt, "InvitationCreated") == [
        {"groupId": gid, "invitation": first.address},
        {"groupId": gid, "invitation": second.address},
    ]
    with reverts("InvitationExists", groupId=gid, invitation=first.address):
        groups.transact(fn(gid, [first.address]), world.admin)
    zero = "0x0000000000000000000000000000000000000000"
    with reverts("InvitationExists", groupId=gid, invitation=zero):
        groups.transact(fn(gid, [zero]), world.admin)
    with reverts(
        "NotGroupAdmin", groupId=gid, caller=world.stranger.address, admin=world.admin.address
    ):
        groups.create_invitations(world.stranger, gid, 1)


def test_redeem_front_run_for_another_commitment_fails(world: World) -> None:
    """A front-runner copies the pending redemption's signature and submits it with its own
    commitment: the signature recovers to some other address, no invitation."""
    groups, gid = world.groups, world.group_id
    (invitation,) = groups.create_invitations(world.admin, gid, 1)
    signature = invitation.sign(groups.chain_id, groups.address, 4444)  # seen in the mempool

    stolen = groups.contract.functions.redeemInvitation(gid, 6666, signature)
    with pytest.raises(ContractRevert) as info:
        groups.transact(stolen, world.stranger)
    assert info.value.name == "UnknownInvitation"
    assert info.value.args_by_name["signer"] != invitation.address

    groups.transact(groups.contract.functions.redeemInvitation(gid, 4444, signature), world.admin)
    assert groups.is_member(gid, 4444) and not groups.is_member(gid, 6666)


def test_redeem_twice_reverts(world: World) -> None:
    groups, gid = world.groups, world.group_id
    (invitation,) = groups.create_invitations(world.admin, gid, 1)
    groups.redeem(world.stranger, invitation, 4444)

    with reverts("InvitationUsed", groupId=gid, invitation=invitation.address):
        groups.redeem(world.stranger, invitation, 5555)


def test_redeem_signed_for_another_group_or_contract_fails(world: World) -> None:
    groups, gid = world.groups, world.group_id
    other = groups.create_group(world.admin, "Day shift")
    (invitation,) = groups.create_invitations(world.admin, gid, 1)

    # Signed for this group, sent to the other one (where the admin might have invited too).
    signature = invitation.sign(groups.chain_id, groups.address, 4444)
    fn = groups.contract.functions.redeemInvitation(other, 4444, signature)
    with pytest.raises(ContractRevert, match="not one of group 2's"):
        groups.transact(fn, world.stranger)
    # Signed for another groups contract (or chain): recovers to another address.
    elsewhere = invitation.sign(groups.chain_id, REGISTRY, 4444)
    fn = groups.contract.functions.redeemInvitation(gid, 4444, elsewhere)
    with pytest.raises(ContractRevert, match="not one of group 1's"):
        groups.transact(fn, world.stranger)
    assert groups.invitation_state(gid, invitation.address) == InvitationState.OUTSTANDING


def test_revoked_invitation_cannot_be_redeemed(world: World) -> None:
    groups, gid = world.groups, world.group_id
    (invitation,) = groups.create_invitations(world.admin, gid, 1)
    receipt = groups.revoke_invitations(world.admin, gid, [invitation.address])

    assert events(groups, receipt, "InvitationRevoked") == [
        {"groupId": gid, "invitation": invitation.address}
    ]
    assert groups.info(gid).invitations == 0
    with reverts("InvitationUsed", groupId=gid, invitation=invitation.address):
        groups.redeem(world.stranger, invitation, 4444)
    with reverts("InvitationUsed", groupId=gid, invitation=invitation.address):
        groups.revoke_invitations(world.admin, gid, [invitation.address])
    with reverts("UnknownInvitation", groupId=gid, signer=world.stranger.address):
        groups.revoke_invitations(world.admin, gid, [world.stranger.address])


# ---------------------------------------------------------------- membership proofs


def test_scope_is_keccak_of_chain_registry_campaign(world: World) -> None:
    expected = keccak(
        encode(["uint256", "address", "uint256"], [world.groups.chain_id, REGISTRY, CAMPAIGN])
    )
    assert world.scope == int.from_bytes(expected, "big")


def test_valid_proof_verifies(world: World) -> None:
    assert world.proof.nullifier != 0
    assert world.groups.verify_membership(world.group_id, world.scope, MESSAGE, world.proof)


def test_proof_for_another_scope_or_message_fails(world: World) -> None:
    groups, gid, proof = world.groups, world.group_id, world.proof
    other_scope = groups.scope_of(REGISTRY, CAMPAIGN + 1)
    with reverts(
        "ProofMismatch", expectedScope=other_scope, scope=world.scope,
        expectedMessage=MESSAGE, message=MESSAGE,
    ):  # fmt: skip
        groups.verify_membership(gid, other_scope, MESSAGE, proof)
    # The proof's fields rewritten to match: the SNARK binds them, so it fails.
    with reverts("InvalidProof", groupId=gid, nullifier=proof.nullifier):
        groups.verify_membership(gid, other_scope, MESSAGE, replace(proof, scope=other_scope))
    with reverts("InvalidProof", groupId=gid, nullifier=proof.nullifier):
        groups.verify_membership(gid, world.scope, MESSAGE + 1, replace(proof, message=MESSAGE + 1))


def test_proof_for_another_group_fails(world: World) -> None:
    groups = world.groups
    other = groups.create_group(world.admin, "Day shift")
    groups.add_members(world.admin, other, [1111, 2222])  # alice is not in it

    with reverts("StaleRoot", groupId=other, root=world.proof.root, replacedAt=0):
        groups.verify_membership(other, world.scope, MESSAGE, world.proof)


def test_proof_against_replaced_root_verifies_for_an_hour_then_fails(world: World) -> None:
    groups, gid = world.groups, world.group_id
    (receipt,) = groups.add_members(world.admin, gid, [3333])  # the root moves on
    replaced_at = int(world.w3.eth.get_block(receipt["blockNumber"])["timestamp"])
    assert groups.contract.functions.rootReplacedAt(gid, world.proof.root).call() == replaced_at

    travel(world.w3, 3000)
    assert groups.verify_membership(gid, world.scope, MESSAGE, world.proof)
    travel(world.w3, 700)
    with reverts("StaleRoot", groupId=gid, root=world.proof.root, replacedAt=replaced_at):
        groups.verify_membership(gid, world.scope, MESSAGE, world.proof)


def test_tampered_proof_or_depth_fails(world: World) -> None:
    groups, gid, proof = world.groups, world.group_id, world.proof
    with reverts("UnsupportedDepth", depth=20, supported=16):
        groups.verify_membership(gid, world.scope, MESSAGE, replace(proof, depth=20))
    bad_points = (proof.points[0], *proof.points[1:7], (proof.points[7] + 1) % SNARK_SCALAR_FIELD)
    with reverts("InvalidProof", groupId=gid, nullifier=proof.nullifier):
        groups.verify_membership(gid, world.scope, MESSAGE, replace(proof, points=bad_points))
    # Another nullifier (to pledge twice in one campaign) breaks the proof as well.
    with reverts("InvalidProof", groupId=gid, nullifier=proof.nullifier + 1):
        groups.verify_membership(
            gid, world.scope, MESSAGE, replace(proof, nullifier=proof.nullifier + 1)
        )


def test_verify_with_too_little_gas_reverts_rather_than_answering_false(world: World) -> None:
    """The estimateGas trap: with the pairing precompile out of gas, SemaphoreVerifier says
    false; verifyMembership turns that into a revert, so an estimate covers a true answer."""
    groups, proof = world.groups, world.proof
    fn = groups.contract.functions.verifyMembership(
        world.group_id, world.scope, MESSAGE, proof.abi()
    )
    estimate = fn.estimate_gas()
    assert fn.call({"gas": estimate}) is True
    refused = []
    for gas in (80_000, 120_000, estimate - 20_000):
        try:
            answer = fn.call({"gas": gas})
        except ContractCustomError as exc:
            refused.append(groups.decode_revert(str(exc.data)).name)
        except Web3Exception:
            refused.append("out of gas")  # the call itself ran out, before the verifier
        else:
            pytest.fail(f"with {gas} gas verifyMembership answered {answer!r}")
    assert "InvalidProof" in refused  # the verifier's false, made a revert


def _set_size(world: World, group_id: int, size: int) -> None:
    """Write the group's Lean IMT size straight into storage (``_trees`` is slot 4: after
    EIP712's two fallback strings, ``_groupCount`` and ``_groups``), as if it had grown."""
    slot = keccak(encode(["uint256", "uint256"], [group_id, 4]))
    params = [world.groups.address, "0x" + slot.hex(), "0x" + f"{size:064x}"]
    world.w3.provider.make_request("anvil_setStorageAt", params)  # type: ignore[arg-type]
    assert world.groups.info(group_id).size == size


def test_full_group_refuses_members(world: World) -> None:
    groups, gid = world.groups, world.group_id
    _set_size(world, gid, 65_536)
    with reverts("GroupFull", groupId=gid, size=65_536, maximum=65_536):
        groups.add_members(world.admin, gid, [3333])
    (invitation,) = groups.create_invitations(world.admin, gid, 1)
    with reverts("GroupFull", groupId=gid, size=65_536, maximum=65_536):
        groups.redeem(world.stranger, invitation, 3333)
    _set_size(world, gid, 65_500)
    with reverts("GroupFull", groupId=gid, size=65_500, maximum=65_536):
        groups.add_members(world.admin, gid, list(range(10, 47)))


def test_proof_against_an_empty_or_unknown_group_fails(world: World) -> None:
    groups, proof = world.groups, world.proof
    empty = groups.create_group(world.admin, "Day shift")
    with reverts("StaleRoot", groupId=empty, root=0, replacedAt=0):
        groups.verify_membership(empty, world.scope, MESSAGE, replace(proof, root=0))
    with reverts("UnknownGroup", groupId=9):
        groups.verify_membership(9, world.scope, MESSAGE, proof)


def test_deploy_reuses_the_canonical_poseidon_where_it_exists(world: World) -> None:
    runtime = load_artifact("PoseidonT3")["deployedBytecode"]
    world.w3.provider.make_request("anvil_setCode", [CANONICAL_POSEIDON_T3, runtime])  # type: ignore[arg-type]
    nonce = world.w3.eth.get_transaction_count(world.stranger.address)

    groups = Groups.deploy(world.w3, world.stranger)

    # Two contracts (verifier, groups), no library; the groups code calls the canonical one.
    assert world.w3.eth.get_transaction_count(world.stranger.address) == nonce + 2
    code = bytes(world.w3.eth.get_code(groups.address))
    assert bytes.fromhex(CANONICAL_POSEIDON_T3[2:]) in code
    group_id = groups.create_group(world.stranger, "Day shift")
    groups.add_members(world.stranger, group_id, [1, 2, 3])
    assert groups.members(group_id) == [1, 2, 3]
