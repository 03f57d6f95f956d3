"""Membership groups: invitation codes and their EIP-712 redemption (docs/protocol.md,
"Membership groups").

An invitation is a fresh secp256k1 key. The admin registers its address in a group; the
code handed to the invitee is ``<group id>-<key in base64url>``. The invitee's client signs
``Invitation(uint256 groupId,uint256 commitment)`` with that key in the domain
("SpartacusGroups", "1", chainId, groups contract): a redemption seen in the mempool binds
its commitment, so nobody can redeem the same invitation for another one.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

from ..exceptions import CryptoError, InvalidInvitation
from .eip712 import pledge_typed_data, typed_data_digest
from .primitives import Deployment, account_bytes
from .sealing import Sealed

DOMAIN_NAME = "SpartacusGroups"
DOMAIN_VERSION = "1"
INVITATION_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Invitation": [
        {"name": "groupId", "type": "uint256"},
        {"name": "commitment", "type": "uint256"},
    ],
}
# The BN254 scalar field: identity commitments are below it (and not zero).
SNARK_SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617
_CODE = re.compile(r"^([1-9][0-9]{0,30})-([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class Invitation:
    """An invitation: the group it opens and the key whose address the admin registered."""

    group_id: int
    key: bytes  # 32 bytes

    @classmethod
    def new(cls, group_id: int) -> Invitation:
        while True:  # a key outside secp256k1's range is refused by eth_account: draw again
            key = os.urandom(32)
            try:
                Account.from_key(key)
            except (ValueError, TypeError):
                continue
            return cls(group_id, key)

    @property
    def address(self) -> str:
        return str(Account.from_key(self.key).address)

    @property
    def code(self) -> str:
        return f"{self.group_id}-{base64.urlsafe_b64encode(self.key).decode().rstrip('=')}"

    @classmethod
    def from_code(cls, code: str) -> Invitation:
        """Reads a code; ``InvalidInvitation`` says what is wrong with a mistyped one."""
        match = _CODE.match(code.strip())
        if not match:
            raise InvalidInvitation(
                "an invitation code looks like 12-<43 letters, digits, - or _>; check it was "
                "copied whole"
            )
        key = base64.urlsafe_b64decode(match.group(2) + "=")
        try:
            Account.from_key(key)
        except (ValueError, TypeError):
            raise InvalidInvitation("the invitation code holds no valid key") from None
        return cls(int(match.group(1)), key)

    def sign(self, chain_id: int, groups: str, commitment: int) -> bytes:
        """The redemption signature for ``commitment`` (65 bytes)."""
        data = invitation_typed_data(chain_id, groups, self.group_id, commitment)
        return bytes(Account.sign_message(encode_typed_data(full_message=data), self.key).signature)


def check_commitment(commitment: int) -> int:
    if not isinstance(commitment, int) or not 0 < commitment < SNARK_SCALAR_FIELD:
        raise CryptoError(
            f"{commitment!r} is not an identity commitment (a number from 1 to the SNARK field)"
        )
    return commitment


def invitation_typed_data(
    chain_id: int, groups: str, group_id: int, commitment: int
) -> dict[str, Any]:
    """``Invitation(uint256 groupId,uint256 commitment)`` in the groups contract's domain."""
    return {
        "types": INVITATION_TYPES,
        "primaryType": "Invitation",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(account_bytes(groups)),
        },
        "message": {"groupId": group_id, "commitment": check_commitment(commitment)},
    }


# ---------------------------------------------------------------------- gated pledges


def membership_scope(deployment: Deployment, campaign_id: int) -> int:
    """The scope of a campaign's membership proofs (contracts/libraries/MembershipScope.sol):
    ``uint256(keccak256(abi.encode(chainId, registry, campaignId)))``. The prover and the
    verifier hash it again, so the full 256 bits are used."""
    chain, registry = deployment.prefix[:32], deployment.prefix[32:]
    encoded = chain + bytes(12) + registry + campaign_id.to_bytes(32, "big")
    return int.from_bytes(keccak(encoded), "big")


def membership_message(
    deployment: Deployment,
    campaign_id: int,
    account: str,
    sealed: Sealed,
    nonce: int,
    valid_until: int,
) -> int:
    """The message a gated pledge's proof carries (docs/protocol.md, "Gated pledges"):
    ``uint256(keccak256(abi.encode(digest, account)))`` with ``digest`` the EIP-712 digest of
    the ``Pledge`` that ``account`` signs for ``pledgeGatedWithSig``. It binds the pledge's
    exact bytes, its account, the account's nonce (an old proof is worthless after a
    withdrawal) and ``validUntil``."""
    typed = pledge_typed_data(
        deployment.chain_id, deployment.registry, campaign_id, sealed, nonce, valid_until
    )
    digest = typed_data_digest(typed)
    return int.from_bytes(keccak(digest + bytes(12) + account_bytes(account)), "big")
