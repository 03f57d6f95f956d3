"""A lying RPC swaps the custodians' keys: a CLI pledger must seal nothing to them.

The attack (issue #13): a provider (or a proxy in front of one) rewrites the campaign key of
every ``CustodianAssigned`` log to its own X25519 key. A pledger that seals to the keys in
the logs hands the provider a box it opens at once: with t = 1 the box holds the pledge key
itself, so it reads the pledger's name and contact from the chain, long before any reveal.

The defence (``spartacus.chain.key_check``): before sealing, `spartacus pledge` checks that
each key the logs name was signed by its custodian: since protocol v2 the endorsement
(expiry and signature) travels in the same ``CustodianAssigned`` log, and a node that
rewrites the key cannot forge the custodian's signature over its own key. The refusal names
the custodian, says the key served was not signed by this custodian, that the node may be
lying, and that nothing was sent; no transaction leaves, no receipt is kept, and
`--unchecked-keys` does not override it. (v1 read the endorsements from the creation
transaction, which a node could hide; v2 needs no second source.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import nacl.bindings as sodium
import pytest
from web3 import HTTPProvider, Web3

from spartacus.chain.registry import Registry
from tests.cli.conftest import CustodianRole, Result, Spartacus, pledge

from .proxy import RewritingProxy

ALICE = ("pledge", "--name", "Alice", "--contact", "alice@example.org")


@pytest.fixture
def attacker() -> tuple[bytes, bytes]:
    """The attacker's X25519 key pair (public, secret)."""
    public, secret = sodium.crypto_box_keypair()
    return public, secret


@pytest.fixture
def lying(
    spartacus: Spartacus, attacker: tuple[bytes, bytes]
) -> Iterator[Callable[[str | None], tuple[RewritingProxy, Spartacus]]]:
    """Factory: a rewriting proxy in front of the test's anvil, and a CLI runner using it."""
    started: list[RewritingProxy] = []

    def start(also: str | None = None) -> tuple[RewritingProxy, Spartacus]:
        proxy = RewritingProxy(spartacus.rpc, attacker[0], also)
        started.append(proxy)
        return proxy, Spartacus(proxy.url, spartacus.registry, spartacus.root)

    yield start
    for proxy in started:
        proxy.close()


def _pledge(cli: Spartacus, campaign: int, *extra: str) -> Result:
    return cli(ALICE[0], str(campaign), *ALICE[1:], *extra, role="alice", dev=2)


def _nothing_sent(spartacus: Spartacus, proxy: RewritingProxy, campaign: int) -> None:
    assert "eth_sendRawTransaction" not in proxy.methods
    assert "eth_sendTransaction" not in proxy.methods
    registry = Registry(Web3(HTTPProvider(spartacus.rpc)), spartacus.registry)
    assert registry.info(campaign).pledges == 0
    assert not list((spartacus.home("alice")).rglob("receipts/**/*.json"))


def test_a_node_swapping_custodian_keys_gets_no_cli_pledge(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    lying: Callable[[str | None], tuple[RewritingProxy, Spartacus]],
    attacker: tuple[bytes, bytes],
) -> None:
    campaign, (custodian,) = create_campaign(threshold=3)
    proxy, through_proxy = lying(None)
    shown = through_proxy.ok("status", str(campaign))
    assert shown["custodians"][0]["campaignKey"] == "0x" + attacker[0].hex()  # the lie works
    assert shown["keys"].startswith("MISMATCH")

    for extra in ((), ("--unchecked-keys",)):  # a mismatch is never overridden
        result = _pledge(through_proxy, campaign, *extra)
        assert result.exit_code == 1, result.stdout
        error = result.stderr
        assert f"custodian 1 ({custodian.address})" in error, error
        assert "0x" + attacker[0].hex() in error
        assert "was not signed by this custodian" in error, error
        assert "may be lying" in error and "nothing was sealed or sent" in error
    assert proxy.rewritten > 0
    _nothing_sent(spartacus, proxy, campaign)

    # The same pledger through an honest node: the keys check out and the pledge lands.
    assert pledge(spartacus, campaign, "Alice", 2)["index"] == 1
