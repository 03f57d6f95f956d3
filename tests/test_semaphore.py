"""The Node prover behind spartacus.semaphore: identities, backup codes, proofs.

Proofs are checked on-chain in tests/contracts/test_groups.py; here, what the wrapper
promises on its own: a backup code brings the same identity back, and refusals are
``ProverError``s that say why.
"""

from __future__ import annotations

import pytest

from spartacus import semaphore
from spartacus.exceptions import ProverError


def test_backup_code_restores_the_same_commitment() -> None:
    identity = semaphore.new_identity()
    assert 0 < identity.commitment and len(identity.backup) == 44
    assert semaphore.import_identity(identity.backup) == identity
    assert semaphore.new_identity().commitment != identity.commitment


def test_malformed_backup_code_is_refused() -> None:
    with pytest.raises(ProverError, match="not an identity backup code"):
        semaphore.import_identity("not-a-code")


def test_proof_for_a_non_member_is_refused() -> None:
    identity = semaphore.new_identity()
    with pytest.raises(ProverError, match="is not a member"):
        semaphore.prove(identity.backup, [1, 2, 3], scope=5, message=6)


def test_proof_carries_depth_scope_message_and_the_groups_root() -> None:
    identity = semaphore.new_identity()
    proof = semaphore.prove(identity.backup, [7, identity.commitment], scope=2**256 - 1, message=6)
    assert (proof.depth, proof.scope, proof.message) == (16, 2**256 - 1, 6)
    assert len(proof.points) == 8 and proof.root != 0


def test_missing_node_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ProverError, match="needs Node 20"):
        semaphore.new_identity()
