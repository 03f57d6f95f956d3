"""A daemon's checkpoint is checked against the chain each pass, not once per process: under a
``safe`` or ``latest`` tag a reorg can replace the checkpoint's block while the daemon runs, and
a release it held (which decides when a key is destroyed) must then be read again."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from spartacus.chain.checkpoint import Checkpoints, Held
from spartacus.chain.registry import Registry


class Chain:
    """Enough of ``w3.eth`` for a checkpoint's check: the hash of each block, changeable."""

    def __init__(self) -> None:
        self.hashes = {5: b"\x05" * 32}
        self.asked = 0

    def get_block(self, number: int) -> dict[str, Any]:
        self.asked += 1
        return {"number": number, "hash": self.hashes[number]}


def checkpoints(chain: Chain) -> Checkpoints:
    registry = SimpleNamespace(w3=SimpleNamespace(eth=chain))
    return Checkpoints(cast(Registry, registry))


def test_a_checkpoint_reorganised_away_between_passes_is_dropped() -> None:
    chain = Chain()
    held = checkpoints(chain)
    held.put(1, Held(5, "0x" + "05" * 32, [{"blockNumber": 5}]))
    assert held.trusted(1) is not None

    chain.hashes[5] = b"\x06" * 32  # a reorg replaces block 5 while the daemon runs
    held.new_pass()
    assert held.trusted(1) is None  # read again from the chain, not believed
    assert 1 not in held.held


def test_a_pass_checks_each_checkpoint_block_once() -> None:
    chain = Chain()
    held = checkpoints(chain)
    held.put(1, Held(5, "0x" + "05" * 32))
    held.put(2, Held(5, "0x" + "05" * 32))
    held.new_pass()
    assert held.trusted(1) is not None and held.trusted(2) is not None
    assert chain.asked == 1
