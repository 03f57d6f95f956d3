"""A CLI that holds together (issue #16, item 6): durations with units, the web's minimum
deadline, the campaign's link and the organiser's receipt printed by `create`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from spartacus.chain import rules

from .conftest import CustodianRole, Spartacus


@pytest.fixture
def endorsement(spartacus: Spartacus, make_custodians: Callable[[int], list[CustodianRole]]) -> str:
    (custodian,) = make_custodians(1)
    path = spartacus.home(custodian.role) / "endorsement.json"
    spartacus.ok(
        "custodian", "endorse", "--out", str(path),
        role=custodian.role, passphrase=custodian.passphrase, dev=None,
    )  # fmt: skip
    return str(path)


def _create(spartacus: Spartacus, endorsement: str, *extra: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return spartacus(
        "create", "--title", "Fix the heating", "--instructions", "Monday 9:00",
        "--threshold", "3", "--endorsement", endorsement, *extra,
        role="creator", dev=1, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def test_grace_without_a_unit_is_refused_with_what_to_write(
    spartacus: Spartacus, endorsement: str
) -> None:
    result = _create(spartacus, endorsement, "--deadline", "7d", "--grace", "24")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: --grace 24 has no unit: write 24h for hours, or 24d, 24m, 24s (only 0 needs none)"
    )
    assert _create(spartacus, endorsement, "--deadline", "7d", "--grace", "0").exit_code == 0


def test_deadline_without_a_unit_is_refused(spartacus: Spartacus, endorsement: str) -> None:
    result = _create(spartacus, endorsement, "--deadline", "600")
    assert result.exit_code == 1
    assert "--deadline 600 has no unit: write 600h" in result.stderr


def test_expiry_without_a_unit_is_refused(
    spartacus: Spartacus, make_custodians: Callable[[int], list[CustodianRole]]
) -> None:
    (custodian,) = make_custodians(1)
    result = spartacus(
        "custodian", "endorse", "--expiry", "30",
        role=custodian.role, passphrase=custodian.passphrase, dev=None,
    )  # fmt: skip
    assert result.exit_code == 1 and "--expiry 30 has no unit" in result.stderr


@pytest.mark.parametrize("deadline", ["2m", "59m", "3599s"])
def test_a_deadline_sooner_than_the_web_allows_is_refused(
    spartacus: Spartacus, endorsement: str, deadline: str
) -> None:
    result = _create(spartacus, endorsement, "--deadline", deadline, "--grace", "0")
    assert result.exit_code == 1
    assert "minute(s) away; give people at least 1 hour to join" in result.stderr
    assert rules.MIN_DEADLINE == 3600
    ok = _create(spartacus, endorsement, "--deadline", "1h", "--grace", "0")
    assert ok.exit_code == 0, ok.stderr  # the endorsement was not used up by the refusal


def test_create_prints_the_link_and_the_organiser_receipt(
    spartacus: Spartacus, endorsement: str
) -> None:
    result = _create(
        spartacus, endorsement, "--deadline", "7d", "--site", "https://spartacus.example/"
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("campaign 1 created; deadline ")
    assert lines[1] == "link: https://spartacus.example/c/1"
    assert lines[2].startswith("organiser receipt: sp2-1-")
    assert "keep it secret" in lines[3]


def test_create_takes_the_site_from_the_environment(
    spartacus: Spartacus, make_custodians: Callable[[int], list[CustodianRole]]
) -> None:
    (custodian,) = make_custodians(1)
    path = spartacus.home(custodian.role) / "e.json"
    spartacus.ok(
        "custodian", "endorse", "--out", str(path),
        role=custodian.role, passphrase=custodian.passphrase, dev=None,
    )  # fmt: skip
    data = spartacus.ok(
        "create", "--title", "T", "--instructions", "I", "--threshold", "2", "--deadline", "7d",
        "--endorsement", str(path), role="creator", dev=1,
        env={"SPARTACUS_PUBLIC_URL": "https://site.example"},
    )  # fmt: skip
    assert data["url"] == f"https://site.example/c/{data['campaign']}"
    assert data["organiserReceipt"].startswith(f"sp2-{data['campaign']}-")


def test_create_refuses_a_site_that_is_not_a_url(spartacus: Spartacus, endorsement: str) -> None:
    result = _create(spartacus, endorsement, "--deadline", "7d", "--site", "spartacus.example")
    assert result.exit_code == 1 and "is not an http(s) URL" in result.stderr
