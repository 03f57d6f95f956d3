"""Named networks: ape's config lists ours, and ``--network`` picks the chain, checks the
node's chain id and finds the registry in the repository's deployment record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import HTTPProvider, Web3

from spartacus.chain.networks import NETWORKS
from spartacus.chain.registry import Registry
from spartacus.cli.context import Context
from tests.cli.conftest import Spartacus, anvil_rpc, running_anvil  # noqa: F401

# anvil's first development key: funded on any anvil, whatever chain id it claims.
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def test_ape_networks_match_ours() -> None:
    from ape import networks

    for net in NETWORKS.values():
        ecosystem, name = net.ape.split(":")
        ape_net = networks.get_ecosystem(ecosystem).get_network(name)
        if name != "local":
            assert ape_net.chain_id == net.chain_id, net.name
        assert ape_net.config.get("block_time") == net.block_time, net.name
        kind = ape_net.config.get("default_transaction_type")
        assert int(getattr(kind, "value", kind)) == 2, net.name


@pytest.fixture(scope="module")
def base_rpc() -> Iterator[str]:
    """An anvil that calls itself Base (chain 8453)."""
    with running_anvil("--chain-id", "8453") as rpc:
        yield rpc


@pytest.fixture
def published(base_rpc: str, tmp_path: Path) -> tuple[Path, str]:
    """A registry on "Base", recorded in a folder of deployment records like the repository's."""
    from eth_account import Account

    registry = Registry.deploy(Web3(HTTPProvider(base_rpc)), Account.from_key(DEV_KEY))
    folder = tmp_path / "deployments"
    folder.mkdir()
    record = {"registry": registry.address, "block": registry.from_block}
    (folder / "base.json").write_text(json.dumps(record))
    return folder, registry.address


def test_network_finds_the_published_registry(
    base_rpc: str, published: tuple[Path, str], tmp_path: Path
) -> None:
    folder, address = published
    ctx = Context(
        rpc=base_rpc,
        rpc_given=True,
        network=NETWORKS["base"],
        home_option=str(tmp_path / "home"),
        env={"SPARTACUS_DEPLOYMENTS": str(folder)},
    )
    assert ctx.registry.address == address
    # The command line: no --registry, and campaign 12 is asked of that registry.
    runner = Spartacus(base_rpc, "", tmp_path)
    result = runner.runner.invoke(
        _cli(),
        ["--network", "base", "--rpc", base_rpc, "--home", str(tmp_path / "h"), "status", "12"],
        env={"SPARTACUS_DEPLOYMENTS": str(folder), "SPARTACUS_REGISTRY": ""},
    )
    assert result.exit_code == 1
    assert "campaign 12" in result.stderr and "no registry" not in result.stderr


def test_network_refuses_a_node_of_another_chain(
    base_rpc: str, published: tuple[Path, str], tmp_path: Path
) -> None:
    folder, _ = published
    result = Spartacus(base_rpc, "", tmp_path).runner.invoke(
        _cli(),
        ["--network", "optimism", "--rpc", base_rpc, "--home", str(tmp_path), "status", "1"],
        env={"SPARTACUS_DEPLOYMENTS": str(folder), "SPARTACUS_REGISTRY": ""},
    )
    assert result.exit_code == 1
    assert "serves base (chain 8453), but --network optimism is chain 10" in result.stderr


def test_unknown_network_is_named(tmp_path: Path) -> None:
    result = Spartacus("", "", tmp_path).runner.invoke(
        _cli(), ["--network", "basee", "status", "1"], env={"SPARTACUS_NETWORK": ""}
    )
    assert result.exit_code == 1
    assert "unknown network 'basee'" in result.stderr and "base-sepolia" in result.stderr


def test_named_network_needs_an_rpc(tmp_path: Path) -> None:
    result = Spartacus("", "", tmp_path).runner.invoke(
        _cli(),
        ["--network", "sepolia", "--home", str(tmp_path), "status", "1"],
        env={"SPARTACUS_RPC": ""},
    )
    assert result.exit_code == 1
    assert "--network sepolia needs the URL of one of its nodes" in result.stderr


def _cli():  # type: ignore[no-untyped-def]
    from spartacus.cli import cli

    return cli


def test_watch_refuses_a_source_of_another_chain(
    anvil_rpc: str,  # noqa: F811
    base_rpc: str,
    tmp_path: Path,
) -> None:
    from spartacus.cli.context import dev_account

    registry = Registry.deploy(Web3(HTTPProvider(anvil_rpc)), dev_account(0))
    home = tmp_path / "custodian"
    env = {"SPARTACUS_PASSPHRASE": "passphrase", "SPARTACUS_REGISTRY": "", "SPARTACUS_NETWORK": ""}
    runner = Spartacus(anvil_rpc, registry.address, tmp_path).runner
    base = ["--rpc", anvil_rpc, "--registry", registry.address, "--home", str(home)]
    assert runner.invoke(_cli(), [*base, "custodian", "init"], env=env).exit_code == 0
    result = runner.invoke(
        _cli(), [*base, "watch", "--once", "--source", base_rpc, "--quorum", "2"], env=env
    )
    assert result.exit_code == 1
    assert "serves chain 8453, not 31337 like the first" in result.stderr


def test_deploy_publish_writes_the_record_later_commands_find(
    base_rpc: str, tmp_path: Path
) -> None:
    folder = tmp_path / "deployments"
    folder.mkdir()
    env = {"SPARTACUS_DEPLOYMENTS": str(folder), "SPARTACUS_PRIVATE_KEY": DEV_KEY,
           "SPARTACUS_REGISTRY": ""}  # fmt: skip
    runner = Spartacus(base_rpc, "", tmp_path).runner
    net = ["--network", "base", "--rpc", base_rpc]
    deployed = runner.invoke(
        _cli(), [*net, "--home", str(tmp_path / "a"), "deploy", "--publish", "--json"], env=env
    )
    assert deployed.exit_code == 0, deployed.stderr
    address = json.loads(deployed.stdout)["registry"]
    assert json.loads((folder / "base.json").read_text())["registry"] == address
    # Someone else, with an empty home folder, finds it through the record.
    ctx = Context(rpc=base_rpc, rpc_given=True, network=NETWORKS["base"],
                  home_option=str(tmp_path / "b"), env=env)  # fmt: skip
    assert ctx.registry.address == address


def test_deploy_publish_needs_a_network(tmp_path: Path) -> None:
    result = Spartacus("", "", tmp_path).runner.invoke(
        _cli(), ["--home", str(tmp_path), "deploy", "--publish"], env={"SPARTACUS_NETWORK": ""}
    )
    assert result.exit_code == 1 and "add --network NAME" in result.stderr
