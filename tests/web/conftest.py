"""Web app tests: the Flask app against a real anvil node, one fresh registry per test.

The CLI's fixtures (anvil, a registry, custodians and the campaign factory) are reused, so
campaigns are created exactly as a creator would with the CLI. ``web.sync()`` makes the
poller read the chain now, so tests never wait for its interval.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.messages import encode_typed_data
from flask import Flask
from flask.testing import FlaskClient

from spartacus import protocol
from spartacus.cli.context import dev_account
from spartacus.web import WebState, create_app
from tests.cli.conftest import (  # noqa: F401 - fixtures
    Spartacus,
    anvil_rpc,
    create_campaign,
    make_custodians,
    spartacus,
    travel,
    w3,
)

RELAYER = 5  # anvil development account that pays for relayed transactions


@dataclass
class Web:
    app: Flask
    client: FlaskClient
    state: WebState

    def sync(self) -> None:
        self.state.index.sync()

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(path, json=body)


@pytest.fixture
def web_config(spartacus: Spartacus, tmp_path: Path) -> dict[str, Any]:  # noqa: F811
    return {
        "RPC": spartacus.rpc,
        "REGISTRY": spartacus.registry,
        "HOME": str(tmp_path / "web-home"),
        "RELAYER_KEY": dev_account(RELAYER),
        "POLL_INTERVAL": 3600.0,  # tests call web.sync() instead of waiting
        "HEARTBEAT": 0.2,
        # Relayed items go through the mixer's batches at once (tests/web/test_mixer.py
        # tests the window itself).
        "RELAY_MIX_SECONDS": 0,
        "TESTING": True,
    }


@pytest.fixture
def web(web_config: dict[str, Any]) -> Iterator[Web]:
    app = create_app(web_config)
    shared: WebState = app.extensions["spartacus"]
    shared.start()
    yield Web(app, app.test_client(), shared)
    shared.stop()


@dataclass
class Pledger:
    """A pledger as the browser would be: a fresh secret and what derives from it."""

    keys: protocol.PledgeKeys
    name: str
    contact: str


def new_pledger(name: str, contact: str) -> Pledger:
    return Pledger(protocol.derive_keys(protocol.new_secret()), name, contact)


def pledge_body(
    web: Web, campaign_id: int, pledger: Pledger, nonce: int = 0, valid_until: int | None = None
) -> dict[str, Any]:
    """The JSON a browser posts to /api/relay/pledge, signed by the pledge account."""
    info = web.get(f"/api/campaigns/{campaign_id}").get_json()
    keys = [bytes.fromhex(c["campaignKey"][2:]) for c in info["custodians"]]
    sealed = protocol.seal_pledge(
        web.state.registry.deployment,
        campaign_id,
        pledger.keys,
        protocol.Contact(pledger.name, pledger.contact),
        keys,
        info["custodianThreshold"],
    )
    registry = web.state.registry
    until = registry.default_valid_until() if valid_until is None else valid_until
    typed = protocol.pledge_typed_data(
        registry.chain_id, registry.address, campaign_id, sealed, nonce, until
    )
    return {
        "campaignId": campaign_id,
        "account": pledger.keys.account,
        "memberKey": "0x" + sealed.member_key.hex(),
        "ciphertext": "0x" + sealed.ciphertext.hex(),
        "boxes": "0x" + sealed.boxes.hex(),
        "commitment": "0x" + sealed.commitment.hex(),
        "validUntil": until,
        "signature": sign(pledger, typed),
    }


def withdraw_body(
    web: Web, campaign_id: int, pledger: Pledger, nonce: int, valid_until: int | None = None
) -> dict[str, Any]:
    registry = web.state.registry
    until = registry.default_valid_until() if valid_until is None else valid_until
    typed = protocol.withdraw_typed_data(
        registry.chain_id, registry.address, campaign_id, nonce, until
    )
    return {
        "campaignId": campaign_id,
        "account": pledger.keys.account,
        "validUntil": until,
        "signature": sign(pledger, typed),
    }


def sign(pledger: Pledger, typed: dict[str, Any]) -> str:
    from eth_account import Account

    signed = Account.sign_message(encode_typed_data(full_message=typed), pledger.keys.account_key)
    return "0x" + bytes(signed.signature).hex()
