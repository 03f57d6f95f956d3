"""`spartacus pledge --relay URL` and `withdraw --relay URL`: a pledger with no ether and no
paying account at all pledges and withdraws through a web app's relayer, over real HTTP
(the app under waitress on loopback, anvil behind it).

A refusal the site states (its own JSON error: nothing was sent) drops the receipt; any
other answer (a proxy's 520 page, a broken connection) keeps it, because the pledge may
land: the receipt code is printed and stays in the home folder.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import waitress

from spartacus.cli.context import dev_account
from spartacus.web import WebState, create_app
from tests.cli.conftest import Spartacus
from tests.web.conftest import RELAYER, web_config  # noqa: F401 - fixture


class Site:
    """The web app (with its relayer) under waitress on a loopback port."""

    def __init__(self, config: dict[str, Any]) -> None:
        app = create_app(config)
        self.app = app
        self.state: WebState = app.extensions["spartacus"]
        self.state.start()
        self.server = waitress.create_server(app, host="127.0.0.1", port=0, threads=8)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        threading.Thread(target=self.server.run, daemon=True).start()

    def stop(self) -> None:
        self.server.close()
        self.state.stop()


@pytest.fixture
def site(web_config: dict[str, Any]) -> Iterator[Callable[..., Site]]:  # noqa: F811
    sites: list[Site] = []

    def start(**overrides: Any) -> Site:
        sites.append(Site({**web_config, **overrides}))
        return sites[-1]

    yield start
    for s in sites:
        s.stop()


class Proxy:
    """A reverse proxy on loopback in front of ``upstream`` that passes GETs on and answers
    relay POSTs as ``mode`` says: "520" (a Cloudflare-style error page, the request never
    passed on), "forward-520" (passed on, the answer replaced by that page) or "reset"
    (the connection closed with no answer)."""

    def __init__(self, upstream: str) -> None:
        self.mode = "520"
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                answer = requests.get(upstream + self.path, timeout=30)
                self._reply(answer.status_code, answer.content, "application/json")

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if proxy.mode == "reset":
                    self.close_connection = True
                    self.connection.close()
                    return
                if proxy.mode == "forward-520":
                    requests.post(
                        upstream + self.path,
                        data=body,
                        headers={"Content-Type": "application/json"},
                        timeout=150,
                    )
                page = (
                    b"<html><body>Error 520: the web server returned an unknown error</body></html>"
                )
                self._reply(520, page, "text/html")

            def _reply(self, status: int, content: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _receipts(spartacus: Spartacus, role: str) -> list[Path]:
    folder = spartacus.home(role) / "receipts"
    return sorted(folder.rglob("*.json")) if folder.exists() else []


def _pledge(spartacus: Spartacus, campaign: int, relay: str, *extra: str) -> Any:
    args = ["pledge", str(campaign), "--name", "Alice", "--contact", "alice@example.org"]
    # No --dev-account, and SPARTACUS_PRIVATE_KEY empty: this pledger has no paying account.
    return spartacus(*args, "--relay", relay, *extra, role="alice", dev=None)


def test_pledge_and_withdraw_through_the_relay_need_no_ether(
    spartacus: Spartacus, create_campaign: Any, site: Callable[..., Site], w3: Any
) -> None:
    campaign, _ = create_campaign(threshold=3)
    app = site()
    app.state.index.sync()
    registry = app.state.registry

    # This pledger has no paying account at all: without --relay nothing can be sent.
    alone = spartacus(
        "pledge", str(campaign), "--name", "A", "--contact", "a@x", role="alice", dev=None
    )
    assert alone.exit_code == 1 and "no sending account" in alone.stderr
    assert _receipts(spartacus, "alice") == []

    pledged = _pledge(spartacus, campaign, app.url, "--json")
    assert pledged.exit_code == 0, pledged.stderr
    account = pledged.data["account"]
    assert pledged.data["index"] == 1 and pledged.data["active"] == 1
    assert registry.pledge_of(campaign, account)[0] is True
    (receipt,) = _receipts(spartacus, "alice")
    assert pledged.data["receipt"] in receipt.read_text()
    # The relayer's wallet sent it: the pledger's side of the chain shows no account of theirs.
    (log,) = registry.contract.events.Pledged().get_logs(from_block=0)
    assert w3.eth.get_transaction(log["transactionHash"])["from"] == dev_account(RELAYER).address

    withdrawn = spartacus(
        "withdraw", str(campaign), "--relay", app.url, "--json", role="alice", dev=None
    )
    assert withdrawn.exit_code == 0, withdrawn.stderr
    assert withdrawn.data["withdrawn"] is True and withdrawn.data["active"] == 0
    assert registry.pledge_of(campaign, account)[0] is False
    # Withdrawn for good: the receipt, and the folders that named the campaign, are gone.
    assert not (spartacus.home("alice") / "receipts").exists()


def test_a_refused_relay_answer_says_why_and_drops_the_receipt(
    spartacus: Spartacus, create_campaign: Any, site: Callable[..., Site]
) -> None:
    campaign, _ = create_campaign(threshold=3)
    app = site(RELAY_MIN_BALANCE_WEI=10**30)  # the relayer is "out of funds": 503
    app.state.index.sync()

    refused = _pledge(spartacus, campaign, app.url)
    assert refused.exit_code == 1
    assert "refused (HTTP 503)" in refused.stderr and "out of funds" in refused.stderr
    assert "Nothing was recorded" in refused.stderr and "try again" in refused.stderr
    assert app.state.registry.info(campaign).active == 0
    assert _receipts(spartacus, "alice") == []  # it belongs to no pledge


def test_an_ambiguous_relay_answer_keeps_the_receipt(
    spartacus: Spartacus, create_campaign: Any, site: Callable[..., Site]
) -> None:
    campaign, _ = create_campaign(threshold=3)
    app = site()
    app.state.index.sync()
    registry = app.state.registry
    proxy = Proxy(app.url)
    try:
        for mode in ("520", "reset"):
            proxy.mode = mode
            unsure = _pledge(spartacus, campaign, proxy.url)
            assert unsure.exit_code == 1, unsure.stdout
            assert "may still be recorded" in unsure.stderr and "status" in unsure.stderr
            kept = _receipts(spartacus, "alice")
            assert kept and all('"state": "sending"' in p.read_text() for p in kept)
            code = unsure.stderr.split("withdraw it:\n")[1].split("\n")[0]
            assert any(code in p.read_text() for p in kept)
        assert len(_receipts(spartacus, "alice")) == 2
        assert registry.info(campaign).active == 0  # neither was passed on

        # Passed on and landed, the answer lost: the chain shows it, so it is a success.
        proxy.mode = "forward-520"
        landed = _pledge(spartacus, campaign, proxy.url, "--json")
        assert landed.exit_code == 0, landed.stderr
        assert landed.data["index"] == 1 and registry.info(campaign).active == 1
    finally:
        proxy.stop()


def test_gated_pledge_through_the_relay_carries_its_proof(
    spartacus: Spartacus, create_campaign: Any, site: Callable[..., Site]
) -> None:
    """A member with no ether pledges to a gated campaign through a site's relayer: the CLI
    proves membership for the signed pledge, the relayer checks the proof and pays."""
    group = spartacus.ok("group", "create", "--name", "Night shift", role="admin")["group"]
    (invitation,) = spartacus.ok("group", "invite", str(group), role="admin")["invitations"]
    spartacus.ok("group", "join", invitation["code"], role="alice", dev=3)
    campaign, _ = create_campaign(threshold=3, group=group)
    app = site()
    app.state.index.sync()

    pledged = _pledge(spartacus, campaign, app.url, "--json")
    assert pledged.exit_code == 0, pledged.stderr
    assert (pledged.data["index"], pledged.data["active"]) == (1, 1)
    registry = app.state.registry
    (member,) = registry.contract.events.MemberPledged().get_logs(from_block=0)
    assert (member["args"]["campaignId"], member["args"]["index"]) == (campaign, 1)
