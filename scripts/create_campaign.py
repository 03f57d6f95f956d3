"""``ape run create_campaign``: create a campaign from an ape account.

A thin wrapper over ``spartacus.creation``: the same checks and the same sealing as
`spartacus create`; the organiser's instructions secret is kept under the home folder
before the transaction is sent.
"""

from __future__ import annotations

import click
from ape.cli import ConnectedProviderCommand, account_option
from ape.contracts import ContractInstance

from spartacus.ape import registry_container
from spartacus.chain.creation import load_endorsement, prepare_campaign
from spartacus.chain.deployments import recorded_deployment
from spartacus.cli.context import parse_deadline, parse_duration
from spartacus.cli.receipts import ReceiptBook
from spartacus.exceptions import SpartacusError
from spartacus.files import resolve_home
from spartacus.protocol import Deployment


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--registry", envvar="SPARTACUS_REGISTRY", help="Registry address.")
@click.option("--home", envvar="SPARTACUS_HOME", help="Spartacus home folder.")
@click.option("--title", required=True)
@click.option("--description", default="")
@click.option("--plan", default="")
@click.option("--instructions", required=True, help="Sealed next steps for members.")
@click.option("--threshold", type=int, required=True)
@click.option("--deadline", required=True, help="A duration such as 7d, or an ISO date.")
@click.option("--grace", default="0")
@click.option("--endorsement", "endorsements", multiple=True, required=True)
@click.option("--custodian-threshold", type=int, default=1)
@click.option("--public-roster", is_flag=True)
def cli(  # type: ignore[no-untyped-def]
    account, provider, registry, home, title, description, plan, instructions, threshold,
    deadline, grace, endorsements, custodian_threshold, public_roster,
):  # fmt: skip
    """Create a campaign and print its id."""
    try:
        create(
            account,
            provider,
            registry,
            home,
            title,
            description,
            plan,
            instructions,
            threshold,
            deadline,
            grace,
            endorsements,
            custodian_threshold,
            public_roster,
        )
    except SpartacusError as exc:
        raise click.ClickException(str(exc)) from None


def create(  # type: ignore[no-untyped-def]
    account, provider, registry, home, title, description, plan, instructions, threshold,
    deadline, grace, endorsements, custodian_threshold, public_roster,
):  # fmt: skip
    folder = resolve_home(home)
    chain_id = int(provider.web3.eth.chain_id)
    if registry is None:
        recorded = recorded_deployment(folder, chain_id)
        if recorded is None:
            raise click.UsageError("no registry recorded for this chain: pass --registry")
        registry = recorded[0]
    now = provider.get_block("latest").timestamp
    prepared = prepare_campaign(
        deployment=Deployment(chain_id, registry),
        title=title,
        description=description,
        plan=plan,
        instructions=instructions,
        threshold=threshold,
        deadline=parse_deadline(deadline, now),
        grace=parse_duration(grace, "--grace"),
        endorsements=[
            load_endorsement(path, i + 1, chain_id, registry, now)
            for i, path in enumerate(endorsements)
        ],
        custodian_threshold=custodian_threshold,
        public_roster=public_roster,
        now=now,
    )
    book = ReceiptBook(folder, chain_id, registry)
    pending = book.save_organiser_pending(prepared.secret)
    contract = ContractInstance(registry, registry_container().contract_type)
    receipt = contract.createCampaign(
        prepared.terms,
        prepared.instructions.as_abi(),
        [e.as_abi() for e in prepared.endorsements],
        sender=account,
    )
    campaign_id = contract.CampaignCreated.from_receipt(receipt)[0].campaignId
    book.save_organiser(campaign_id, prepared.secret, pending)
    click.echo(campaign_id)
