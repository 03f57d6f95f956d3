"""Compile the contracts with py-solc-x and write the artifacts shipped in the package.

Developers run ``make build`` (``python -m spartacus.dev.build``). Custodians and users who only
``pip install`` the package never compile: they load ``spartacus/artifacts/<Name>.json``.
A test compiles afresh and fails if a shipped artifact differs.

The membership groups (``SpartacusGroups``) use Semaphore's verifier, zk-kit's Lean IMT and
PoseidonT3 from node_modules. Those files enter the compile as sources named by their import
paths (``@semaphore-protocol/contracts/...``), not through remappings, so that the registry's
compiler settings, and so its bytecode, stay as they were. PoseidonT3 is an external library:
``SpartacusGroups``' bytecode keeps its placeholder, and ``linkReferences`` says where the
deployment (``spartacus.chain.groups``) writes the library's address.

The compiler is whatever py-solc-x finds for ``SOLC_VERSION`` in its binary folder
(``SOLCX_BINARY_PATH``, default ``~/.solcx``): a native solc where one was installed, or the
offline shim over the npm ``solc`` package that ``make install`` puts there.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

SOLC_VERSION = "0.8.37"
ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
ARTIFACTS = ROOT / "spartacus" / "artifacts"
REMAPPINGS = ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"]
# The contracts that ship in the package, by source file and contract name.
SHIPPED = {
    "Spartacus": "contracts/Spartacus.sol",
    "SpartacusGroups": "contracts/SpartacusGroups.sol",
    "SemaphoreVerifier": "@semaphore-protocol/contracts/base/SemaphoreVerifier.sol",
    "PoseidonT3": "poseidon-solidity/PoseidonT3.sol",
}
# npm packages whose Solidity files are compiled as sources named by their import paths.
NPM_SOURCES = ("@semaphore-protocol/contracts/", "@zk-kit/lean-imt.sol/", "poseidon-solidity/")
_IMPORT = re.compile(r'^\s*import\s+(?:[^"\']*\s+from\s+)?["\']([^"\']+)["\']', re.MULTILINE)

SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 10_000},
    "evmVersion": "cancun",
    "remappings": REMAPPINGS,
    "outputSelection": {
        "*": {
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.bytecode.linkReferences",
                "evm.deployedBytecode.object",
                "evm.deployedBytecode.immutableReferences",
                "devdoc",
                "metadata",
            ],
            "": ["ast"],  # read for the contract's constants (``constants``); code is unchanged
        }
    },
}
# EIP-170: the most bytes of code a contract may have on mainnet and the L2s.
EIP170_LIMIT = 24_576
# A constant folded to a whole number, as the AST types it: ``t_rational_<value>_by_1``.
_WHOLE_NUMBER = re.compile(r"t_rational_(\d+)_by_1")


def project_sources() -> dict[str, dict[str, str]]:
    """Every source under contracts/, keyed by its path relative to the repository root.

    Hidden folders are skipped: ``ape compile`` unpacks its dependencies into
    ``contracts/.cache``, which is not part of the registry's sources.
    """
    sources = {
        path.relative_to(ROOT).as_posix(): {"content": path.read_text()}
        for path in sorted(CONTRACTS.rglob("*.sol"))
        if not any(part.startswith(".") for part in path.relative_to(CONTRACTS).parts)
    }
    wanted = [name for name in SHIPPED.values() if name.startswith(NPM_SOURCES)]
    for source in list(sources.values()):
        wanted += [i for i in _IMPORT.findall(source["content"]) if i.startswith(NPM_SOURCES)]
    while wanted:  # the npm files imported, and what they import in turn
        name = wanted.pop()
        if name in sources:
            continue
        content = (ROOT / "node_modules" / name).read_text()
        sources[name] = {"content": content}
        for imported in _IMPORT.findall(content):
            if imported.startswith("."):
                imported = posixpath.normpath(posixpath.join(posixpath.dirname(name), imported))
            wanted.append(imported)
    return dict(sorted(sources.items()))


def compile_standard(standard_input: dict[str, Any]) -> dict[str, Any]:
    """Run the project's solc on a standard-JSON input (imports resolved from the checkout)."""
    import solcx  # imported here: a plain install of the package has no compiler

    try:
        output: dict[str, Any] = solcx.compile_standard(
            standard_input,
            solc_version=SOLC_VERSION,
            base_path=str(ROOT),
            allow_paths=[str(ROOT)],
        )
    except solcx.exceptions.SolcNotInstalled as exc:
        raise SystemExit(
            f"solc {SOLC_VERSION} is not installed for py-solc-x; run `make install`"
        ) from exc
    return output


