"""The membership groups client: SpartacusGroups through web3.py (docs/protocol.md,
"Membership groups").

Deploying takes three contracts: the PoseidonT3 library (reused where the canonical
deployment of poseidon-solidity already exists on the chain, deployed from the shipped
artifact otherwise), Semaphore's verifier, and SpartacusGroups linked to that PoseidonT3.
Writes go through ``spartacus.chain.sender``; a custom error becomes a ``ContractRevert``
that says in words what was wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

from ..exceptions import ChainError, ContractRevert, UsageError
from ..protocol.groups import Invitation, check_commitment, invitation_typed_data
from ..semaphore import Proof
from .artifact import abi_signature, load_artifact
from .fees import FeeCaps
from .reverts import decode_revert
from .sender import Sender

# poseidon-solidity's deterministic (CREATE2) deployment of PoseidonT3, the same on every
# chain where someone deployed it; reused when it has code.
CANONICAL_POSEIDON_T3 = "0x3333333C0A88F9BE4fd23ed0536F9B6c427e3B93"
POSEIDON_T3 = "poseidon-solidity/PoseidonT3.sol:PoseidonT3"
MAX_BATCH = 100  # SpartacusGroups.MAX_BATCH


class InvitationState:
    NONE, OUTSTANDING, REDEEMED, REVOKED = range(4)
    LABELS = ("unknown", "outstanding", "redeemed", "revoked")


@dataclass(frozen=True)
class GroupInfo:
    group_id: int
    name: str
    admin: str
    size: int
    root: int
    invitations: int  # outstanding
    redeemed: int


def link(artifact: dict[str, Any], libraries: dict[str, str]) -> str:
    """The artifact's creation bytecode with each library's address written in its place.

    ``libraries`` maps ``"<source>:<name>"`` to an address; every library the artifact
    links must be given."""
    code = artifact["bytecode"].removeprefix("0x")
    for source, names in artifact.get("linkReferences", {}).items():
        for name, places in names.items():
            address = libraries.get(f"{source}:{name}")
            if address is None:
                raise UsageError(f"{artifact['contractName']} needs library {source}:{name}")
            raw = to_checksum_address(address)[2:].lower()
            for place in places:
                start = 2 * place["start"]
                code = code[:start] + raw + code[start + 2 * place["length"] :]
    return "0x" + code


def _deploy(sender: Sender, abi: list[Any], bytecode: str, *args: Any) -> tuple[str, int]:
    container = sender.w3.eth.contract(abi=abi, bytecode=bytecode)
    receipt = sender.transact(container.constructor(*args))
    if not receipt.get("contractAddress"):
        raise ChainError("the deployment transaction created no contract")
    return str(receipt["contractAddress"]), int(receipt["blockNumber"])


class Groups:
    """A deployed SpartacusGroups on the chain behind ``w3``."""

    def __init__(self, w3: Web3, address: str, *, from_block: int = 0) -> None:
        artifact = load_artifact("SpartacusGroups")
        self.w3 = w3
        self.address = to_checksum_address(address)
        self.from_block = from_block
        self.contract = w3.eth.contract(address=self.address, abi=artifact["abi"])
        self.constants: dict[str, int] = artifact["constants"]
        self._errors = {
            keccak(text=abi_signature(item))[:4]: item
            for item in artifact["abi"]
            if item["type"] == "error"
        }

    @classmethod
    def deploy(cls, w3: Web3, account: LocalAccount) -> Groups:
        """Deploy PoseidonT3 (unless the canonical one is there), the Semaphore verifier and
        SpartacusGroups from ``account``; returns a client bound to the groups contract."""
        sender = Sender(w3, account)
        poseidon = CANONICAL_POSEIDON_T3
        if not w3.eth.get_code(to_checksum_address(poseidon)):
            library = load_artifact("PoseidonT3")
            poseidon, _ = _deploy(sender, library["abi"], library["bytecode"])
        verifier = load_artifact("SemaphoreVerifier")
        verifier_address, _ = _deploy(sender, verifier["abi"], verifier["bytecode"])
        groups = load_artifact("SpartacusGroups")
        bytecode = link(groups, {POSEIDON_T3: poseidon})
        address, block = _deploy(sender, groups["abi"], bytecode, verifier_address)
        return cls(w3, address, from_block=block)

    @cached_property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    def has_code(self) -> bool:
        return len(self.w3.eth.get_code(self.address)) > 0

    # ------------------------------------------------------------ views

    def group_count(self) -> int:
        return int(self.contract.functions.groupCount().call())

    def info(self, group_id: int) -> GroupInfo:
        """The group's admin, size, root, invitation counts and name (from its event)."""
        raw = self._call(self.contract.functions.groupInfo(group_id))
        return GroupInfo(
            group_id=group_id,
            name=self.name(group_id),
            admin=to_checksum_address(raw[0]),
            size=int(raw[1]),
            root=int(raw[2]),
            invitations=int(raw[3]),
            redeemed=int(raw[4]),
        )

    def name(self, group_id: int) -> str:
        logs = self.contract.events.GroupCreated.get_logs(
            argument_filters={"groupId": group_id}, from_block=self.from_block
        )
        return str(logs[0]["args"]["name"]) if logs else ""

    def members(self, group_id: int) -> list[int]:
        """The group's commitments in leaf order, rebuilt from its events."""
        found: dict[int, int] = {}
        for event in (self.contract.events.MemberAdded, self.contract.events.MembersAdded):
            for log in event.get_logs(
                argument_filters={"groupId": group_id}, from_block=self.from_block
            ):
                args = log["args"]
                if "commitment" in args:
                    found[int(args["index"])] = int(args["commitment"])
                else:
                    for offset, commitment in enumerate(args["commitments"]):
                        found[int(args["startIndex"]) + offset] = int(commitment)
        if sorted(found) != list(range(len(found))):
            raise ChainError(f"group {group_id}'s events miss members; is the node complete?")
        return [found[i] for i in range(len(found))]

    def is_member(self, group_id: int, commitment: int) -> bool:
        return bool(self.contract.functions.isMember(group_id, commitment).call())

    def invitation_state(self, group_id: int, invitation: str) -> int:
        return int(self.contract.functions.invitationState(group_id, invitation).call())

    def scope_of(self, registry: str, campaign_id: int) -> int:
        """The scope of a campaign's membership proofs (the contract's own rule)."""
        return int(
            self.contract.functions.scopeOf(to_checksum_address(registry), campaign_id).call()
        )

    def verify_membership(self, group_id: int, scope: int, message: int, proof: Proof) -> bool:
        """True, or ``ContractRevert`` naming why the proof fails."""
        fn = self.contract.functions.verifyMembership(group_id, scope, message, proof.abi())
        return bool(self._call(fn))

    def _call(self, fn: Any) -> Any:
        try:
            return fn.call()
        except ContractCustomError as exc:
            raise self.decode_revert(exc.data if isinstance(exc.data, str) else "") from None

    # ------------------------------------------------------------ writes

    def create_group(self, account: LocalAccount, name: str) -> int:
        receipt = self.transact(self.contract.functions.createGroup(name), account)
        (event,) = self.contract.events.GroupCreated().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["groupId"])

    def add_members(self, account: LocalAccount, group_id: int, commitments: Sequence[int]) -> Any:
        """Add commitments: one with ``addMember``, more in ascending batches of 100."""
        values = [check_commitment(c) for c in commitments]
        if len(set(values)) != len(values):
            raise UsageError("a commitment is listed twice")
        if len(values) == 1:
            return [self.transact(self.contract.functions.addMember(group_id, values[0]), account)]
        ordered = sorted(values)
        return [
            self.transact(
                self.contract.functions.addMembers(group_id, ordered[i : i + MAX_BATCH]), account
            )
            for i in range(0, len(ordered), MAX_BATCH)
        ]

    def create_invitations(
        self, account: LocalAccount, group_id: int, count: int
    ) -> list[Invitation]:
        """``count`` fresh invitations registered in the group (batches of 100)."""
        if count < 1:
            raise UsageError("--count must be at least 1")
        invitations = [Invitation.new(group_id) for _ in range(count)]
        for i in range(0, count, MAX_BATCH):
            batch = [inv.address for inv in invitations[i : i + MAX_BATCH]]
            self.transact(self.contract.functions.createInvitations(group_id, batch), account)
        return invitations

    def revoke_invitations(
        self, account: LocalAccount, group_id: int, addresses: Sequence[str]
    ) -> Any:
        fn = self.contract.functions.revokeInvitations(
            group_id, [to_checksum_address(a) for a in addresses]
        )
        return self.transact(fn, account)

    def redeem(self, account: LocalAccount, invitation: Invitation, commitment: int) -> Any:
        """Redeem ``invitation`` for ``commitment``, sent (and paid) by ``account``."""
        signature = invitation.sign(self.chain_id, self.address, commitment)
        fn = self.contract.functions.redeemInvitation(invitation.group_id, commitment, signature)
        return self.transact(fn, account)

    def sender(self, account: LocalAccount, caps: FeeCaps | None = None) -> Sender:
        """The chain's one sender for ``account``'s calls to this contract (its custom errors
        decoded), e.g. for a relayer that serialises this wallet's sends itself."""
        return Sender(self.w3, account, self._errors, caps=caps)

    def invitation_signer(self, group_id: int, commitment: int, signature: bytes) -> str:
        """The invitation key that signed a redemption of ``commitment`` (the contract's
        ``redeemInvitation`` recovers the same address; an unknown one is no invitation)."""
        data = invitation_typed_data(self.chain_id, self.address, group_id, commitment)
        return str(
            Account.recover_message(encode_typed_data(full_message=data), signature=signature)
        )

    def transact(self, fn: Any, account: LocalAccount) -> Any:
        """Send ``fn`` from ``account`` and wait for it; custom errors told in words."""
        try:
            return Sender(self.w3, account, self._errors).transact(fn)
        except ContractRevert as exc:
            raise ContractRevert(exc.name, exc.args_by_name, _explain(exc)) from None

    def decode_revert(self, data: str) -> ContractRevert:
        """A revert's data as a ``ContractRevert`` in words."""
        exc = decode_revert(self._errors, data)
        return ContractRevert(exc.name, exc.args_by_name, _explain(exc))


