"""The artifact shipped in the package (spartacus/artifacts/) is what contracts/ compiles to.

Users who ``pip install`` the package never compile; the contract tests deploy this artifact
too. These tests compile afresh with py-solc-x (``make install`` provides the compiler).
"""

from __future__ import annotations

import json

import pytest

from spartacus.dev import build


def test_artifact_matches_fresh_compile(capsys: pytest.CaptureFixture[str]) -> None:
    assert build.main(["--check"]) == 0, capsys.readouterr().err


def test_artifact_check_fails_on_changed_source(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = (build.ARTIFACTS / "Spartacus.json").read_text()
    sources = build.project_sources()
    edited = {path: dict(source) for path, source in sources.items()}
    edited["contracts/Spartacus.sol"]["content"] += "\n// an edit the artifact does not have\n"
    monkeypatch.setattr(build, "project_sources", lambda: edited)

    assert build.main(["--check"]) == 1
    assert "out of date: Spartacus" in capsys.readouterr().err
    assert (build.ARTIFACTS / "Spartacus.json").read_text() == shipped  # --check never writes


def test_artifact_holds_abi_and_bytecode() -> None:
    artifact = json.loads((build.ARTIFACTS / "Spartacus.json").read_text())

    names = {item.get("name") for item in artifact["abi"]}
    assert {"createCampaign", "pledge", "pledgeWithSig", "Pledged", "BadLength"} <= names
    assert artifact["compiler"]["version"] == build.SOLC_VERSION
    # EIP-3860 limits init code to 49,152 bytes, EIP-170 deployed code to 24,576.
    for key, limit in (("bytecode", 49_152), ("deployedBytecode", 24_576)):
        code = bytes.fromhex(artifact[key].removeprefix("0x"))
        assert 0 < len(code) <= limit, f"{key}: {len(code)} bytes"
