"""`/api/endorsements` with a custodian daemon URL a creator typed: the server fetches only
from the public addresses it vetted, follows no redirect, and shares the daemon's budget
out per visitor.

Real HTTP servers on loopback stand in for daemons. 127.0.0.2 plays a public address (the
test makes `is_public` say so); 127.0.0.1 plays the private one an attacker aims at. The
name `custodian.example` is answered by a patched resolver.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from spartacus.custodian import client

from .conftest import Web

PUBLIC, PRIVATE = "127.0.0.2", "127.0.0.1"
NAME = "custodian.example"


class Daemon(ThreadingHTTPServer):
    """Answers every POST with ``status`` and ``headers``; counts what it was sent."""

    def __init__(
        self, address: str, port: int, status: int, headers: dict[str, str], tls: Any = None
    ) -> None:
        self.hits: list[str] = []
        self.status, self.extra = status, headers
        super().__init__((address, port), Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class Handler(BaseHTTPRequestHandler):
    server: Daemon

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.server.hits.append(f"{self.headers['Host']} {self.path}")
        self.send_response(self.server.status)
        for name, value in self.server.extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def daemons() -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def start(address: str, port: int = 0, status: int = 500, **headers: str) -> Daemon:
        started.append(Daemon(address, port, status, headers))
        return started[-1]

    yield start
    for daemon in started:
        daemon.shutdown()
        daemon.server_close()


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``custodian.example`` resolves to the addresses in the returned list, one per lookup
    (the last one again once it runs out); 127.0.0.2 counts as public."""
    answers: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != NAME:
            return real(host, port, *args, **kwargs)
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(client, "is_public", lambda a: a == PUBLIC)
    return answers


def test_a_custodian_url_redirecting_to_a_private_address_is_refused(
    web: Web, daemons: Callable[..., Daemon], resolver: list[str]
) -> None:
    target = daemons(PRIVATE)
    port = target.server_address[1]
    public = daemons(PUBLIC, status=307, Location=f"http://{PRIVATE}:{port}/keys")
    resolver.append(PUBLIC)
    response = web.post("/api/endorsements", {"url": f"http://{NAME}:{public.server_address[1]}"})
    error = response.get_json()["error"]
    assert response.status_code == 502 and "redirect (HTTP 307), which is not followed" in error
    assert public.hits == [f"{NAME}:{public.server_address[1]} /keys"]
    assert target.hits == []  # the private address was never asked


def test_a_name_rebound_to_a_private_address_after_vetting_is_not_connected_to(
    web: Web, daemons: Callable[..., Daemon], resolver: list[str]
) -> None:
    private = daemons(PRIVATE)
    port = private.server_address[1]
    public = daemons(PUBLIC, port)  # same port on both addresses
    resolver.extend([PUBLIC, PRIVATE])  # DNS rebinding: public when vetted, private next
    response = web.post("/api/endorsements", {"url": f"http://{NAME}:{port}/"})
    assert response.status_code == 502 and "refused a key (HTTP 500" in response.get_json()["error"]
    assert public.hits == [f"{NAME}:{port} /keys"]  # the vetted address, the name as Host
    assert private.hits == []


def test_custodian_urls_at_private_addresses_are_refused_before_any_request(
    web: Web, daemons: Callable[..., Daemon], resolver: list[str]
) -> None:
    private = daemons(PRIVATE)
    port = private.server_address[1]
    for url in (f"http://{PRIVATE}:{port}", f"http://[::1]:{port}", f"http://{NAME}:{port}"):
        resolver[:] = [PRIVATE]
        response = web.post("/api/endorsements", {"url": url})
        assert response.status_code == 403, url
        assert "is not a public address" in response.get_json()["error"]
    assert private.hits == []
    assert web.post("/api/endorsements", {"url": "http://x.example:port/"}).status_code == 400


def test_one_visitor_cannot_spend_the_daemons_budget_for_every_creator(
    web_config: dict[str, Any], daemons: Callable[..., Daemon]
) -> None:
    # The daemon counts keys per caller, and the web app is one caller for all creators:
    # the app gives each visitor a small part of it (known by a keyed hash, in memory).
    from spartacus.web import create_app

    daemon = daemons(PRIVATE)
    app = create_app({**web_config, "ALLOW_PRIVATE_CUSTODIAN_URLS": True,
                      "ENDORSE_PER_CLIENT_PER_MINUTE": 2})  # fmt: skip
    web = app.test_client()
    url = f"http://{PRIVATE}:{daemon.server_address[1]}"

    def ask(visitor: str) -> int:
        return web.post(
            "/api/endorsements", json={"url": url}, environ_base={"REMOTE_ADDR": visitor}
        ).status_code

    assert [ask("203.0.113.9") for _ in range(4)] == [502, 502, 429, 429]
    assert len(daemon.hits) == 2  # the abuser's extra requests never reached the daemon
    assert ask("198.51.100.4") == 502  # another creator still gets through
    assert len(daemon.hits) == 3
    limiter = app.extensions["spartacus"].endorsements
    counted = repr(limiter._limiter.storage.events)  # the keys the limiter counts under
    assert counted != "{}" and "203.0.113.9" not in counted  # only keyed hashes, in memory


def test_the_pinned_connection_checks_tls_for_the_name(tmp_path: Any) -> None:
    # A TLS daemon at 127.0.0.2 with a certificate for custodian.example: reached at that
    # address, its certificate is checked for (and SNI names) the name, not the address.
    import ssl
    import subprocess

    import requests

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={NAME}", "-addext", f"subjectAltName=DNS:{NAME}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []

    def sni(sock: Any, name: str | None, ctx: Any) -> None:
        names.append(name)

    context.sni_callback = sni
    server = Daemon(PUBLIC, 0, 500, {}, tls=context)
    try:
        url = f"https://{NAME}:{server.server_address[1]}/keys"
        answer = client.connect_pinned(url, [PUBLIC], verify=str(cert))
        assert answer.status_code == 500 and names == [NAME]
        assert server.hits == [f"{NAME}:{server.server_address[1]} /keys"]
        with pytest.raises(requests.exceptions.SSLError):  # a name the certificate lacks
            client.connect_pinned(url.replace(NAME, "other.example"), [PUBLIC], verify=str(cert))
    finally:
        server.shutdown()
        server.server_close()
