"""Sealed bytes replayed on another registry or chain release and reveal nothing (protocol v2).

The attacks, each on real registries (anvil; a second registry deployed next to the real
one, or a fork of the real chain under another chain id):

- the organiser's sealed instructions, copied byte for byte into campaign 1 of a second
  registry that lists the same custodian key, and a real pledge's boxes presented there
  under the same campaign id and account;
- a fork of the chain under another chain id, where the registry, the campaign and every
  pledge exist again at the same address, and the attacker reveals the campaign with pledges
  of its own;
- the instructions' ciphertext replayed into a second registry, where the attacker, as that
  campaign's custodian, publishes the key it read from the real campaign's public release.

Protocol v1 bound a box to (campaign id, member key, account, ciphertext) only, and the
instructions to campaign 0 and the zero account: in each case the real custodian key opened
the copied boxes with a valid binding (its shares were releasable on the copy), and readers
of the copy decrypted the real organiser's instructions as if they were the copy's. In v2
the binding and the associated data name the chain id and the registry, so the custodian
finds a binding mismatch and the reader an authentication failure.

The custodian's first defence, its keystore refusing a key issued for another registry or
chain (tests/security/test_copycat_registry.py), is asserted here too and then stepped
over: these tests pin the second one, which holds even where the first is bypassed (a key
listed on two registries because its custodian signed both, a key file copied between
homes).
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3

from spartacus import protocol
from spartacus.chain.anvil import anvil_command
from spartacus.chain.records import Status
from spartacus.chain.registry import Registry
from spartacus.cli.context import dev_account
from spartacus.custodian.keystore import Keystore
from spartacus.custodian.release_plan import plan_release
from spartacus.exceptions import KeyNotForThisRegistry
from tests.cli.conftest import CustodianRole, Spartacus, pledge
from tests.custodian.conftest import wait_until

ATTACKER = 9
FORK_CHAIN_ID = 4242


def _terms(registry: Registry, threshold: int) -> tuple[object, ...]:
    deadline = registry.latest_timestamp() + 7 * 86400
    # grace 0, t = 1, public roster, no late joining, open (group 0)
    return ("Copy", "", "", threshold, deadline, 0, 1, 1, False, 0)


def _fake_pledges(registry: Registry, campaign: int, custodian_key: bytes, count: int) -> None:
    """``count`` pledges of the attacker's own, sealed properly for ``registry``."""
    relayer = dev_account(ATTACKER)
    for number in range(count):
        keys = protocol.derive_keys(protocol.new_secret())
        contact = protocol.Contact(f"Sybil {number}", "sybil@example.org")
        sealed = protocol.seal_pledge(
            registry.deployment, campaign, keys, contact, [custodian_key], 1
        )
        account = Account.from_key(keys.account_key)
        signature = registry.sign_pledge(account, campaign, sealed)
        registry.pledge_with_sig(relayer, campaign, account.address, sealed, signature)


def _custodian(spartacus: Spartacus, role: CustodianRole) -> tuple[Keystore, LocalAccount]:
    keystore = Keystore(spartacus.home(role.role), role.passphrase)
    return keystore, keystore.account()


def _copy_campaign(
    real: Registry, campaign: int, copy: Registry, endorser: LocalAccount, key: bytes
) -> int:
    """Campaign on ``copy`` with ``campaign``'s sealed instructions copied byte for byte,
    listing custodian ``key`` with an endorsement ``endorser`` signed for ``copy``."""
    instructions = real.history(campaign).instructions
    assert instructions is not None
    sealed = protocol.Sealed(
        instructions.member_key,
        instructions.ciphertext,
        instructions.boxes,
        instructions.commitment,
    )
    expiry = real.latest_timestamp() + 86400
    endorsement = (endorser.address, key, expiry, copy.sign_endorsement(endorser, key, expiry))
    return copy.create_campaign(dev_account(ATTACKER), _terms(copy, 2), sealed, [endorsement])


@pytest.fixture
def second_registry(w3: Web3) -> Registry:
    """Another real registry on the same chain, deployed by the attacker."""
    return Registry.deploy(w3, dev_account(ATTACKER))


