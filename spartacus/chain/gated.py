"""Gated pledges: the membership proof a signed pledge carries (docs/protocol.md, "Gated
pledges"), made once here for the CLI, the tests and the benchmarks.

The proof's scope is the campaign's (``MembershipScope``); its message binds the signed
``Pledge`` (bytes, account, nonce, validUntil), so it must be made after signing. The
members are read from the groups contract's events; the proof is made by Node
(``spartacus.semaphore``) and takes seconds.
"""

from __future__ import annotations

from ..protocol import Sealed
from ..semaphore import Proof, prove
from . import rules
from .registry import Registry, SignedMessage


def prove_pledge(
    registry: Registry,
    backup: str,
    commitment: int,
    campaign_id: int,
    group: int,
    account: str,
    sealed: Sealed,
    signed: SignedMessage,
    nonce: int,
) -> Proof:
    """A proof that the identity ``backup`` (commitment ``commitment``) is a member of
    ``group``, for ``account``'s pledge ``sealed`` signed in ``signed`` at ``nonce``. Checks
    membership first (``NotAMember``) and, after proving, that the member holds no active
    pledge in the campaign (``NullifierInUse``)."""
    groups = registry.groups
    rules.check_member(group, commitment, is_member=groups.is_member(group, commitment))
    message = registry.membership_message(campaign_id, account, sealed, signed, nonce)
    proof = prove(backup, groups.members(group), registry.membership_scope(campaign_id), message)
    holder = registry.nullifier_holder(campaign_id, proof.nullifier)
    rules.check_nullifier_free(campaign_id, holder)
    return proof
