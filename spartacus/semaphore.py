"""Semaphore v4 identities and membership proofs, made by Node (tools/semaphore.mjs).

Python has no Baby Jubjub or Poseidon of its own here, so identities and proofs come from
the npm packages @semaphore-protocol/{identity,group,proof}, run by Node with the proving
files of @zk-kit/semaphore-artifacts at the one supported tree depth (16), from this
checkout's node_modules: nothing is downloaded. A proof takes about a second or two.

An identity is kept as its backup code (Semaphore's ``Identity.export()``: the private key in
base64); the commitment is what a group holds.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .exceptions import ProverError

DEPTH = 16  # the tree depth of every proof (SpartacusGroups.DEPTH): up to 65,536 members
SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "semaphore.mjs"
TIMEOUT = 300  # seconds; a proof takes a few on a busy machine


@dataclass(frozen=True)
class Identity:
    backup: str  # the code the member keeps, like a receipt code
    commitment: int


@dataclass(frozen=True)
class Proof:
    """A Semaphore proof as SpartacusGroups.verifyMembership takes it."""

    depth: int
    root: int
    nullifier: int
    message: int
    scope: int
    points: tuple[int, ...]

    def abi(self) -> tuple[int, int, int, int, int, list[int]]:
        return (self.depth, self.root, self.nullifier, self.message, self.scope, list(self.points))

    @classmethod
    def from_json(cls, answer: dict[str, Any]) -> Proof:
        """The proof from @semaphore-protocol/proof's JSON (numbers as decimal strings)."""
        return cls(
            depth=int(answer["merkleTreeDepth"]),
            root=int(answer["merkleTreeRoot"]),
            nullifier=int(answer["nullifier"]),
            message=int(answer["message"]),
            scope=int(answer["scope"]),
            points=tuple(int(p) for p in answer["points"]),
        )


def _run(args: Sequence[str], request: dict[str, Any] | None = None) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not SCRIPT.exists():
        raise ProverError(
            "proving needs Node 20 and this repository's tools/semaphore.mjs with its "
            "node_modules (`make install`)"
        )
    try:
        done = subprocess.run(
            [node, str(SCRIPT), *args],
            input=json.dumps(request) if request is not None else "",
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ProverError(f"the Semaphore prover did not answer within {TIMEOUT} s") from None
    try:
        answer: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        raise ProverError(f"the Semaphore prover failed: {done.stderr.strip()[-500:]}") from None
    if done.returncode != 0 or "error" in answer:
        raise ProverError(f"the Semaphore prover refused: {answer.get('error', done.stderr)}")
    return answer


def new_identity() -> Identity:
    """A fresh Semaphore identity."""
    answer = _run(["identity"])
    return Identity(str(answer["backup"]), int(answer["commitment"]))


def import_identity(backup: str) -> Identity:
    """The identity a backup code holds; ``ProverError`` for a code that is not one."""
    answer = _run(["identity", "--import", backup])
    return Identity(str(answer["backup"]), int(answer["commitment"]))


def prove(backup: str, members: Sequence[int], scope: int, message: int) -> Proof:
    """A proof that the identity ``backup`` is one of ``members`` (the group's commitments in
    leaf order), for ``scope`` and ``message``, at depth 16."""
    request = {
        "backup": backup,
        "members": [str(m) for m in members],
        "scope": str(scope),
        "message": str(message),
    }
    return Proof.from_json(_run(["prove"], request))
