"""`spartacus moderate`: the operator's store on real files, shared with the web app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from spartacus.cli import cli
from spartacus.exceptions import UsageError
from spartacus.web.moderation import ModerationStore


def run(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner(mix_stderr=False).invoke(cli, ["--home", str(home), "moderate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_hide_list_unhide_round_trip(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "hide", "7", "--reason", "names a private person")
    assert code == 0 and "campaign 7 is hidden" in out
    assert ModerationStore(tmp_path / "web").hidden(7) is not None
    code, out, _ = run(tmp_path, "list", "--json")
    assert json.loads(out)["hidden"][0]["reason"] == "names a private person"
    assert run(tmp_path, "unhide", "7")[0] == 0
    assert ModerationStore(tmp_path / "web").hidden(7) is None


def test_unhiding_a_shown_campaign_says_so(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "unhide", "3")
    assert code == 1 and err.strip() == "error: campaign 3 is not hidden"


def test_hiding_needs_a_reason(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, "hide", "3", "--reason", "  ")
    assert code == 1 and "say why" in err
    code, _, err = run(tmp_path, "hide", "3")
    assert code == 2 and "--reason" in err


def test_reports_keep_no_identity_and_refuse_unknown_reasons(tmp_path: Path) -> None:
    store = ModerationStore(tmp_path / "web")
    store.report(4, "doxxing", "it names my neighbour")
    (report,) = store.reports(4)
    assert (report.campaign_id, report.reason, report.details) == (
        4,
        "doxxing",
        "it names my neighbour",
    )
    code, out, _ = run(tmp_path, "list")
    assert "report 1 on campaign 4" in out
    with pytest.raises(UsageError, match="one of threats, doxxing"):
        store.report(4, "because", "")
