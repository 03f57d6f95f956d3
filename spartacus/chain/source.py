"""The registry's source, as block explorers verify it (``spartacus verify-source``).

``make build`` writes ``spartacus/artifacts/Spartacus.verify.json`` beside the artifact: the
solc standard-JSON input that rebuilds the registry byte for byte (every source embedded
under the unit name its metadata records), the compiler's full version, the metadata, and
the positions of the immutables in the runtime code (OpenZeppelin's EIP712 caches the chain
id, the address and the domain's hashes there, filled in at deployment). A deployed
registry is this package's when its runtime code equals the compiled one outside those
positions; the metadata hash at its end pins the sources and settings.

Etherscan and Blockscout take the standard-JSON input ("Solidity (Standard-Json-Input)",
compiler version ``compilerVersion``, no constructor arguments); Sourcify takes the
metadata with the sources.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..exceptions import ChainError
from .artifact import load_artifact
from .registry import Registry


def verification() -> dict[str, Any]:
    """The shipped verification record (see the module's docstring)."""
    return load_artifact("Spartacus.verify")


def runtime_matches(deployed: bytes, compiled: bytes, immutables: list[dict[str, int]]) -> bool:
    """Whether ``deployed`` runtime code is ``compiled`` with its immutables filled in."""
    if len(deployed) != len(compiled):
        return False
    expected = bytearray(compiled)
    for ref in immutables:
        start, end = ref["start"], ref["start"] + ref["length"]
        expected[start:end] = deployed[start:end]
    return bytes(expected) == deployed


def write_verification(registry: Registry, folder: Path) -> dict[str, Any]:
    """Write what explorers need to verify ``registry`` into ``folder``; returns a summary.

    ``ChainError`` if the deployed code is not this package's registry (another version, or
    another contract): its source is not the one shipped here."""
    record = verification()
    deployed = bytes(registry.w3.eth.get_code(registry.address))
    compiled = bytes.fromhex(load_artifact()["deployedBytecode"].removeprefix("0x"))
    if not runtime_matches(deployed, compiled, record["immutableReferences"]):
        raise ChainError(
            f"the contract at {registry.address} on chain {registry.chain_id} is not the "
            "registry this package ships (another version or another contract), so its "
            "source is not the one here: check out the release that deployed it"
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "standard-input.json").write_text(json.dumps(record["input"], indent=1) + "\n")
    (folder / "metadata.json").write_text(record["metadata"])
    summary = {
        "address": registry.address,
        "chainId": registry.chain_id,
        "contract": record["contract"],
        "compilerVersion": record["compilerVersion"],
        "constructorArguments": "",
        "files": ["standard-input.json", "metadata.json"],
    }
    (folder / "verification.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
