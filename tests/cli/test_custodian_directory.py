"""`spartacus status` names custodians from the user's custodian directory, and only those
whose keys their signatures confirm; a bad directory file is one clear line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from spartacus.chain.directory import UNKNOWN

from .conftest import CustodianRole, Spartacus


def test_status_shows_directory_names_and_unknown_custodians(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    tmp_path: Path,
) -> None:
    campaign, (legal, stranger) = create_campaign(custodians=2, t=2)
    directory = tmp_path / "custodians.json"
    entry = {"name": "Legal Aid Collective", "account": legal.address, "contact": "keys@la.example"}
    directory.write_text(json.dumps({"custodians": [entry]}))

    shown = spartacus.ok("--custodian-directory", str(directory), "status", str(campaign))
    labels = [c["label"] for c in shown["custodians"]]
    assert labels == ["Legal Aid Collective (listed in your custodian directory)", UNKNOWN]
    assert shown["custodians"][0]["listed"] and not shown["custodians"][1]["listed"]
    assert shown["keys"].startswith("checked")
    text = spartacus("--custodian-directory", str(directory), "status", str(campaign)).stdout
    assert f"1. Legal Aid Collective (listed in your custodian directory): {legal.address}" in text
    assert f"2. {UNKNOWN}: {stranger.address}" in text

    by_env = spartacus.ok(
        "status", str(campaign), env={"SPARTACUS_CUSTODIAN_DIRECTORY": str(directory)}
    )
    assert by_env["custodians"][0]["name"] == "Legal Aid Collective"
    plain = spartacus.ok("status", str(campaign))  # no directory: nobody is named
    assert [c["label"] for c in plain["custodians"]] == [UNKNOWN, UNKNOWN]


def test_a_bad_directory_file_is_one_clear_line(spartacus: Spartacus, tmp_path: Path) -> None:
    bad = tmp_path / "custodians.json"
    bad.write_text(json.dumps({"custodians": [{"name": "X", "account": "0x12"}]}))
    result = spartacus("--custodian-directory", str(bad), "status", "1")
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: the custodian directory")
    assert "entry 1 (X): account must be the custodian's 0x Ethereum address" in result.stderr
    assert "Traceback" not in result.stderr
