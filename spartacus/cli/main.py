"""The ``spartacus`` command: one group that builds the context and adds every command.

Each command module defines its commands and imports nothing from here: network
(node, deploy, fund), campaign, pledge, custodian, group, watch, web, site (check-site,
export-site). Every command takes ``--json``; every error is one line on stderr (and
``{"error": ...}`` on stdout with ``--json``) and a non-zero exit.
"""

from __future__ import annotations

from typing import Any

import click
import requests
from web3.exceptions import Web3Exception

from ..chain.fees import FeeCaps
from ..chain.networks import NETWORKS, network_named
from ..exceptions import SpartacusError
from . import campaign, create, custodian, group, network, pledge, site, watch, web
from .context import DEFAULT_RPC, Context
from .options import fail


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


@click.group(cls=SpartacusGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--rpc",
    envvar="SPARTACUS_RPC",
    default=DEFAULT_RPC,
    show_default=True,
    help="JSON-RPC URL of the chain [env SPARTACUS_RPC]. Several, comma-separated, are the "
    "sources of `watch`; other commands use the first.",
)
@click.option(
    "--network",
    envvar="SPARTACUS_NETWORK",
    metavar="NAME",
    help=f"Named network ({', '.join(NETWORKS)}) [env SPARTACUS_NETWORK]: the --rpc node must "
    "serve its chain, and its registry is found in the repository's deployment record.",
)
@click.option(
    "--max-fee-gwei",
    envvar="SPARTACUS_MAX_FEE_GWEI",
    metavar="GWEI",
    help="Most a transaction may pay per gas [env SPARTACUS_MAX_FEE_GWEI]; nothing is sent "
    "while the network's base fee is above it.",
)
@click.option(
    "--max-priority-fee-gwei",
    envvar="SPARTACUS_MAX_PRIORITY_FEE_GWEI",
    metavar="GWEI",
    help="Most tip per gas to the block producer [env SPARTACUS_MAX_PRIORITY_FEE_GWEI].",
)
@click.option(
    "--registry",
    envvar="SPARTACUS_REGISTRY",
    help="Registry address [env SPARTACUS_REGISTRY; default: recorded by `deploy`].",
)
@click.option(
    "--groups",
    envvar="SPARTACUS_GROUPS",
    help="Membership groups contract [env SPARTACUS_GROUPS; default: recorded by `group deploy`].",
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
@click.option(
    "--custodian-directory",
    envvar="SPARTACUS_CUSTODIAN_DIRECTORY",
    type=click.Path(dir_okay=False),
    help="JSON file naming known custodians by account [env SPARTACUS_CUSTODIAN_DIRECTORY]; "
    "`status` and `pledge` show those names, `serve` publishes them (docs/custodian.md).",
)
@click.version_option(package_name="spartacus")
@click.pass_context
def cli(
    ctx: click.Context,
    rpc: str,
    network: str | None,
    max_fee_gwei: str | None,
    max_priority_fee_gwei: str | None,
    registry: str | None,
    groups: str | None,
    home: str | None,
    dev_account: int | None,
    passphrase_file: str | None,
    custodian_directory: str | None,
) -> None:
    """Spartacus: pledge anonymously; everyone is revealed together once N have joined."""
    obj = ctx.ensure_object(Context)
    obj.rpcs = [url.strip() for url in rpc.split(",") if url.strip()] or [DEFAULT_RPC]
    obj.rpc = obj.rpcs[0]
    obj.rpc_given = ctx.get_parameter_source("rpc") is not click.core.ParameterSource.DEFAULT
    obj.registry_address = registry
    obj.groups_address = groups
    obj.network = network_named(network) if network else None
    obj.caps = FeeCaps.from_gwei(max_fee_gwei, max_priority_fee_gwei)
    obj.home_option = home
    obj.dev_account = dev_account
    obj.passphrase_file = passphrase_file
    obj.directory_path = custodian_directory
    if custodian_directory:
        _ = obj.directory  # a bad file is refused before any command runs


def main() -> None:
    cli(prog_name="spartacus")


for _command in (
    network.node,
    network.deploy,
    network.fund,
    network.verify_source,
    create.create,
    campaign.status,
    campaign.verify,
    campaign.finalize,
    campaign.expire,
    campaign.admit,
    pledge.pledge,
    pledge.withdraw,
    pledge.roster,
    custodian.custodian,
    group.group,
    watch.watch,
    web.serve,
    web.moderate,
    site.check_site_command,
    site.export_site_command,
):
    cli.add_command(_command)
