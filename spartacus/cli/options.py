"""What every command shares: ``--json``, printing results, and one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from .context import Context

F = TypeVar("F", bound=Callable[..., Any])


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


def jsonable(value: Any) -> Any:
    """Bytes as 0x-hex, recursively, for --json output."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
