"""``spartacus watch``: run the custodian watcher daemon (see ``spartacus.custodian``)."""

from __future__ import annotations

import signal
from types import FrameType
from urllib.parse import urlsplit

import click
from web3 import HTTPProvider, Web3

from .. import mail
from ..chain.networks import network_of
from ..chain.quorum import TAGS, Quorum, label
from ..chain.registry import Registry
from ..custodian import Watcher, WatchSettings
from ..custodian.lock import daemon_lock
from ..custodian.log import FORMATS, configure, default_format, emit, problem
from ..exceptions import ChainError, UsageError
from .context import LOCAL_CHAIN_IDS, Context
from .options import pass_context

REMOTE_CONFIRMATIONS = 12  # with --confirm-tag latest off a local chain
CLOCK_MARGIN = 600.0  # seconds a confirmed block may be dated ahead of this machine's clock


@click.command()
@click.option("--once", is_flag=True, help="Do one pass over pending work, then exit.")
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="URL",
    help="Another JSON-RPC URL of the same chain, from an independent provider (repeatable). "
    "The global --rpc (or each URL of a comma-separated SPARTACUS_RPC) comes first; the first "
    "source also sends the transactions.",
)
@click.option(
    "--quorum",
    type=int,
    help="How many sources must agree on the confirmed block and on each campaign before "
    "the daemon releases, finalizes or destroys a key [default: all of them].",
)
@click.option(
    "--confirm-tag",
    type=click.Choice(TAGS),
    help="Act on the chain as of this block: the network's finalized or safe block, or latest "
    "minus --confirmations [default: finalized; latest on a local dev chain or with "
    "--confirmations].",
)
@click.option(
    "--confirmations",
    type=int,
    help=f"With --confirm-tag latest: act on the chain as of this many blocks below the "
    f"latest [default: 0 on a local dev chain, {REMOTE_CONFIRMATIONS} elsewhere].",
)
@click.option(
    "--clock-margin",
    type=float,
    help=f"Take no action while the confirmed block is dated more than this many seconds "
    f"ahead of this machine's clock [default: {CLOCK_MARGIN:g}; not checked on a local dev "
    "chain, whose clock is moved by hand].",
)
@click.option("--poll", type=float, default=5.0, show_default=True, help="Seconds between passes.")
@click.option(
    "--listen",
    metavar="[HOST:]PORT",
    help="Serve key requests (POST /keys) and GET /health here; HOST defaults to 127.0.0.1.",
)
@click.option(
    "--rate-limit",
    type=int,
    default=6,
    show_default=True,
    help="Key requests allowed per client per minute (--listen).",
)
@click.option(
    "--smtp",
    envvar="SPARTACUS_SMTP",
    metavar="HOST:PORT",
    help="Mail the roster through this server for campaigns whose creator asked for it "
    "(`custodian endorse --mail-roster`) and that this custodian reads alone (custodian "
    "threshold 1) [env SPARTACUS_SMTP; login from SPARTACUS_SMTP_USER and "
    "SPARTACUS_SMTP_PASSWORD]. Other than on loopback, STARTTLS is required. Without it, "
    "nothing is ever mailed.",
)
@click.option(
    "--mail-from",
    envvar="SPARTACUS_MAIL_FROM",
    default=mail.DEFAULT_MAIL_FROM,
    show_default=True,
    help="Sender address for the roster mail [env SPARTACUS_MAIL_FROM].",
)
@click.option(
    "--log-format",
    type=click.Choice(FORMATS),
    help="Log lines on stderr: text for people, json for collectors [default: text on a "
    "terminal, json otherwise].",
)
@pass_context
def watch(
    ctx: Context,
    once: bool,
    sources: tuple[str, ...],
    quorum: int | None,
    confirm_tag: str | None,
    confirmations: int | None,
    clock_margin: float | None,
    poll: float,
    listen: str | None,
    rate_limit: int,
    smtp: str | None,
    mail_from: str,
    log_format: str | None,
) -> None:
    """Run this custodian's daemon: release at the reveal, destroy keys at expiry.

    Watches every campaign that lists this custodian, and acts only on facts read at the
    confirmed block that --quorum sources (--rpc and each --source) agree on; when they
    disagree, too few answer, or the block's clock jumps, it does nothing and says why.
    Progress is saved under <home>/watcher/state.json; logs go to stderr (--log-format).
    One daemon per home: a second one refuses to start. The
    passphrase comes from SPARTACUS_PASSPHRASE or --passphrase-file. Stop it with SIGTERM
    or Ctrl-C.
    """
    urls = list(dict.fromkeys([*(ctx.rpcs if ctx.rpc_given else []), *sources])) or ctx.rpcs
    ctx.rpc = urls[0]  # the first source sends the transactions
    if quorum is not None and not 1 <= quorum <= len(urls):
        raise UsageError(f"--quorum must be between 1 and the number of sources ({len(urls)})")
    if confirmations is not None and confirmations < 0:
        raise UsageError("--confirmations must be 0 or more")
    if confirmations is not None and confirm_tag not in (None, "latest"):
        raise UsageError("--confirmations counts blocks below the latest: use --confirm-tag latest")
    if clock_margin is not None and clock_margin < 0:
        raise UsageError("--clock-margin must be 0 or more seconds")
    if poll <= 0:
        raise UsageError("--poll must be a positive number of seconds")
    if rate_limit < 1:
        raise UsageError("--rate-limit must be at least 1")
    if listen and once:
        raise UsageError("--listen serves requests while the daemon runs; drop --once")
    address = None
    if listen:
        from ..custodian.issuance import parse_listen

        try:
            address = parse_listen(listen)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    server = None
    if smtp:
        server = mail.Server.parse(
            smtp, ctx.env.get("SPARTACUS_SMTP_USER"), ctx.env.get("SPARTACUS_SMTP_PASSWORD")
        )
        mail.check_sender(mail_from)
    configure(fmt=log_format or default_format())
    with daemon_lock(ctx.home):
        _run(ctx, urls, quorum, confirm_tag, confirmations, clock_margin, once, poll, address,
             listen, rate_limit, server, mail_from)  # fmt: skip


