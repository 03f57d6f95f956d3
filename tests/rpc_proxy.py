"""A JSON-RPC pass-through on loopback in front of a real node, for hostile-node tests.

``RpcProxy`` forwards every POST unchanged; a subclass overrides ``forward`` to hold a
request (a hung node) or to change the answer (a lying provider). It works with web3.py's
HTTP provider, batches included.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests


class RpcProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                answer = proxy.forward(self.rfile.read(int(self.headers["Content-Length"])))
                if answer is None:
                    return  # no answer at all, as a hung node
                status, data = answer
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def forward(self, body: bytes) -> tuple[int, bytes] | None:
        """The (status, body) to answer ``body`` with; None leaves the request unanswered."""
        answer = requests.post(
            self.upstream, data=body, headers={"Content-Type": "application/json"}, timeout=30
        )
        return answer.status_code, answer.content

    def close(self) -> None:
        self.server.shutdown()