@contextmanager
def _fork(rpc: str, chain_id: int) -> Iterator[str]:
    """anvil forking the chain at ``rpc`` under another chain id: every contract and log
    exists again at the same address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = anvil_command(port, "--silent", "--chain-id", str(chain_id))
    process = subprocess.Popen([*command, "--fork-url", rpc])
    url = f"http://127.0.0.1:{port}"
    try:
        fork = Web3(HTTPProvider(url))
        wait_until(lambda: _answers(fork), f"anvil fork on port {port}", timeout=30)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(w3: Web3) -> bool:
    try:
        return bool(w3.eth.chain_id)
    except Exception:  # noqa: BLE001 - not listening yet
        return False


def test_instructions_and_a_pledge_copied_into_a_second_registry_release_nothing(
    spartacus: Spartacus,
    w3: Web3,
    second_registry: Registry,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
) -> None:
    campaign, (role,) = create_campaign(threshold=3, public=True)
    pledge(spartacus, campaign, "Alice", 2)
    real = Registry(w3, spartacus.registry)
    keystore, account = _custodian(spartacus, role)
    (listed,) = real.history(campaign).custodians
    key = keystore.campaign_key(listed.campaign_key)

    copy = second_registry
    copied = _copy_campaign(real, campaign, copy, account, listed.campaign_key)
    assert copied == campaign  # the same campaign id, on another registry
    _fake_pledges(copy, copied, listed.campaign_key, 2)
    assert copy.info(copied).status == Status.REVEALED

    with pytest.raises(KeyNotForThisRegistry):  # the first defence
        plan_release(copy, keystore, copied, account)
    records = copy.history(copied).roster_records()
    shares, problems = protocol.custodian_shares(
        key.secret, copy.deployment, copied, 0, 1, 1, records
    )
    assert 0 not in shares and "registry or chain" in problems[0]  # the instructions
    assert sorted(shares) == [1, 2]  # the attacker's own pledges, sealed for the copy

    (alice,) = real.history(campaign).active_records()
    assert protocol.custodian_shares(key.secret, real.deployment, campaign, 0, 1, 1, [alice])[0]
    shares, problems = protocol.custodian_shares(
        key.secret, copy.deployment, copied, 0, 1, 1, [alice]
    )
    assert shares == {} and "registry or chain" in problems[alice.index]


def test_a_fork_under_another_chain_id_gets_no_share_of_the_real_pledges(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
) -> None:
    campaign, (role,) = create_campaign(threshold=3, public=True)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    keystore, account = _custodian(spartacus, role)
    (listed,) = Registry(w3, spartacus.registry).history(campaign).custodians
    key = keystore.campaign_key(listed.campaign_key)

    with _fork(spartacus.rpc, FORK_CHAIN_ID) as url:
        forked = Registry(Web3(HTTPProvider(url)), spartacus.registry)
        assert forked.chain_id == FORK_CHAIN_ID and forked.address == spartacus.registry
        _fake_pledges(forked, campaign, listed.campaign_key, 1)  # reveals the fork
        assert forked.info(campaign).status == Status.REVEALED

        with pytest.raises(KeyNotForThisRegistry):  # the first defence
            plan_release(forked, keystore, campaign, account)
        history = forked.history(campaign)
        records = history.roster_records()
        shares, problems = protocol.custodian_shares(
            key.secret, forked.deployment, campaign, 0, 1, 1, records
        )
    assert sorted(problems) == [0, 1, 2]  # the instructions, Alice and Bob
    assert all("registry or chain" in problem for problem in problems.values())
    assert sorted(shares) == [3]  # the attacker's own pledge on the fork


def test_instructions_replayed_on_a_second_registry_with_their_key_do_not_decrypt(
    spartacus: Spartacus,
    w3: Web3,
    second_registry: Registry,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
) -> None:
    secret = "The real organiser: meet at the north gate at six"
    campaign, (role,) = create_campaign(threshold=2, public=True, instructions=secret)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    spartacus.ok(
        "custodian", "release", str(campaign), role=role.role, passphrase=role.passphrase, dev=None
    )
    real = Registry(w3, spartacus.registry)
    history = real.history(campaign)
    assert history.instructions is not None
    releases = [protocol.ReleaseRecord(r.custodian_index, r.data) for r in history.releases]
    roster = protocol.read_roster(
        real.deployment, campaign, 1, 1, history.roster_records(), releases,
        reader=None, reader_index=None,
    )  # fmt: skip
    assert roster.instructions == secret  # public after the reveal: the key is in the logs
    released = {
        index: share
        for r in releases
        for index, share in protocol.release_entries(protocol.parse_release(r.data).body, 1).items()
    }

    # The attacker lists its own custodian key on a second registry, copies the real
    # instructions there, reveals the copy and publishes the real instructions' key.
    attacker = dev_account(ATTACKER)
    attacker_key = protocol.derive_keys(protocol.new_secret()).member_key
    copy = second_registry
    copied = _copy_campaign(real, campaign, copy, attacker, attacker_key)
    _fake_pledges(copy, copied, attacker_key, 2)
    parts = protocol.build_release(
        copy.deployment, copied, 0, 0, {0: released[0]}, 1, recipients=None
    )
    for part in parts:
        copy.release(attacker, copied, part)

    history = copy.history(copied)
    releases = [protocol.ReleaseRecord(r.custodian_index, r.data) for r in history.releases]
    roster = protocol.read_roster(
        copy.deployment, copied, 1, 1, history.roster_records(), releases,
        reader=None, reader_index=None,
    )  # fmt: skip
    assert roster.instructions is None
    (problem,) = [p for p in roster.problems if p.startswith("the instructions")]
    assert "matches its commitment" in problem and "registry or chain" in problem