# The shipped contracts explorers verify (``spartacus verify-source``): the registry.
VERIFIED = ("Spartacus",)


def compile_contracts() -> dict[str, dict[str, Any]]:
    """Compile contracts/ and return ``{name: {"abi", "bytecode", ..., "constants"}}`` for
    SHIPPED, and ``{name + ".verify": ...}`` for VERIFIED: what block explorers need."""
    sources = project_sources()
    standard_input = {"language": "Solidity", "sources": sources, "settings": SETTINGS}
    output = compile_standard(standard_input)
    artifacts = {}
    for name, source in SHIPPED.items():
        compiled = output["contracts"][source][name]
        artifacts[name] = {
            "contractName": name,
            "sourceName": source,
            "compiler": {"version": SOLC_VERSION, "settings": _public_settings()},
            "abi": compiled["abi"],
            "bytecode": "0x" + compiled["evm"]["bytecode"]["object"],
            "deployedBytecode": "0x" + compiled["evm"]["deployedBytecode"]["object"],
            "devdoc": compiled.get("devdoc", {}),
            "constants": constants(output["sources"][source]["ast"], name),
        }
        links = compiled["evm"]["bytecode"].get("linkReferences")
        if links:
            artifacts[name]["linkReferences"] = links
        if name in VERIFIED:
            artifacts[f"{name}.verify"] = verification(source, name, compiled, sources)
    return artifacts


# What an explorer asks for: the usual outputs (Etherscan and Blockscout ignore the rest).
VERIFY_OUTPUT = {"*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode", "metadata"]}}


def verification(
    source: str, name: str, compiled: dict[str, Any], sources: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """The standard-JSON input that rebuilds ``name`` byte for byte, every source it uses
    embedded under the unit name its metadata records (so the metadata hash at the end of
    the runtime code is the same), with the metadata, the compiler's full version and the
    runtime code's immutable positions (``spartacus verify-source`` writes them out).
    Sources not given to solc (found through the remappings) are read from the checkout."""
    metadata = json.loads(compiled["metadata"])
    embedded = {
        unit: {
            "content": sources[unit]["content"] if unit in sources else (ROOT / unit).read_text()
        }
        for unit in sorted(metadata["sources"])
    }
    settings = {**_public_settings(), "outputSelection": VERIFY_OUTPUT}
    immutables = compiled["evm"]["deployedBytecode"].get("immutableReferences", {})
    return {
        "contract": f"{source}:{name}",
        "compilerVersion": "v" + metadata["compiler"]["version"],
        "input": {"language": "Solidity", "sources": embedded, "settings": settings},
        "metadata": compiled["metadata"],
        "immutableReferences": [ref for refs in immutables.values() for ref in refs],
    }


def constants(ast: dict[str, Any], contract: str) -> dict[str, int]:
    """The whole-number constants ``contract`` declares, by name, as solc folded them.

    They are the registry's limits (title and text sizes, custodians, box and ciphertext
    sizes...): ``spartacus.chain.rules`` reads them from the artifact rather than restating
    the numbers, so the contract stays the one place where they are written.
    """
    found = {}
    for node in ast["nodes"]:
        if node.get("nodeType") != "ContractDefinition" or node.get("name") != contract:
            continue
        for member in node["nodes"]:
            if member.get("nodeType") != "VariableDeclaration" or not member.get("constant"):
                continue
            folded = _WHOLE_NUMBER.fullmatch(member["value"]["typeDescriptions"]["typeIdentifier"])
            if folded:
                found[member["name"]] = int(folded.group(1))
    return found


def _public_settings() -> dict[str, Any]:
    return {k: v for k, v in SETTINGS.items() if k != "outputSelection"}


def artifact_text(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o644)  # shipped in the package: readable by everyone
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="fail if the shipped artifacts are out of date"
    )
    args = parser.parse_args(argv)
    stale = []
    for name, artifact in compile_contracts().items():
        path = ARTIFACTS / f"{name}.json"
        text = artifact_text(artifact)
        code = artifact.get("deployedBytecode")
        if code:  # not every shipped artifact carries its deployed code
            size = len(code.removeprefix("0x")) // 2
            print(f"{name}: {size:,} bytes deployed, {EIP170_LIMIT - size:,} under EIP-170")
        if path.exists() and path.read_text() == text:
            continue
        if args.check:
            stale.append(name)
        else:
            write_atomic(path, text)
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run `make build`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
