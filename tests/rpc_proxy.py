"""A JSON-RPC pass-through on loopback in front of a real node, for hostile-node tests.

``RpcProxy`` forwards every POST unchanged; a subclass overrides ``forward`` to hold a
request (a hung node) or to change the answer (a lying provider). It works with web3.py's
HTTP provider, batches included. ``LimitedNode`` enforces a hosted provider's log limits
and, on demand (``fail``), fails the next calls of a method as a struggling provider does:
a JSON-RPC error, an HTTP 503, or an answer held past the client's timeout.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
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


class LimitedNode(RpcProxy):
    """A provider's limits on ``eth_getLogs``, as the free tiers of hosted RPC providers set
    them: a block range over ``max_range`` blocks is refused, and so is an answer of more than
    ``max_results`` logs. ``calls`` counts every request by method (batches included), so a
    test can say what a read cost."""

    def __init__(self, upstream: str, *, max_range: int = 10, max_results: int = 10_000) -> None:
        super().__init__(upstream)
        self.max_range = max_range
        self.max_results = max_results
        self.calls: Counter[str] = Counter()
        self.refused: list[tuple[int, int]] = []
        self.log_queries: list[dict[str, Any]] = []  # every eth_getLogs filter, in order
        self.faults: dict[str, list[tuple[str, float]]] = {}  # method -> the next failures
        self._lock = threading.Lock()

    def fail(self, method: str, times: int = 1, *, how: str = "rpc", hold: float = 0.0) -> None:
        """Fail the next ``times`` calls of ``method``: ``how`` is "rpc" (a JSON-RPC error
        answer, code -32603), "http" (HTTP 503, as a provider's overloaded gateway) or
        "timeout" (nothing for ``hold`` seconds, longer than the client waits, then the
        connection closes unanswered)."""
        if how not in ("rpc", "http", "timeout"):
            raise ValueError(f"unknown failure {how!r}")
        with self._lock:
            self.faults.setdefault(method, []).extend([(how, hold)] * times)

    def _fault(self, method: str, *kinds: str) -> tuple[str, float] | None:
        """The next failure set for ``method`` if it is of one of ``kinds`` (taken)."""
        with self._lock:
            pending = self.faults.get(method)
            return pending.pop(0) if pending and pending[0][0] in kinds else None

    def forward(self, body: bytes) -> tuple[int, bytes] | None:
        request = json.loads(body)
        batch = request if isinstance(request, list) else [request]
        for item in batch:  # a failure of the whole request fails every call in it
            fault = self._fault(item["method"], "http", "timeout")
            if fault is None:
                continue
            how, hold = fault
            with self._lock:
                self.calls[item["method"]] += 1
            if how == "http":
                return 503, b'{"error": "upstream overloaded"}'
            time.sleep(hold)
            return None
        answers = [self._one(item) for item in batch]
        out = answers if isinstance(request, list) else answers[0]
        return 200, json.dumps(out).encode()

    def _one(self, item: dict[str, Any]) -> Any:
        with self._lock:
            self.calls[item["method"]] += 1
        if self._fault(item["method"], "rpc") is not None:
            return self._error(item, "internal error (injected)", code=-32603)
        if item["method"] == "eth_getLogs":
            query = item["params"][0]
            with self._lock:
                self.log_queries.append(query)
            start, end = int(query["fromBlock"], 16), int(query["toBlock"], 16)
            if end - start + 1 > self.max_range:
                self.refused.append((start, end))
                return self._error(item, f"query exceeds max block range {self.max_range}")
        answer = requests.post(self.upstream, json=item, timeout=30).json()
        result = answer.get("result")
        if item["method"] == "eth_getLogs" and isinstance(result, list):
            if len(result) > self.max_results:
                self.refused.append((start, end))
                return self._error(item, f"query returned more than {self.max_results} results")
        return answer

    @staticmethod
    def _error(item: dict[str, Any], message: str, code: int = -32005) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": item["id"], "error": {"code": code, "message": message}}

    def get_logs_calls(self) -> int:
        return self.calls["eth_getLogs"]

    def reads(self) -> dict[str, int]:
        """The calls that read chain data (web3.py's own ``eth_chainId`` checks left out)."""
        return {m: n for m, n in self.calls.items() if m != "eth_chainId"}

    def reset(self) -> None:
        self.calls.clear()
        self.refused.clear()
        self.log_queries.clear()
        self.faults.clear()
