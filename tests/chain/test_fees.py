"""Fees: EIP-1559 under the user's caps, and the OP-stack L1 data fee, on ``anvil --optimism``.

anvil 1.7.1 in OP-stack mode has no GasPriceOracle predeploy at 0x420...0F (eth_getCode is
empty there), so a stand-in of the same interface and formula is put at that address
(``tests.chain.op_stack``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3

from spartacus.chain.artifact import load_artifact
from spartacus.chain.fees import FeeCaps, fee_model, unsigned_bytes
from spartacus.chain.sender import Sender
from spartacus.cli import cli
from spartacus.cli.context import dev_account
from spartacus.exceptions import FeeAboveCap, InsufficientFunds
from tests.chain.op_stack import running_op_anvil, stand_in_fee


@pytest.fixture(scope="module")
def op_rpc() -> Iterator[str]:
    with running_op_anvil() as rpc:
        yield rpc


@pytest.fixture
def w3(op_rpc: str) -> Web3:
    return Web3(HTTPProvider(op_rpc))


def fresh(w3: Web3, wei: int) -> LocalAccount:
    account = Account.create()
    if wei:
        Sender(w3, dev_account(0)).transfer(account.address, wei)
    return account


def test_cost_on_op_stack_includes_the_oracle_l1_fee(w3: Web3) -> None:
    assert fee_model(w3) == "op-stack"
    artifact = load_artifact()
    deployment = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    sender = Sender(w3, dev_account(0))
    tx = sender.build(
        deployment.constructor(dev_account(1).address),  # any groups address: never called
        w3.eth.get_transaction_count(dev_account(0).address),
    )
    cost = sender.estimate(tx)
    assert cost.l1_fee == stand_in_fee(unsigned_bytes(tx)) > 0
    assert cost.total == int(tx["gas"]) * int(tx["maxFeePerGas"]) + cost.l1_fee


def test_account_that_covers_gas_but_not_l1_fee_is_refused(w3: Web3) -> None:
    rich = Sender(w3, dev_account(0))
    probe = rich.priced({"to": dev_account(1).address, "value": 0, "gas": 21_000,
                         "chainId": w3.eth.chain_id, "nonce": 0})  # fmt: skip
    assert rich.last_cost is not None
    l2_part = rich.last_cost.total - rich.last_cost.l1_fee
    assert probe["maxFeePerGas"] * 21_000 == l2_part
    poor = fresh(w3, l2_part + rich.last_cost.l1_fee // 2)
    with pytest.raises(InsufficientFunds, match="L1 data fee"):
        Sender(w3, poor).transfer(dev_account(1).address, 0)
    assert w3.eth.get_transaction_count(poor.address) == 0  # nothing was sent


def test_base_fee_above_cap_sends_nothing(w3: Web3) -> None:
    base_fee = int(w3.eth.get_block("latest")["baseFeePerGas"])
    account = dev_account(2)
    before = w3.eth.get_transaction_count(account.address)
    capped = Sender(w3, account, caps=FeeCaps(max_fee=base_fee // 2))
    with pytest.raises(FeeAboveCap, match="above your cap"):
        capped.transfer(dev_account(1).address, 1)
    assert w3.eth.get_transaction_count(account.address) == before


def test_caps_bound_the_fees_sent(w3: Web3) -> None:
    base_fee = int(w3.eth.get_block("latest")["baseFeePerGas"])
    caps = FeeCaps(max_fee=base_fee + base_fee // 2, max_priority_fee=7)
    tx_hash = Sender(w3, dev_account(3), caps=caps).transfer(dev_account(1).address, 1)
    sent = w3.eth.get_transaction(tx_hash)
    assert sent["maxFeePerGas"] == caps.max_fee
    assert sent["maxPriorityFeePerGas"] == 7


def test_cli_fee_cap_refuses_with_a_clear_message(op_rpc: str, tmp_path: Path) -> None:
    result = CliRunner(mix_stderr=False).invoke(
        cli,
        ["--rpc", op_rpc, "--home", str(tmp_path), "--dev-account", "4",
         "--max-fee-gwei", "0.000000001", "fund", dev_account(1).address],
        env={"SPARTACUS_MAX_FEE_GWEI": ""},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "base fee is" in result.stderr and "above your cap of 0.000000001 gwei" in result.stderr


def test_cli_fee_cap_from_environment_is_checked(tmp_path: Path) -> None:
    result = CliRunner(mix_stderr=False).invoke(
        cli, ["--home", str(tmp_path), "status", "1"], env={"SPARTACUS_MAX_FEE_GWEI": "lots"}
    )
    assert result.exit_code == 1
    assert "--max-fee-gwei 'lots' is not a number of gwei" in result.stderr
