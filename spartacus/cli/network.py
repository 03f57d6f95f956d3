"""Chain-level commands: run a local ``node``, ``deploy`` a registry, ``fund`` an account,
``verify-source`` for block explorers."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import click
from web3 import Web3

from ..chain.anvil import anvil_command
from ..chain.deployments import publish_deployment
from ..chain.networks import explorer_for
from ..chain.registry import Registry
from ..chain.sender import transfer
from ..chain.source import write_verification
from ..exceptions import UsageError
from ..protocol import is_valid_address
from .context import Context
from .options import json_option, output, pass_context


@click.command()
@click.option(
    "--port",
    type=int,
    help="Port to listen on [default: the port of --rpc / SPARTACUS_RPC, where the other "
    "commands look for the chain: 8545].",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--block-time", type=int, help="Mine a block every N seconds (default: per tx).")
@json_option
@pass_context
def node(ctx: Context, port: int | None, host: str, block_time: int | None) -> None:
    """Run a local anvil chain (from node_modules, or anvil on PATH) until Ctrl-C."""
    if port is None:
        port = urlsplit(ctx.rpc).port or 8545
    args = anvil_command(port, host=host)
    if block_time:
        args += ["--block-time", str(block_time)]
    os.execv(args[0], args)


@click.command()
@click.option(
    "--publish",
    is_flag=True,
    help="With --network: also write the repository's record "
    "(spartacus/deployments/<network>.json), to commit, so everyone finds this registry.",
)
@json_option
@pass_context
def deploy(ctx: Context, publish: bool) -> None:
    """Deploy a registry (and the membership groups contract its gated campaigns use, unless
    --groups names one), record their addresses for this chain, and print the registry's."""
    if publish and ctx.network is None:
        raise UsageError("--publish records the registry for a named network: add --network NAME")
    groups = ctx.groups.address if ctx.groups_address else None
    registry = Registry.deploy(ctx.w3, ctx.sender, ctx.caps, groups=groups)
    ctx.record_deployment(registry)
    ctx.record_groups(registry.groups)
    data: dict[str, object] = {
        "registry": registry.address,
        "groups": registry.groups_address,
        "chainId": registry.chain_id,
        "block": registry.from_block,
    }
    text = str(registry.address)
    if publish and ctx.network is not None:
        path = publish_deployment(
            ctx.network, registry.address, registry.from_block, ctx.deployments
        )
        data["published"] = str(path)
        text += f"\nrecorded in {path}: commit it"
    output(ctx, data, text)


@click.command()
@click.argument("address")
@click.option("--eth", "amount", default="1", show_default=True, help="Amount of ether to send.")
@json_option
@pass_context
def fund(ctx: Context, address: str, amount: str) -> None:
    """Send ether from the paying account to ADDRESS (e.g. a custodian's account)."""
    if not is_valid_address(address):
        raise UsageError(f"{address!r} is not an address (or its checksum is wrong: copy it again)")
    try:
        value = Web3.to_wei(amount, "ether")
    except (ValueError, ArithmeticError) as exc:
        raise UsageError(f"--eth {amount!r} is not an amount of ether") from exc
    to = Web3.to_checksum_address(address)
    tx_hash = transfer(ctx.w3, ctx.sender, to, value, ctx.caps)
    output(ctx, {"to": to, "wei": value, "tx": tx_hash}, f"sent {amount} ETH to {to}")


@click.command("verify-source")
@click.option(
    "--address", help="The registry's address [default: --registry, or the recorded one]."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Folder to write into [default: verify-<network or chain id>].",
)
@json_option
@pass_context
def verify_source(ctx: Context, address: str | None, out: str | None) -> None:
    """Write what block explorers need to verify the registry's source.

    Checks that the deployed code is the registry this package ships, then writes the solc
    standard-JSON input (Etherscan, Blockscout: "Solidity (Standard-Json-Input)"), the
    metadata (Sourcify) and verification.json (compiler version, contract name, no
    constructor arguments). Use with --network NAME --rpc URL.
    """
    if address is not None:
        ctx.registry_address = address
    registry = ctx.registry
    name = ctx.network.name if ctx.network else str(registry.chain_id)
    folder = Path(out) if out else Path(f"verify-{name}")
    summary = write_verification(registry, folder)
    explorer = explorer_for(registry.chain_id)
    where = f"; verify at {explorer}/verifyContract" if explorer else ""
    output(
        ctx,
        {**summary, "folder": str(folder)},
        f"wrote {folder}/standard-input.json and metadata.json for {registry.address} "
        f"({summary['contract']}, solc {summary['compilerVersion']}){where}",
    )
