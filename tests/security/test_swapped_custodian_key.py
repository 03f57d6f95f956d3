"""A lying RPC swaps the custodians' keys: a CLI pledger must seal nothing to them.

The attack (issue #13): a provider (or a proxy in front of one) rewrites the campaign key of
every ``CustodianAssigned`` log to its own X25519 key. A pledger that seals to the keys in
the logs hands the provider a box it opens at once: with t = 1 the box holds the pledge key
itself, so it reads the pledger's name and contact from the chain, long before any reveal.

The defence (``spartacus.chain.key_check``): before sealing, `spartacus pledge` reads the
``createCampaign`` transaction that emitted the logs and checks that each key the logs name
is the key its custodian endorsed there, and that the endorsement's signature recovers to
that custodian. A node that also rewrites the call cannot forge the custodian's signature;
a node that hides the call leaves the keys unchecked, and the pledge is refused unless the
pledger says `--unchecked-keys`. Each refusal names the custodian, says the key served is
not what the custodian signed, that the node may be lying, and that nothing was sent; no
transaction leaves, no receipt is kept.

The control, at the end: with `--unchecked-keys` through the hiding proxy (what every CLI
pledge did before this check), the pledge lands and the attacker reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import nacl.bindings as sodium
import pytest
from web3 import HTTPProvider, Web3

from spartacus import protocol
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


@pytest.mark.parametrize("also", [None, "calldata"])
def test_a_node_swapping_custodian_keys_gets_no_cli_pledge(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    lying: Callable[[str | None], tuple[RewritingProxy, Spartacus]],
    attacker: tuple[bytes, bytes],
    also: str | None,
) -> None:
    campaign, (custodian,) = create_campaign(threshold=3)
    proxy, through_proxy = lying(also)
    shown = through_proxy.ok("status", str(campaign))
    assert shown["custodians"][0]["campaignKey"] == "0x" + attacker[0].hex()  # the lie works
    assert shown["keys"].startswith("MISMATCH")

    for extra in ((), ("--unchecked-keys",)):  # a mismatch is never overridden
        result = _pledge(through_proxy, campaign, *extra)
        assert result.exit_code == 1, result.stdout
        error = result.stderr
        assert f"custodian 1 ({custodian.address})" in error, error
        assert "0x" + attacker[0].hex() in error
        assert ("is not the key this custodian signed" in error) == (also is None), error
        assert ("was not signed by this custodian" in error) == (also == "calldata"), error
        assert "may be lying" in error and "nothing was sealed or sent" in error
    assert proxy.rewritten > 0
    _nothing_sent(spartacus, proxy, campaign)

    # The same pledger through an honest node: the keys check out and the pledge lands.
    assert pledge(spartacus, campaign, "Alice", 2)["index"] == 1


def test_a_node_hiding_the_creation_call_gets_no_pledge_unless_told(
    spartacus: Spartacus,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    lying: Callable[[str | None], tuple[RewritingProxy, Spartacus]],
    attacker: tuple[bytes, bytes],
) -> None:
    campaign, _ = create_campaign(threshold=3)
    proxy, through_proxy = lying("hide")
    result = _pledge(through_proxy, campaign)
    assert result.exit_code == 1
    assert f"the custodian keys of campaign {campaign} cannot be checked" in result.stderr
    assert "not directly to the registry" in result.stderr
    assert "Nothing was sealed or sent" in result.stderr and "--unchecked-keys" in result.stderr
    assert "not checked" in through_proxy.ok("status", str(campaign))["keys"]
    _nothing_sent(spartacus, proxy, campaign)

    # The control: told to go on, the CLI warns, seals to the node's keys as every CLI
    # pledge did before this check, and the attacker reads the pledge from the chain.
    result = _pledge(through_proxy, campaign, "--unchecked-keys", "--json")
    assert result.exit_code == 0, result.stderr
    assert "warning: the custodian keys could NOT be checked" in result.stderr
    registry = Registry(Web3(HTTPProvider(spartacus.rpc)), spartacus.registry)
    (record,) = [p.record for p in registry.history(campaign).pledges]
    pledge_key = protocol.open_box(attacker[1], registry.deployment, campaign, record, 0, 1, 1)
    plain = protocol.decrypt_payload(
        pledge_key,
        registry.deployment,
        campaign,
        record.member_key,
        record.account,
        record.ciphertext,
    )
    assert protocol.decode_contact(plain).contact == "alice@example.org"
