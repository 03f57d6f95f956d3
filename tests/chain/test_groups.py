"""The groups artifacts: sizes, and linking PoseidonT3 into SpartacusGroups."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from spartacus import semaphore
from spartacus.chain.artifact import load_artifact
from spartacus.chain.deployments import record_deployment, record_groups, recorded_deployment
from spartacus.chain.groups import POSEIDON_T3, link
from spartacus.exceptions import UsageError


@pytest.mark.parametrize("name", ["SpartacusGroups", "SemaphoreVerifier", "PoseidonT3"])
def test_groups_artifacts_fit_the_size_limits(name: str) -> None:
    artifact = load_artifact(name)
    for key, limit in (("bytecode", 49_152), ("deployedBytecode", 24_576)):
        code = bytes.fromhex(artifact[key].removeprefix("0x").replace("_", "0").replace("$", "0"))
        assert 0 < len(code) <= limit, f"{name} {key}: {len(code)} bytes"


def test_link_writes_the_library_address_at_every_placeholder() -> None:
    artifact = load_artifact("SpartacusGroups")
    assert "__$" in artifact["bytecode"]
    address = "0x3333333C0A88F9BE4fd23ed0536F9B6c427e3B93"

    linked = link(artifact, {POSEIDON_T3: address})

    assert "__$" not in linked and len(linked) == len(artifact["bytecode"])
    places = artifact["linkReferences"]["poseidon-solidity/PoseidonT3.sol"]["PoseidonT3"]
    assert len(places) >= 1
    for place in places:
        start = 2 + 2 * place["start"]
        assert linked[start : start + 40] == address[2:].lower()


def test_link_without_the_library_is_refused() -> None:
    with pytest.raises(UsageError, match="needs library poseidon-solidity/PoseidonT3.sol"):
        link(load_artifact("SpartacusGroups"), {})


def test_recording_groups_and_registry_keeps_both(tmp_path: Path) -> None:
    groups, registry = "0x" + "11" * 20, "0x" + "22" * 20
    record_groups(tmp_path, 31337, groups, 5)
    assert recorded_deployment(tmp_path, 31337) is None  # a groups contract is no registry

    record_deployment(tmp_path, 31337, registry, 9)
    record_groups(tmp_path, 31337, groups, 5)

    assert recorded_deployment(tmp_path, 31337) == (registry, 9)
    entry = json.loads((tmp_path / "deployments.json").read_text())["31337"]
    assert (entry["groups"], entry["groupsBlock"]) == (groups, 5)


def test_one_tree_depth_everywhere() -> None:
    """The contract, the Python wrapper and the Node prover agree on depth 16."""
    answer = subprocess.run(
        ["node", str(semaphore.SCRIPT), "files"], capture_output=True, text=True, check=True
    )
    files = json.loads(answer.stdout)
    assert load_artifact("SpartacusGroups")["constants"]["DEPTH"] == semaphore.DEPTH == 16
    assert files["depth"] == 16 and files["wasm"].endswith("semaphore-16.wasm")
    assert Path(files["zkey"]).name == "semaphore-16.zkey" and Path(files["zkey"]).exists()