def _run(
    ctx: Context,
    urls: list[str],
    quorum: int | None,
    confirm_tag: str | None,
    confirmations: int | None,
    clock_margin: float | None,
    once: bool,
    poll: float,
    address: tuple[str, int] | None,
    listen: str | None,
    rate_limit: int,
    server: mail.Server | None,
    mail_from: str,
) -> None:
    """The daemon itself, while this process holds the home's lock."""
    keystore = ctx.keystore()
    account = keystore.account()
    settings = WatchSettings(poll=poll, smtp=server, mail_from=mail_from)

    def sources_quorum() -> Quorum:
        reg = ctx.registry  # on the first source
        local = reg.chain_id in LOCAL_CHAIN_IDS
        named = network_of(reg.chain_id)
        usual = "latest" if local else named.finality if named else "finalized"
        tag = confirm_tag or ("latest" if confirmations is not None else usual)
        depth = confirmations
        if depth is None:
            depth = 0 if local else REMOTE_CONFIRMATIONS
        others = [_registry(url, reg) for url in urls[1:]]
        chosen = Quorum([reg, *others], quorum, tag=tag, confirmations=depth)
        settings.clock_margin = clock_margin if clock_margin is not None or local else CLOCK_MARGIN
        emit(
            "watcher_started",
            custodian=account.address,
            registry=reg.address,
            chain_id=reg.chain_id,
            sources=[f"{label(i)}: {_host(url)}" for i, url in enumerate(urls)],
            quorum=chosen.required,
            tag=chosen.tag,
            confirmations=chosen.confirmations,
            clock_margin=settings.clock_margin,
            once=once,
            mail=server is not None,
        )
        if not local and chosen.required < 2:
            problem(
                "a single RPC source decides what this custodian does",
                advice="add --source URL of another, independent provider (a provider serving "
                "a fork could make this custodian release early or destroy its keys)",
                sources=len(urls),
                quorum=chosen.required,
            )
        return chosen

    watcher = Watcher(ctx.home, keystore, account, sources_quorum, settings)

    def stop(signum: int, _frame: FrameType | None) -> None:
        emit("watcher_stopping", signal=signal.Signals(signum).name)
        watcher.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    http = None
    if address:
        from ..custodian.issuance import create_app, serve

        try:
            http = serve(create_app(watcher, {"RATE_PER_MINUTE": rate_limit}), *address)
        except OSError as exc:
            raise UsageError(f"cannot listen on {listen}: {exc}") from None
    try:
        ok = watcher.run(once=once)
    finally:
        if http is not None:
            http.shutdown()
    emit("watcher_stopped")
    if not ok:
        raise ChainError("the pass did not complete; see the logged problems above")


def _registry(url: str, primary: Registry) -> Registry:
    """The registry as read through another source."""
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 30}))
    try:
        chain_id = int(w3.eth.chain_id)
    except Exception:  # noqa: BLE001 - not answering now: the quorum counts it as silent
        chain_id = primary.chain_id
    if chain_id != primary.chain_id:
        raise ChainError(
            f"the source {_host(url)} serves chain {chain_id}, not {primary.chain_id} "
            "like the first; every source must be a node of the same chain"
        )
    return Registry(w3, primary.address, from_block=primary.from_block)


def _host(url: str) -> str:
    """A source's host for the log: a hosted node's path (and any login) holds its API key."""
    return urlsplit(url).netloc.rpartition("@")[2] or url.split("/")[0]
