"""``spartacus check-site``: is a served copy of the site exactly a given build?"""

from __future__ import annotations

import click

from ..exceptions import UsageError
from ..web.site import MANIFEST, Manifest, check_site, release_tag
from .context import Context
from .options import json_option, output, pass_context


@click.command("check-site")
@click.argument("url")
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False),
    help=f"The manifest to compare with [default: this install's build, {MANIFEST.name} "
    "under spartacus/web/static/dist].",
)
@click.option(
    "--release",
    metavar="TAG",
    help="Compare with the manifest of release TAG (v0.1.0): the one committed in this "
    "checkout as releases/TAG/manifest.json (no build needed), or from --releases-url.",
)
@click.option(
    "--releases-url",
    envvar="SPARTACUS_RELEASES_URL",
    metavar="URL",
    help="Fetch TAG's manifest from URL/TAG/manifest.json instead, e.g. the repository's "
    "releases/ folder on a code host [env SPARTACUS_RELEASES_URL].",
)
@click.option(
    "--page",
    "pages",
    metavar="PATH",
    multiple=True,
    default=("/",),
    show_default=True,
    help="A page whose scripts and styles must carry the manifest's integrity (repeat).",
)
@json_option
@pass_context
def check_site_command(
    ctx: Context,
    url: str,
    manifest_path: str | None,
    release: str | None,
    releases_url: str | None,
    pages: tuple[str, ...],
) -> None:
    """Fetch every file of a build's manifest from the site at URL (this web app or any
    static host) and compare bytes; check the integrity attributes of its pages.

    Names each differing or missing file and exits non-zero. A release's manifest is
    committed under releases/TAG/ in the commit that the git tag TAG names (docs/web.md,
    "Where a release's manifest is published"); a build of your own from the same commit
    writes the same one (`make frontend`)."""
    if manifest_path and release:
        raise UsageError("give --manifest or --release, not both")
    if release and releases_url:
        manifest = Manifest.of_release(releases_url, release)
    elif release:
        manifest = Manifest.committed(release)
    else:
        manifest = Manifest.load(manifest_path or MANIFEST)
    result = check_site(url, manifest, pages)
    lines = [f"{name}: same" for name in result.checked if not _named(name, result.problems)]
    lines += result.problems
    compared = f"the manifest of {release_tag(release)}" if release else "the manifest"
    lines.insert(0, f"Comparing with {compared} (sha256 {manifest.sha256})")
    verdict = (
        f"{url} serves exactly the build {manifest.cid} "
        f"({len(result.checked)} files; pages {', '.join(result.pages)})"
        if result.ok
        else f"{url} differs from the build {manifest.cid}: {len(result.problems)} problem(s)"
    )
    output(
        ctx,
        {
            "url": url,
            "cid": manifest.cid,
            "manifestSha256": manifest.sha256,
            "ok": result.ok,
            "checked": result.checked,
            "pages": result.pages,
            "problems": result.problems,
        },
        "\n".join([*lines, verdict]),
    )
    if not result.ok:
        click.get_current_context().exit(1)


def _named(name: str, problems: list[str]) -> bool:
    return any(problem.startswith(f"{name}: ") for problem in problems)


@click.command("export-site")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option(
    "--relayer",
    metavar="URL",
    envvar="SPARTACUS_PUBLIC_URL",
    help="A Spartacus site whose relayer the page sends through (its /api/relay/*); without "
    "it, visitors pay with their own wallet [env SPARTACUS_PUBLIC_URL].",
)
@click.option(
    "--public-rpc",
    metavar="URL",
    help="The JSON-RPC node visitors' browsers read from [default: --rpc]. Never one whose "
    "URL carries a secret API key: every visitor sees it.",
)
@click.option(
    "--connect",
    multiple=True,
    metavar="URL",
    help="Another node (or relayer) the page's security policy lets visitors switch to (repeat).",
)
@click.option(
    "--log-chunk",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Blocks per eth_getLogs the page asks for (a range the node refuses is halved).",
)
@click.option(
    "--single-file",
    is_flag=True,
    help="Write index.html alone, the bundle and styles inline: the copy that opens from a "
    "file (file://), where browsers load no module script or integrity-checked file.",
)
@json_option
@pass_context
def export_site_command(
    ctx: Context,
    folder: str,
    relayer: str | None,
    public_rpc: str | None,
    connect: tuple[str, ...],
    log_chunk: int,
    single_file: bool,
) -> None:
    """Write the site into FOLDER for any static host (or IPFS, or an onion service): one
    index.html with the campaign list, campaign and create views, the same bundle and styles
    the web app serves, and manifest.json (sha256 of every file, the folder's IPFS CID).

    The page reads the chain itself from the node and sends sealed pledges through the
    relayer (or the visitor's wallet); both URLs are shown on the page and can be changed
    there. docs/web.md, "The static copy"."""
    from ..web.static_site import StaticConfig, export_site

    registry = ctx.registry
    config = StaticConfig(
        rpc=public_rpc or ctx.rpc,
        registry=registry.address,
        chain_id=registry.chain_id,
        from_block=registry.from_block,
        relayer=relayer.rstrip("/") if relayer else None,
        connect=connect,
        directory=tuple(ctx.directory.as_json()),
        log_chunk=log_chunk,
    )
    manifest = export_site(folder, config, single_file=single_file)
    cid = manifest.cid or "not computed: Node and this checkout's node_modules are needed"
    output(
        ctx,
        {
            "folder": folder,
            "cid": manifest.cid,
            "files": sorted(manifest.files),
            **config.as_json(),
        },
        f"Wrote {len(manifest.files)} files to {folder} (CID {cid}); serve it from any static "
        f"host. It reads the chain from {config.rpc}"
        + (f" and sends through {config.relayer}." if config.relayer else ", no relayer."),
    )
