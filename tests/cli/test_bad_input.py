"""Bad input gives one clear line on stderr and a non-zero exit, and changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account
from web3 import Web3

from spartacus import protocol
from spartacus.chain.registry import Registry
from spartacus.cli import cli
from spartacus.cli.context import dev_account
from spartacus.exceptions import ContractRevert

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


def _create(
    spartacus: Spartacus, endorsement: str, *extra: str, threshold: str = "3", deadline: str = "7d"
):
    return spartacus(
        "create", "--title", "T", "--instructions", "I", "--threshold", threshold,
        "--deadline", deadline, "--endorsement", endorsement, *extra,
        role="creator", dev=1,
    )  # fmt: skip


@pytest.mark.parametrize("threshold", ["0", "1"])
def test_create_with_threshold_below_two_is_refused(
    spartacus: Spartacus, endorsement: str, threshold: str
) -> None:
    result = _create(spartacus, endorsement, threshold=threshold)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: --threshold must be at least 2 (got {threshold})"


def test_create_with_past_deadline_is_refused(spartacus: Spartacus, endorsement: str) -> None:
    result = _create(spartacus, endorsement, deadline="2020-01-01")
    assert result.exit_code == 1
    assert "the deadline 2020-01-01T00:00:00Z is not in the future" in result.stderr


def test_create_with_unparseable_deadline_says_what_to_write(
    spartacus: Spartacus, endorsement: str
) -> None:
    result = _create(spartacus, endorsement, deadline="next tuesday")
    assert result.exit_code == 1 and "use a duration such as 7d" in result.stderr


def test_create_with_reused_endorsement_is_refused_by_the_registry(
    spartacus: Spartacus, endorsement: str
) -> None:
    assert _create(spartacus, endorsement).exit_code == 0
    again = _create(spartacus, endorsement, "--json")
    assert again.exit_code == 1
    assert "already serves a campaign; ask the custodian for a fresh endorsement" in again.stderr
    assert "already serves a campaign" in json.loads(again.stdout)["error"]


def test_create_with_custodian_threshold_above_n_is_refused(
    spartacus: Spartacus, endorsement: str
) -> None:
    result = _create(spartacus, endorsement, "--custodian-threshold", "2")
    assert result.exit_code == 1
    assert "--custodian-threshold must be between 1 and 1 (got 2)" in result.stderr


def test_pledge_with_oversize_contact_is_refused_before_sending(
    spartacus: Spartacus, endorsement: str
) -> None:
    assert _create(spartacus, endorsement).exit_code == 0
    result = spartacus("pledge", "1", "--name", "A", "--contact", "x" * 300, role="alice", dev=2)
    assert result.exit_code == 1 and "bytes" in result.stderr
    assert spartacus.ok("status", "1")["active"] == 0
    assert not (spartacus.home("alice") / "receipts").exists()


def test_commands_on_unknown_campaign_say_it_does_not_exist(
    spartacus: Spartacus, endorsement: str
) -> None:
    for args in (
        ["status", "7"],
        ["pledge", "7", "--name", "A", "--contact", "a"],
        ["verify", "7"],
        ["roster", "7"],
    ):
        result = spartacus(*args, role="alice", dev=2)
        assert result.exit_code == 1, args
        assert result.stderr.strip() == "error: campaign 7 does not exist on this registry", args


def test_double_pledge_from_one_account_is_refused_with_reason(
    spartacus: Spartacus, endorsement: str, w3: Web3
) -> None:
    assert _create(spartacus, endorsement).exit_code == 0
    registry = Registry(w3, spartacus.registry)
    history = registry.history(1)
    keys = protocol.derive_keys(protocol.new_secret())
    custodian_keys = [c.campaign_key for c in history.custodians]
    sealed = protocol.seal_pledge(
        registry.deployment, 1, keys, protocol.Contact("A", "a@x"), custodian_keys, 1
    )
    account = Account.from_key(keys.account_key)
    relayer = dev_account(5)
    registry.pledge_with_sig(
        relayer, 1, account.address, sealed, registry.sign_pledge(account, 1, sealed)
    )
    with pytest.raises(ContractRevert) as caught:
        registry.pledge_with_sig(
            relayer, 1, account.address, sealed, registry.sign_pledge(account, 1, sealed)
        )
    assert caught.value.name == "AlreadyPledged"
    assert str(caught.value) == f"{account.address} already has an active pledge in campaign 1"


def test_withdraw_without_receipt_says_what_to_pass(spartacus: Spartacus, endorsement: str) -> None:
    assert _create(spartacus, endorsement).exit_code == 0
    result = spartacus("withdraw", "1", role="stranger", dev=2)
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: no pledge receipt for campaign 1; pass --receipt CODE"


def test_mistyped_receipt_code_is_refused(spartacus: Spartacus, endorsement: str) -> None:
    assert _create(spartacus, endorsement).exit_code == 0
    code = spartacus.ok("pledge", "1", "--name", "A", "--contact", "a@x", role="alice", dev=2)[
        "receipt"
    ]
    broken = code[:-3] + ("AAA" if not code.endswith("AAA") else "BBB")
    result = spartacus("withdraw", "1", "--receipt", broken, role="alice", dev=2)
    assert result.exit_code == 1 and result.stderr.startswith("error: ")
    assert spartacus.ok("status", "1")["active"] == 1


def test_custodian_without_passphrase_is_told_how_to_give_one(spartacus: Spartacus) -> None:
    result = spartacus("custodian", "init", role="c", dev=None)
    assert result.exit_code == 1
    assert "set SPARTACUS_PASSPHRASE or pass --passphrase-file" in result.stderr


def test_unreachable_chain_is_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from spartacus.cli import main; main()",
         "--rpc", "http://127.0.0.1:9", "--home", str(tmp_path), "status", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach the chain at http://127.0.0.1:9")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["watch", "--source", "http://127.0.0.1:9", "--source", "http://127.0.0.1:10",
          "--quorum", "3"], {},
         "--quorum must be between 1 and the number of sources (2)"),
        (["watch", "--quorum", "3"], {"SPARTACUS_RPC": "http://127.0.0.1:9, http://127.0.0.1:10"},
         "--quorum must be between 1 and the number of sources (2)"),
        (["watch", "--confirm-tag", "finalized", "--confirmations", "2"], {},
         "--confirmations counts blocks below the latest: use --confirm-tag latest"),
        (["watch", "--clock-margin", "-1"], {}, "--clock-margin must be 0 or more seconds"),
    ],
    ids=["quorum-above-sources", "comma-separated-rpc", "depth-with-finalized", "negative-margin"],
)  # fmt: skip
def test_watch_with_an_impossible_quorum_or_depth_is_refused(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = CliRunner(mix_stderr=False).invoke(
        cli, ["--home", str(tmp_path), *args], env={"SPARTACUS_PASSPHRASE": "x", **env}
    )
    assert result.exit_code == 1 and result.stderr == f"error: {message}\n"


def test_client_batch_reports_each_item_and_expired_signatures(
    spartacus: Spartacus, endorsement: str, w3: Web3
) -> None:
    """Registry.pledge_with_sig_batch: one transaction; each item's index, or the custodian
    error (by name) it was refused with, in order."""
    assert _create(spartacus, endorsement).exit_code == 0
    registry = Registry(w3, spartacus.registry)
    keys_of = [c.campaign_key for c in registry.history(1).custodians]
    items = []
    for number in range(3):
        keys = protocol.derive_keys(protocol.new_secret())
        contact = protocol.Contact(f"M{number}", "m@x")
        sealed = protocol.seal_pledge(registry.deployment, 1, keys, contact, keys_of, 1)
        account = Account.from_key(keys.account_key)
        until = registry.latest_timestamp() - 1 if number == 1 else None
        items.append(
            (
                1,
                account.address,
                sealed,
                registry.sign_pledge(account, 1, sealed, valid_until=until),
            )
        )
    items.append(items[0])  # the same signed pledge twice

    outcomes = registry.pledge_with_sig_batch(dev_account(5), items)

    assert [(o.index, o.refused) for o in outcomes] == [
        (1, None),
        (None, "SignatureExpired"),
        (2, None),
        (None, "AlreadyPledged"),
    ]
    assert registry.info(1).active == 2


def test_fund_to_a_mistyped_checksummed_address_sends_nothing(spartacus: Spartacus) -> None:
    """One letter's case changed in a checksummed address: eth_utils would accept it as
    another spelling of some address; the ether must not leave."""
    w3 = Web3(Web3.HTTPProvider(spartacus.rpc))
    to = dev_account(5).address
    typo = to[:2] + _flip_one_letter(to[2:])
    balance = w3.eth.get_balance(to)
    result = spartacus("fund", typo, "--eth", "1", dev=2)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: {typo!r} is not an address (or its checksum is wrong: copy it again)"
    )
    assert w3.eth.get_balance(to) == balance


def _flip_one_letter(digits: str) -> str:
    i = next(i for i, c in enumerate(digits) if c.isalpha())
    return digits[:i] + digits[i].swapcase() + digits[i + 1 :]
