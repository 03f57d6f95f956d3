"""The custodian directory file: good files load, bad ones say what is wrong and where."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spartacus.chain.directory import UNKNOWN, custodian_label, load_directory, parse_directory
from spartacus.exceptions import DirectoryError

LEGAL_AID = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"
OTHER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def entry(**fields: Any) -> dict[str, Any]:
    return {"name": "Legal Aid Collective", "account": LEGAL_AID.lower(), **fields}


def test_load_directory_reads_entries_and_finds_by_account(tmp_path: Path) -> None:
    path = tmp_path / "custodians.json"
    path.write_text(
        json.dumps(
            {
                "custodians": [
                    entry(url="https://keys.legalaid.example/", contact="keys@legalaid.example"),
                    {"name": "Our own", "account": OTHER, "operator": True},
                ]
            }
        )
    )
    directory = load_directory(path)
    legal = directory.find(LEGAL_AID.upper().replace("0X", "0x"))
    assert legal is not None and legal.account == LEGAL_AID  # checksummed
    assert legal.url == "https://keys.legalaid.example" and not legal.operator
    assert directory.find(OTHER) is not None and directory.find(OTHER).operator  # type: ignore[union-attr]
    assert directory.as_json()[0]["contact"] == "keys@legalaid.example"
    assert load_directory(None).entries == ()


def test_labels_say_listed_unknown_and_operator() -> None:
    directory = parse_directory({"custodians": [entry()]})
    assert custodian_label(LEGAL_AID, directory)["label"] == (
        "Legal Aid Collective (listed by this site)"
    )
    assert custodian_label(OTHER, directory)["label"] == UNKNOWN
    assert custodian_label(OTHER, directory, operator_account=OTHER)["label"] == (
        f"{UNKNOWN}; run by this site's operator"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], 'must be a JSON object with a "custodians" list'),
        ({"custodians": {}}, 'must be a JSON object with a "custodians" list'),
        ({"custodians": [], "extra": 1}, "unknown fields: extra"),
        ({"custodians": ["x"]}, "entry 1 must be a JSON object"),
        ({"custodians": [entry(name="")]}, "entry 1: name must be a non-empty string"),
        ({"custodians": [entry(account="0x1234")]}, "account must be the custodian's 0x"),
        ({"custodians": [entry(account=LEGAL_AID.replace("E", "e", 1))]}, "correct checksum"),
        ({"custodians": [entry(url="ftp://x")]}, "url must be an http(s) URL"),
        ({"custodians": [entry(operator="yes")]}, "operator must be true or false"),
        ({"custodians": [entry(fingerprint="ab")]}, "unknown fields: fingerprint"),
        ({"custodians": [entry(name="a\nb")]}, "control characters"),
        ({"custodians": [entry(), entry(name="Twin")]}, "lists account"),
        ({"custodians": [entry(), entry(account=OTHER)]}, "two custodians named"),
    ],
)
def test_parse_directory_bad_data_names_the_problem(data: Any, message: str) -> None:
    with pytest.raises(DirectoryError, match=None) as caught:
        parse_directory(data, "the custodian directory x.json")
    assert message in str(caught.value)
    assert "x.json" in str(caught.value)


def test_load_directory_bad_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match="does not exist"):
        load_directory(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"custodians": [')
    with pytest.raises(DirectoryError, match=r"broken.json is not valid JSON"):
        load_directory(broken)
