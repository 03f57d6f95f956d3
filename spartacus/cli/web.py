"""Commands for web operators: ``spartacus serve`` and ``spartacus moderate``."""

from __future__ import annotations

import click

from ..chain.records import iso
from ..exceptions import UsageError
from ..web.moderation import ModerationStore, printable
from .context import Context
from .options import json_option, output, pass_context

SPARE_FILES = 512  # open files besides the live streams: page requests, the node, logs


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--threads",
    type=int,
    default=64,
    show_default=True,
    help="Worker threads for pages and API calls (live-count streams need none).",
)
@click.option(
    "--max-viewers",
    type=int,
    envvar="SPARTACUS_MAX_VIEWERS",
    default=12_000,
    show_default=True,
    help="Live-count streams at once (one open file each); past it pages poll every 5 s.",
)
@click.option(
    "--custodian",
    "custodians",
    multiple=True,
    metavar="[NAME=]URL",
    help="A custodian daemon offered to creators (repeat) [env SPARTACUS_CUSTODIANS, commas].",
)
@click.option(
    "--relayer/--no-relayer",
    default=True,
    show_default=True,
    help="Relay pledges, paying gas from SPARTACUS_RELAYER_KEY (or --dev-account locally).",
)
@click.option("--public-url", envvar="SPARTACUS_PUBLIC_URL", help="Base URL for shared links.")
@click.option("--explorer", envvar="SPARTACUS_EXPLORER", help="Block explorer base URL.")
@click.option(
    "--trusted-proxy",
    envvar="SPARTACUS_TRUSTED_PROXY",
    metavar="ADDRESS",
    help="The TLS proxy in front (e.g. 127.0.0.1): its X-Forwarded-For names the visitor, "
    "for the per-visitor limit on custodian key requests (kept in memory, never logged).",
)
@pass_context
def serve(
    ctx: Context,
    host: str,
    port: int,
    threads: int,
    max_viewers: int,
    custodians: tuple[str, ...],
    relayer: bool,
    public_url: str | None,
    explorer: str | None,
    trusted_proxy: str | None,
) -> None:
    """Run the web app (campaign pages, live counts, relayer) under uvicorn.

    Live-count streams wait on its event loop (thousands at once, no thread each); pages
    and the API run in a pool of --threads worker threads.

    Refuses to start without the pages' script (built by `make install`): without it no
    page could seal a pledge.
    """
    from ..web.bundle import bundle_problem, package_static_folder

    problem = bundle_problem(package_static_folder())
    if problem:
        raise UsageError(problem)

    from ..web import create_app
    from ..web.config import from_environment
    from ..web.config import public_url as public_base

    max_viewers = _open_files_for(max_viewers)
    config = from_environment(ctx.env)
    config.update(
        RPC=ctx.rpc,
        HOME=str(ctx.home),
        REGISTRY=ctx.registry.address,
        MAX_VIEWERS=max_viewers,
        PUBLIC_URL=public_url,
        EXPLORER=explorer,
        FEE_CAPS=ctx.caps,
    )
    if custodians:
        config["CUSTODIANS"] = ",".join(custodians)
    public_base(config, ctx.chain_id)  # off a local chain PUBLIC_URL must be set: say so now
    if ctx.groups_address:  # spartacus --groups ADDR serve: the group pages' contract
        config["GROUPS"] = ctx.groups_address
    if ctx.directory_path:  # spartacus --custodian-directory FILE serve
        config["CUSTODIAN_DIRECTORY"] = ctx.directory_path
    if ctx.chain_id in (31337, 1337):
        config["ALLOW_PRIVATE_CUSTODIAN_URLS"] = True  # a local chain's daemons are local too
    if not relayer:
        config["RELAYER_KEY"] = None
    elif ctx.dev_account is not None or not config["RELAYER_KEY"]:
        try:
            config["RELAYER_KEY"] = ctx.sender
        except UsageError as exc:
            raise UsageError(
                f"{exc}; set SPARTACUS_RELAYER_KEY for the relayer's hot wallet, or pass "
                "--no-relayer"
            ) from None
    app = create_app(config)
    shared = app.extensions["spartacus"]
    shared.start()
    relay = shared.relayer
    click.echo(
        f"Spartacus web app on http://{host}:{port}/ (registry {shared.registry.address}, "
        f"chain {shared.registry.chain_id}, relayer {relay.address if relay else 'off'})",
        err=True,
    )
    from ..web.server import serve as run_server

    run_server(app, host=host, port=port, threads=threads, trusted_proxy=trusted_proxy)


