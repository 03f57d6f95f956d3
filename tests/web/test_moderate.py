"""`spartacus moderate`: the operator's store on real files, shared with the web app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from spartacus.cli import cli
from spartacus.exceptions import TooManyReports, UsageError
from spartacus.web.moderation import MAX_REPORTS_PER_CAMPAIGN, ModerationStore


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


def test_moderate_list_strips_control_characters_from_reports(tmp_path: Path) -> None:
    # A report that would clear the operator's screen, rewrite its own line with a CR and
    # forge a line of the listing after a newline; a bidi override would reorder the text.
    hostile = "\x1b[2J\x1b[1;1Hall fine\rreport 9 on campaign 1: spam\n\u202eevil\x07\x9b31m"
    ModerationStore(tmp_path / "web").report(4, "other", hostile)
    code, out, _ = run(tmp_path, "list")
    assert code == 0
    for char in "\x1b\r\x07\x9b\u202e":
        assert char not in out
    assert out.count("\n") == 1  # one report, one line: no forged second line
    assert "all fine report 9 on campaign 1: spam evil" in out
    code, out, _ = run(tmp_path, "list", "--json")  # JSON keeps the text, escaped
    assert json.loads(out)["reports"][0]["details"] == hostile.strip()


def test_reports_per_campaign_are_capped_until_dismissed(tmp_path: Path) -> None:
    store = ModerationStore(tmp_path / "web")
    for _ in range(MAX_REPORTS_PER_CAMPAIGN):
        store.report(4, "spam", "")
    with pytest.raises(TooManyReports, match="already has 100 reports"):
        store.report(4, "spam", "one too many")
    store.report(5, "spam", "another campaign has its own room")
    assert len(store.reports(4)) == MAX_REPORTS_PER_CAMPAIGN
    code, out, _ = run(tmp_path, "dismiss", "4")
    assert code == 0 and "100 report(s) on campaign 4 dismissed" in out
    store.report(4, "spam", "room again")
    assert len(store.reports(4)) == 1
