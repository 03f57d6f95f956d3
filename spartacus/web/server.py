"""The web app's server: uvicorn's event loop in front, Flask in a thread pool behind it.

A live-count viewer (``GET /api/campaigns/<id>/events``) is an idle connection for as long
as the page is open. Under a threaded WSGI server each one held a thread, so a site was
capped at a few hundred. Here the event loop holds them (``live.LiveCounts``: no thread per
viewer, one update per campaign and block), and everything else goes to the Flask app
unchanged, through a2wsgi's thread pool of ``threads`` workers.
"""

from __future__ import annotations

import asyncio
import gc
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn
from a2wsgi import WSGIMiddleware
from flask import Flask

from .state import WebState

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STREAM = re.compile(r"/api/campaigns/([0-9]{1,18})/events")
FULL = b'{"error": "too many live viewers right now; the page will poll instead"}'


def asgi_app(app: Flask, *, threads: int) -> ASGIApp:
    """``app`` as an ASGI application whose live-count streams run on the event loop."""
    from . import SECURITY_HEADERS

    wsgi = WSGIMiddleware(app, workers=threads)  # type: ignore[arg-type]
    shared: WebState = app.extensions["spartacus"]
    headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
    headers.append((b"cache-control", b"no-store"))

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(shared, receive, send)
            return
        match = STREAM.fullmatch(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope["method"] != "GET" or shared.index.history(int(match[1])) is None:
            # Not a stream, or a campaign not (yet) read: Flask says why (404, 503...).
            await wsgi(scope, receive, send)  # type: ignore[arg-type]
            return
        live = shared.live
        viewer = live.join(int(match[1]))
        if viewer is None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [*headers, (b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": FULL})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    *headers,
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"x-accel-buffering", b"no"),
                ],
            }
        )

        async def watch() -> None:  # a viewer who leaves is noticed at once
            while (await receive())["type"] != "http.disconnect":
                pass
            viewer.leave()

        async def write(chunk: bytes) -> None:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

        watcher = asyncio.get_running_loop().create_task(watch())
        try:
            await live.stream(viewer, write)
            await send({"type": "http.response.body", "body": b""})
        finally:
            watcher.cancel()

    return application


async def _lifespan(shared: WebState, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            shared.live.close()
            await asyncio.get_running_loop().run_in_executor(None, shared.stop)
            await send({"type": "lifespan.shutdown.complete"})
            return


def serve(
    app: Flask,
    *,
    host: str,
    port: int,
    threads: int,
    trusted_proxy: str | None = None,
) -> None:
    """Run ``app`` under uvicorn until SIGINT or SIGTERM."""
    config = uvicorn.Config(
        asgi_app(app, threads=threads),
        host=host,
        port=port,
        # The visitor's address from X-Forwarded-For only when the proxy named sent it
        # (uvicorn trusts loopback by default: not here).
        proxy_headers=trusted_proxy is not None,
        forwarded_allow_ips=trusted_proxy or "",
        backlog=4096,
        timeout_keep_alive=130,  # longer than the proxy keeps an idle connection (2 min)
        timeout_graceful_shutdown=5,  # a bound; the streams themselves end at once (below)
        access_log=False,  # no request log: the app keeps none (docs/web.md)
        server_header=False,
        log_level="warning",
        lifespan="on",
    )
    # What exists now (the app, web3, the index) lives as long as the server: keep it out
    # of the collector's full passes, which would otherwise walk it while viewers wait.
    gc.freeze()
    _Server(config, app.extensions["spartacus"]).run()


class _Server(uvicorn.Server):
    """uvicorn's server, ending the live streams as soon as it is asked to stop (else it
    would wait for every viewer to leave)."""

    def __init__(self, config: Any, shared: WebState) -> None:
        super().__init__(config)
        self.shared = shared

    async def shutdown(self, sockets: Any = None) -> None:
        self.shared.live.close()
        await super().shutdown(sockets)
