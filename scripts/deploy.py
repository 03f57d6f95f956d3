"""``ape run deploy``: deploy the Spartacus registry from an ape account.

The bytecode is the artifact shipped in the package (the same one `spartacus deploy`
uses); the address is recorded under the Spartacus home folder so that the `spartacus`
command finds it without --registry.
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option

from spartacus.ape import registry_container
from spartacus.chain.deployments import record_deployment
from spartacus.files import resolve_home


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--home", envvar="SPARTACUS_HOME", help="Spartacus home folder to record in.")
@click.option(
    "--groups",
    required=True,
    help="Address of the SpartacusGroups contract gated campaigns use (`spartacus group deploy`).",
)
def cli(account, home, groups, provider):  # type: ignore[no-untyped-def]
    """Deploy the registry and record its address for this chain."""
    registry = account.deploy(registry_container(), groups)
    block = registry.creation_metadata.block if registry.creation_metadata else 0
    record_deployment(resolve_home(home), int(provider.web3.eth.chain_id), registry.address, block)
    click.echo(registry.address)
