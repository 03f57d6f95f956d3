"""Relayed invitation redemptions: the browser signs, the site's relayer pays.

An invitee's browser makes a Semaphore identity and signs ``Invitation(groupId,
commitment)`` with the invitation's key (docs/protocol.md, "Membership groups"); this
relays ``redeemInvitation`` like a relayed pledge. The signature binds the commitment, so
the relayer (or anyone copying it from the mempool) can only add the invitee's own
commitment. The code itself never reaches the server: only the commitment and signature.

Everything is checked before gas is spent: the group exists, the signature recovers an
invitation of that group that is still outstanding (404 unknown, 409 redeemed, 410 revoked),
the commitment is not a member yet; then the relayer's rate limit and funds, and the gas
estimate runs the very call. Sends share the relayer's wallet lock (``Submitter``).
"""

from __future__ import annotations

from typing import Any

from hexbytes import HexBytes

from ..chain import rules
from ..chain.groups import Groups, InvitationState
from ..exceptions import ContractRevert, CryptoError, RequestRefused
from ..protocol.groups import check_commitment
from . import bodies
from .relay import Relayer


class GroupRelay:
    """The relayer's wallet sending redemptions to the groups contract."""

    def __init__(self, groups: Groups, relayer: Relayer) -> None:
        self.groups = groups
        self.relayer = relayer
        self._sender = groups.sender(relayer.account, relayer.registry.caps)

    def redeem(self, group_id: int, body: dict[str, Any]) -> dict[str, Any]:
        commitment = bodies.uint(body, "commitment", 256)
        try:
            check_commitment(commitment)
        except CryptoError as exc:
            raise RequestRefused(str(exc)) from None
        signature = bodies.hex_bytes(body, "signature")
        rules.check_signature(signature)
        info = self.info(group_id)
        try:
            signer = self.groups.invitation_signer(group_id, commitment, signature)
        except (ValueError, TypeError):
            raise RequestRefused("the signature is not a valid secp256k1 signature") from None
        state = self.groups.invitation_state(group_id, signer)
        if state == InvitationState.NONE:
            raise RequestRefused(
                f"this is not an invitation to group {group_id} ({info.name}) on this site's "
                "chain: check that the link was copied whole",
                404,
            )
        if state == InvitationState.REVOKED:
            raise RequestRefused(
                f"this invitation to group {group_id} ({info.name}) was revoked by the group's "
                "admin; ask them for a new one",
                410,
            )
        if state == InvitationState.REDEEMED:
            raise RequestRefused(
                f"this invitation to group {group_id} ({info.name}) was already used; an "
                "invitation works once: ask the group's admin for a new one",
                409,
            )
        if self.groups.is_member(group_id, commitment):
            raise RequestRefused(f"this identity is already a member of group {group_id}", 409)
        self.relayer.limit(f"group:{group_id}", "group")
        fn = self.groups.contract.functions.redeemInvitation(group_id, commitment, signature)
        receipt = self.relayer.submit(fn, sender=self._sender)
        return {
            "group": group_id,
            "commitment": str(commitment),
            "txHash": HexBytes(receipt["transactionHash"]).to_0x_hex(),
            "size": self.groups.info(group_id).size,
        }

    def info(self, group_id: int) -> Any:
        """The group's public facts; 404 for a group that does not exist."""
        self.relayer.node_up()
        try:
            return self.groups.info(group_id)
        except ContractRevert as exc:
            if exc.name == "UnknownGroup":
                raise RequestRefused(f"there is no group {group_id} on this site", 404) from None
            raise
