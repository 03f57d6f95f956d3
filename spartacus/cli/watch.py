"""``spartacus watch``: run the custodian watcher daemon (see ``spartacus.watcher``)."""

from __future__ import annotations

import signal
from types import FrameType

import click

from .. import mail
from ..chain.registry import Registry
from ..custodian import Watcher, WatchSettings
from ..custodian.log import configure, emit
from ..exceptions import ChainError, UsageError
from .context import LOCAL_CHAIN_IDS, Context
from .options import pass_context

REMOTE_CONFIRMATIONS = 12


@click.command()
@click.option("--once", is_flag=True, help="Do one pass over pending work, then exit.")
@click.option(
    "--confirmations",
    type=int,
    help=f"Act on the chain as of this many blocks below the latest "
    f"[default: 0 on a local dev chain, {REMOTE_CONFIRMATIONS} elsewhere].",
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
@pass_context
def watch(
    ctx: Context,
    once: bool,
    confirmations: int | None,
    poll: float,
    listen: str | None,
    rate_limit: int,
    smtp: str | None,
    mail_from: str,
) -> None:
    """Run this custodian's daemon: release at the reveal, destroy keys at expiry.

    Watches every campaign that lists this custodian. Progress is saved under
    <home>/watcher/state.json; logs are JSON lines on stderr. The passphrase comes from
    SPARTACUS_PASSPHRASE or --passphrase-file. Stop it with SIGTERM or Ctrl-C.
    """
    if confirmations is not None and confirmations < 0:
        raise UsageError("--confirmations must be 0 or more")
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
    configure()
    keystore = ctx.keystore()
    account = keystore.account()
    settings = WatchSettings(poll=poll, smtp=server, mail_from=mail_from)
    if confirmations is not None:
        settings.confirmations = confirmations

    def registry() -> Registry:
        reg = ctx.registry
        if confirmations is None and reg.chain_id not in LOCAL_CHAIN_IDS:
            settings.confirmations = REMOTE_CONFIRMATIONS
        emit(
            "watcher_started",
            custodian=account.address,
            registry=reg.address,
            chain_id=reg.chain_id,
            confirmations=settings.confirmations,
            once=once,
            mail=server is not None,
        )
        return reg

    watcher = Watcher(ctx.home, keystore, account, registry, settings)

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