def _explain(exc: ContractRevert) -> str:
    """Words for the groups contract's custom errors."""
    a = exc.args_by_name
    gid = a.get("groupId")
    messages: dict[str, Any] = {
        "UnknownGroup": lambda: f"group {gid} does not exist",
        "BadNameLength": lambda: f"a group name has 1 to {a['maximum']} bytes (got {a['length']})",
        "NotGroupAdmin": lambda: (
            f"{a['caller']} is not the admin of group {gid} (the admin is {a['admin']})"
        ),
        "BadCommitment": lambda: f"{a['commitment']} is not an identity commitment",
        "AlreadyMember": lambda: f"commitment {a['commitment']} is already in group {gid}",
        "GroupFull": lambda: f"group {gid} is full ({a['size']} of {a['maximum']} members)",
        "BadBatchSize": lambda: f"a batch holds 1 to {a['max']} items (got {a['size']})",
        "InvitationExists": lambda: f"invitation {a['invitation']} already exists in group {gid}",
        "UnknownInvitation": lambda: (
            f"this invitation is not one of group {gid}'s (signer {a['signer']}): check the "
            "code, the chain and the groups contract"
        ),
        "InvitationUsed": lambda: (
            f"invitation {a['invitation']} of group {gid} was already redeemed or revoked"
        ),
        "UnsupportedDepth": lambda: (
            f"the proof has tree depth {a['depth']}; only {a['supported']} is supported"
        ),
        "StaleRoot": lambda: (
            f"the proof was made for a state of group {gid} that is no longer accepted; prove again"
        ),
        "ProofMismatch": lambda: "the proof was made for another campaign or pledge",
        "InvalidProof": lambda: f"the membership proof for group {gid} is not valid",
    }
    explain = messages.get(exc.name)
    return str(explain()) if explain else str(exc)
