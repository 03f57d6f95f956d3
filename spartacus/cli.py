"""The ``spartacus`` command: one group, global settings, and the chain-level commands.

Campaign commands live in ``spartacus.commands.campaign``, custodian commands in
``spartacus.commands.custodian``. Every command takes ``--json``; every error is one line
on stderr (and ``{"error": ...}`` on stdout with ``--json``) and a non-zero exit.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import requests
from web3 import Web3
from web3.exceptions import Web3Exception

from .chain import Registry, transfer
from .context import DEFAULT_RPC, Context, jsonable
from .exceptions import SpartacusError, UsageError

F = TypeVar("F", bound=Callable[..., Any])


class SpartacusGroup(click.Group):
    """Turns expected failures into one clear line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpartacusError as exc:
            fail(ctx, str(exc))
        except requests.exceptions.RequestException as exc:
            fail(ctx, f"the chain's RPC endpoint failed: {type(exc).__name__}: {exc}")
        except Web3Exception as exc:
            fail(ctx, f"the chain refused the request: {exc}")


def fail(ctx: click.Context, message: str) -> None:
    obj = ctx.find_object(Context)
    wants_json = bool(obj and obj.as_json) or "--json" in sys.argv
    if wants_json:
        click.echo(json.dumps({"error": message}))
    click.echo(f"error: {message}", err=True)
    ctx.exit(1)


def json_option(fn: F) -> F:
    """Adds ``--json`` to a command."""

    def callback(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value:
            ctx.ensure_object(Context).as_json = True
        return value

    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        expose_value=False,
        callback=callback,
        is_eager=True,
        help="Print machine-readable JSON.",
    )(fn)


def output(ctx: Context, data: dict[str, Any], text: str) -> None:
    """Print ``data`` as JSON with --json, else ``text`` for people."""
    click.echo(json.dumps(jsonable(data), sort_keys=True) if ctx.as_json else text)


pass_context = click.make_pass_decorator(Context)


@click.group(cls=SpartacusGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--rpc",
    envvar="SPARTACUS_RPC",
    default=DEFAULT_RPC,
    show_default=True,
    help="JSON-RPC URL of the chain [env SPARTACUS_RPC].",
)
@click.option(
    "--registry",
    envvar="SPARTACUS_REGISTRY",
    help="Registry address [env SPARTACUS_REGISTRY; default: recorded by `deploy`].",
)
@click.option(
    "--home",
    envvar="SPARTACUS_HOME",
    help="Folder for keystores and receipts [env SPARTACUS_HOME; default ~/.spartacus].",
)
@click.option(
    "--dev-account",
    type=int,
    help="Pay with anvil's N-th development account (local chains only); "
    "otherwise SPARTACUS_PRIVATE_KEY pays.",
)
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False),
    help="File holding the keystore passphrase [or env SPARTACUS_PASSPHRASE].",
)
@click.version_option(package_name="spartacus")
@click.pass_context
def cli(
    ctx: click.Context,
    rpc: str,
    registry: str | None,
    home: str | None,
    dev_account: int | None,
    passphrase_file: str | None,
) -> None:
    """Spartacus: pledge anonymously; everyone is revealed together once N have joined."""
    obj = ctx.ensure_object(Context)
    obj.rpc = rpc
    obj.registry_address = registry
    obj.home_option = home
    obj.dev_account = dev_account
    obj.passphrase_file = passphrase_file


# ---------------------------------------------------------------------- chain commands


def anvil_path() -> str:
    """The anvil binary from this checkout's node_modules, else from PATH."""
    here = Path(__file__).resolve().parent.parent / "node_modules" / ".bin" / "anvil"
    if here.exists():
        return str(here)
    found = shutil.which("anvil")
    if not found:
        raise UsageError("anvil not found: run `npm ci` in the repository (or `make install`)")
    return found


@cli.command()
@click.option("--port", default=8545, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--block-time", type=int, help="Mine a block every N seconds (default: per tx).")
@json_option
def node(port: int, host: str, block_time: int | None) -> None:
    """Run a local anvil chain (from node_modules) until Ctrl-C."""
    args = [anvil_path(), "--host", host, "--port", str(port)]
    if block_time:
        args += ["--block-time", str(block_time)]
    os.execv(args[0], args)


@cli.command()
@json_option
@pass_context
def deploy(ctx: Context) -> None:
    """Deploy a registry, record its address for this chain, and print it."""
    registry = Registry.deploy(ctx.w3, ctx.sender)
    ctx.record_deployment(registry)
    output(
        ctx,
        {"registry": registry.address, "chainId": registry.chain_id, "block": registry.from_block},
        registry.address,
    )


@cli.command()
@click.argument("address")
@click.option("--eth", "amount", default="1", show_default=True, help="Amount of ether to send.")
@json_option
@pass_context
def fund(ctx: Context, address: str, amount: str) -> None:
    """Send ether from the paying account to ADDRESS (e.g. a custodian's account)."""
    if not Web3.is_address(address):
        raise UsageError(f"{address!r} is not an address")
    try:
        value = Web3.to_wei(amount, "ether")
    except (ValueError, ArithmeticError) as exc:
        raise UsageError(f"--eth {amount!r} is not an amount of ether") from exc
    to = Web3.to_checksum_address(address)
    tx_hash = transfer(ctx.w3, ctx.sender, to, value)
    output(ctx, {"to": to, "wei": value, "tx": tx_hash}, f"sent {amount} ETH to {to}")


def main() -> None:
    cli(prog_name="spartacus")


# Importing the command modules registers them on `cli` (also for tests that import cli).
from .commands import campaign as _campaign  # noqa: E402,F401
from .commands import custodian as _custodian  # noqa: E402,F401
from .commands import watch as _watch  # noqa: E402,F401
from .commands import web as _web  # noqa: E402,F401
