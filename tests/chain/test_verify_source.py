"""``spartacus verify-source``: the written standard-JSON input, compiled alone by the
project's solc, rebuilds the registry deployed on anvil byte for byte (immutables filled in
from the chain; the metadata hash at the end included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from web3 import HTTPProvider, Web3

from spartacus.chain.source import runtime_matches, verification
from spartacus.cli import cli
from tests.cli.conftest import anvil_rpc  # noqa: F401 - the shared anvil fixture


def spartacus(rpc: str, home: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner(mix_stderr=False).invoke(
        cli,
        ["--rpc", rpc, "--home", str(home), "--dev-account", "0", *args, "--json"],
        env={"SPARTACUS_REGISTRY": "", "SPARTACUS_NETWORK": ""},
    )
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_written_input_recompiles_to_the_deployed_code(
    anvil_rpc: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import solcx

    from spartacus.dev.build import SOLC_VERSION

    address = spartacus(anvil_rpc, tmp_path, "deploy")["registry"]
    out = tmp_path / "verify"
    summary = spartacus(
        anvil_rpc, tmp_path, "verify-source", "--address", address, "--out", str(out)
    )
    assert (
        summary["address"] == address and summary["contract"] == "contracts/Spartacus.sol:Spartacus"
    )
    assert summary["compilerVersion"].startswith(f"v{SOLC_VERSION}+commit.")
    standard_input = json.loads((out / "standard-input.json").read_text())
    # Compiled from an empty folder: every source must be in the input itself.
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    output = solcx.compile_standard(standard_input, solc_version=SOLC_VERSION, base_path=str(empty))
    path, name = summary["contract"].split(":")
    compiled = output["contracts"][path][name]
    assert json.loads(compiled["metadata"]) == json.loads((out / "metadata.json").read_text())
    runtime = bytearray.fromhex(compiled["evm"]["deployedBytecode"]["object"])
    deployed = bytes(Web3(HTTPProvider(anvil_rpc)).eth.get_code(address))
    refs = compiled["evm"]["deployedBytecode"]["immutableReferences"]
    assert refs, "the registry has immutables (OpenZeppelin's EIP712)"
    for ref in (r for group in refs.values() for r in group):
        start, end = ref["start"], ref["start"] + ref["length"]
        assert runtime[start:end] == bytes(ref["length"])  # zeros until deployed
        runtime[start:end] = deployed[start:end]
    assert bytes(runtime) == deployed


def test_other_code_is_not_the_registry() -> None:
    record = verification()
    from spartacus.chain.artifact import load_artifact

    compiled = bytes.fromhex(load_artifact()["deployedBytecode"][2:])
    assert runtime_matches(compiled, compiled, record["immutableReferences"])
    changed = bytearray(compiled)
    changed[-40] ^= 1  # inside the metadata hash: another source or settings
    assert not runtime_matches(bytes(changed), compiled, record["immutableReferences"])


def test_verify_source_refuses_an_address_without_the_registry(
    anvil_rpc: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    result = CliRunner(mix_stderr=False).invoke(
        cli,
        ["--rpc", anvil_rpc, "--home", str(tmp_path), "verify-source", "--address",
         "0x" + "42" * 20, "--out", str(tmp_path / "v")],
        env={"SPARTACUS_REGISTRY": "", "SPARTACUS_NETWORK": ""},
    )  # fmt: skip
    assert result.exit_code == 1 and "no contract at" in result.stderr
    assert not (tmp_path / "v").exists()