def _open_files_for(max_viewers: int) -> int:
    """Raise this process's open-file limit for ``max_viewers`` streams (one socket each,
    plus room for everything else); fewer viewers, said, if the hard limit is lower."""
    import resource

    needed = max_viewers + SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        soft = raised
    if soft != resource.RLIM_INFINITY and soft < needed:
        fewer = max(1, soft - SPARE_FILES)
        click.echo(
            f"the open-file limit ({soft}, `ulimit -n`) allows {fewer} live viewers, not "
            f"{max_viewers}; raise it (LimitNOFILE= under systemd) for more",
            err=True,
        )
        return fewer
    return max_viewers


@click.group()
def moderate() -> None:
    """Hide campaigns from this site's pages and relayer, and read reports.

    The chain record cannot be removed; hiding only affects this web front. The store is
    under the home folder (web/moderation.sqlite3), shared with `spartacus serve`.
    """


def _store(ctx: Context) -> ModerationStore:
    return ModerationStore(ctx.home / "web")


@moderate.command("hide")
@click.argument("campaign_id", type=int)
@click.option("--reason", required=True, help="Shown on the campaign page instead of the form.")
@json_option
@pass_context
def hide(ctx: Context, campaign_id: int, reason: str) -> None:
    """Hide campaign CAMPAIGN_ID: a notice replaces its pledge form; listings skip it."""
    hidden = _store(ctx).hide(campaign_id, reason)
    output(
        ctx,
        {"campaignId": campaign_id, "reason": hidden.reason, "at": hidden.at},
        f"campaign {campaign_id} is hidden on this site: {hidden.reason}",
    )


@moderate.command("unhide")
@click.argument("campaign_id", type=int)
@json_option
@pass_context
def unhide(ctx: Context, campaign_id: int) -> None:
    """Show campaign CAMPAIGN_ID again."""
    if not _store(ctx).unhide(campaign_id):
        raise UsageError(f"campaign {campaign_id} is not hidden")
    output(ctx, {"campaignId": campaign_id}, f"campaign {campaign_id} is shown again")


@moderate.command("dismiss")
@click.argument("campaign_id", type=int)
@json_option
@pass_context
def dismiss(ctx: Context, campaign_id: int) -> None:
    """Delete the reports on CAMPAIGN_ID once read (each campaign keeps at most 100)."""
    count = _store(ctx).dismiss(campaign_id)
    output(
        ctx,
        {"campaignId": campaign_id, "dismissed": count},
        f"{count} report(s) on campaign {campaign_id} dismissed",
    )


@moderate.command("list")
@json_option
@pass_context
def list_hidden(ctx: Context) -> None:
    """List hidden campaigns and the reports received."""
    store = _store(ctx)
    hidden = store.all_hidden()
    reports = store.reports()
    # What visitors typed is shown without control characters (ANSI escapes, CR...): a
    # report must not be able to repaint the operator's terminal. --json escapes them.
    lines = [f"hidden {h.campaign_id}: {printable(h.reason)} (since {iso(h.at)})" for h in hidden]
    lines += [
        f"report {r.id} on campaign {r.campaign_id} ({iso(r.at)}): {printable(r.reason)}"
        + (f" - {printable(r.details)}" if r.details else "")
        for r in reports
    ]
    output(
        ctx,
        {
            "hidden": [
                {"campaignId": h.campaign_id, "reason": h.reason, "at": h.at} for h in hidden
            ],
            "reports": [
                {"id": r.id, "campaignId": r.campaign_id, "reason": r.reason,
                 "details": r.details, "at": r.at}
                for r in reports
            ],
        },
        "\n".join(lines) or "nothing hidden, no reports",
    )  # fmt: skip
