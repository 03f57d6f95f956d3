"""A copycat registry replays a real campaign to a real custodian, which must give it nothing.

The attack: anyone deploys a 30-line contract (``COPYCAT`` below) that emits the registry's
own events. It names a real custodian and the campaign key that custodian endorsed for a
real campaign on the real registry, replays that campaign's sealed instructions and pledges
under the same campaign id (ciphertexts and boxes copied byte for byte, a pledge withdrawn
on the real registry included, its withdrawal left out), says the campaign is revealed with
a public roster, and accepts ``release`` from anyone. In protocol v1 the boxes opened with
the real key and their binding (campaign id, member key, account, ciphertext) held, because
nothing named the chain or the registry (v2 binds both: test_cross_registry_replay.py). A
custodian whose daemon, or whose ``spartacus custodian release``, is pointed at the copycat
from its usual home used to release its shares there in the clear: the attacker read every
member, the withdrawn one too. A copycat that said "expired" instead made the daemon destroy
the key the real campaign still needs.

The defence: every campaign key records the chain and registry it was issued for
(``Keystore.new_campaign_key``), and a custodian acts with a key only on that registry
(``Keystore.campaign_key_for``). The daemon refuses before it reads the campaign's status:
nothing is released, finalised, expired, mailed or destroyed, one ``problem`` line says
"campaign key issued for <chain>:<registry>, not this registry", and ``custodian status``
shows it. ``plan_release`` raises ``KeyNotForThisRegistry``, so a release by hand is refused
with the same words. The key is kept and still serves its real campaign.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import HTTPProvider, Web3
from web3.contract import Contract

from spartacus import protocol
from spartacus.chain.registry import Registry
from spartacus.chain.sender import Sender
from spartacus.cli.context import dev_account
from spartacus.custodian.keystore import Keystore
from spartacus.custodian.release_plan import plan_release
from spartacus.dev import build
from spartacus.exceptions import KeyNotForThisRegistry
from tests.cli.conftest import CustodianRole, Spartacus, pledge
from tests.custodian.conftest import Daemon, wait_until

COPYCAT = """// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.37;

import {ISpartacus} from "contracts/interfaces/ISpartacus.sol";

/// Replays a campaign's events under its id, answers `status` for it, takes any release.
contract Copycat {
    uint256 public campaignCount;
    address internal custodian;
    ISpartacus.Status internal status = ISpartacus.Status.Revealed;
    uint48 internal last;  // chains its events like the registry, so readers walk them

    modifier chained() { _; last = uint48(block.number); }

    function assign(uint256 id, address who, bytes32 key, ISpartacus.Sealed calldata s)
        external chained
    {
        (campaignCount, custodian) = (id, who);
        emit ISpartacus.CustodianAssigned(id, who, 0, key, 0, "", last);
        emit ISpartacus.InstructionsSealed(id, s, uint48(block.number));
    }

    function replay(uint256 id, address account, uint32 index, ISpartacus.Sealed calldata s)
        external chained
    {
        emit ISpartacus.Pledged(
            id, account, index, s.memberKey, s.ciphertext, s.boxes, s.commitment, index, last
        );
    }

    function setStatus(ISpartacus.Status s) external { status = s; }

    function expire(uint256) external {}  // takes a custodian's courtesy call, and its gas

    function statusOf(uint256) external view returns (ISpartacus.Status) { return status; }

    function campaign(uint256) external view returns (ISpartacus.CampaignInfo memory c) {
        (c.status, c.threshold, c.custodianThreshold) = (status, 2, 1);
        c.deadline = uint64(block.timestamp + 30 days);
        c.rosterMode = ISpartacus.RosterMode.Public;
        c.custodians = new address[](1);
        c.custodians[0] = custodian;
        c.lastEventBlock = last;
    }

    function release(uint256 id, bytes calldata data) external chained {
        emit ISpartacus.Released(id, msg.sender, 0, data, last);
    }
}
"""


@pytest.fixture(scope="module")
def copycat_artifact() -> dict[str, Any]:
    """The copycat compiled with the project's own compiler (py-solc-x, solc 0.8.37)."""
    # The interface imports Semaphore's (gated pledges): the build's own source list brings
    # it and everything it imports from node_modules.
    sources = {"Copycat.sol": {"content": COPYCAT}, **build.project_sources()}
    output = build.compile_standard(
        {
            "language": "Solidity",
            "sources": sources,
            "settings": {
                "evmVersion": "cancun",
                "remappings": build.REMAPPINGS,
                "outputSelection": {"Copycat.sol": {"Copycat": ["abi", "evm.bytecode.object"]}},
            },
        }
    )
    compiled = output["contracts"]["Copycat.sol"]["Copycat"]
    return {"abi": compiled["abi"], "bytecode": "0x" + compiled["evm"]["bytecode"]["object"]}


@pytest.fixture
def copy_campaign(
    w3: Web3, copycat_artifact: dict[str, Any]
) -> Callable[[Registry, int, CustodianRole], Contract]:
    """Factory: deploy a copycat replaying ``campaign`` of ``registry`` for ``custodian``."""
    attacker = Sender(w3, dev_account(9))

    def copy(registry: Registry, campaign: int, custodian: CustodianRole) -> Contract:
        factory = w3.eth.contract(**copycat_artifact)
        receipt = attacker.transact(factory.constructor())
        copycat = w3.eth.contract(address=receipt["contractAddress"], abi=factory.abi)
        history = registry.history(campaign)
        assert history.instructions is not None
        (real,) = [c for c in history.custodians if c.account == custodian.address]
        fn = copycat.functions.assign(
            campaign, real.account, real.campaign_key, _sealed(history.instructions)
        )
        attacker.transact(fn)
        for event in history.pledges:  # every pledge, the withdrawn one too
            record = event.record
            fn = copycat.functions.replay(campaign, record.account, record.index, _sealed(record))
            attacker.transact(fn)
        return copycat

    return copy


def _sealed(record: protocol.PledgeRecord) -> tuple[bytes, bytes, bytes, bytes]:
    return (record.member_key, record.ciphertext, record.boxes, record.commitment)


@pytest.fixture
def watchers(anvil_rpc: str) -> Iterator[Callable[[Spartacus, CustodianRole], Daemon]]:
    """Factory: a `spartacus watch --once` for ``custodian`` against ``spartacus.registry``."""
    started: list[Daemon] = []

    def start(spartacus: Spartacus, custodian: CustodianRole) -> Daemon:
        daemon = Daemon(spartacus, custodian, ["--once", "--confirmations", "0"], anvil_rpc)
        started.append(daemon.start())
        assert daemon.process is not None and daemon.process.wait(timeout=60) == 0
        wait_until(lambda: daemon.events("watcher_stopped"), "its last log line", daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill()


def _real_campaign_with_a_withdrawal(
    spartacus: Spartacus, create_campaign: Callable[..., tuple[int, list[CustodianRole]]]
) -> tuple[int, CustodianRole, int]:
    """A members-only campaign on the real registry, still open: Alice pledged, Bob pledged
    and withdrew. Returns (campaign, its custodian, Bob's pledge index)."""
    campaign, (custodian,) = create_campaign(threshold=3)
    pledge(spartacus, campaign, "Alice", 2)
    bob = int(pledge(spartacus, campaign, "Bob", 3)["index"])
    assert spartacus.ok("withdraw", str(campaign), role="bob", dev=3)["active"] == 1
    assert spartacus.ok("status", str(campaign))["status"] == "open"
    return campaign, custodian, bob


def _names_the_attacker_reads(w3: Web3, copycat: Contract, campaign: int) -> list[str]:
    """The public roster the copycat's own logs give anyone (no key needed)."""
    registry = Registry(w3, copycat.address)
    history = registry.history(campaign)
    releases = [protocol.ReleaseRecord(r.custodian_index, r.data) for r in history.releases]
    roster = protocol.read_roster(
        registry.deployment,
        campaign,
        1,
        1,
        history.roster_records(),
        releases,
        reader=None,
        reader_index=None,
    )
    return sorted(m.contact.name for m in roster.members)


def _key_file(
    spartacus: Spartacus, custodian: CustodianRole, registry: Registry, campaign: int
) -> Path:
    """The custodian's file for the campaign key it endorsed for ``campaign``."""
    (real,) = registry.history(campaign).custodians
    return spartacus.home(custodian.role) / "custodian" / "keys" / f"{real.campaign_key.hex()}.json"


def _copied(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    copy_campaign: Callable[[Registry, int, CustodianRole], Contract],
) -> tuple[int, CustodianRole, int, Registry, Contract, Path]:
    """A real campaign with a withdrawal, its copycat, and the custodian's real key file:
    (campaign, custodian, withdrawn pledge, real registry, copycat, key file)."""
    campaign, custodian, bob = _real_campaign_with_a_withdrawal(spartacus, create_campaign)
    real = Registry(w3, spartacus.registry)
    copycat = copy_campaign(real, campaign, custodian)
    return campaign, custodian, bob, real, copycat, _key_file(spartacus, custodian, real, campaign)


def test_daemon_pointed_at_a_copycat_registry_releases_nothing_and_keeps_the_key(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    copy_campaign: Callable[[Registry, int, CustodianRole], Contract],
    watchers: Callable[[Spartacus, CustodianRole], Daemon],
) -> None:
    campaign, custodian, bob, real, copycat, key_file = _copied(
        spartacus, w3, create_campaign, copy_campaign
    )

    # The custodian's daemon, from its usual home, is pointed at the copycat.
    at_copycat = Spartacus(spartacus.rpc, copycat.address, spartacus.root)
    daemon = watchers(at_copycat, custodian)
    assert daemon.events("campaign_found", campaign=campaign)
    assert _names_the_attacker_reads(w3, copycat, campaign) == []  # was ["Alice", "Bob"]
    assert daemon.events("release_sent") == []
    assert Registry(w3, copycat.address).history(campaign).releases == []
    issued_for = f"{real.chain_id}:{real.address}"
    (refused,) = daemon.events("problem", campaign=campaign)
    assert f"campaign key issued for {issued_for}, not this registry" in refused["reason"]
    assert daemon.events("key_destroyed") == [] and key_file.exists()

    text = at_copycat(
        "custodian", "status", role=custodian.role, passphrase=custodian.passphrase, dev=None
    ).stdout
    assert f"campaign key issued for {issued_for}, not this registry" in text
    status = at_copycat.ok(
        "custodian", "status", role=custodian.role, passphrase=custodian.passphrase, dev=None
    )
    (watched,) = status["campaigns"]
    assert watched["registry"] == copycat.address and "not this registry" in watched["refused"]

    # The key still serves its real campaign: it reveals, and the withdrawn pledge stays out.
    pledge(spartacus, campaign, "Carol", 4)
    pledge(spartacus, campaign, "Dave", 5)
    released = spartacus.ok(
        "custodian", "release", str(campaign),
        role=custodian.role, passphrase=custodian.passphrase, dev=None,
    )  # fmt: skip
    assert released["released"] and bob not in released["released"]


def test_daemon_told_expired_by_a_copycat_keeps_the_key(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    copy_campaign: Callable[[Registry, int, CustodianRole], Contract],
    watchers: Callable[[Spartacus, CustodianRole], Daemon],
) -> None:
    campaign, custodian, _, real, copycat, key_file = _copied(
        spartacus, w3, create_campaign, copy_campaign
    )
    Sender(w3, dev_account(9)).transact(copycat.functions.setStatus(4))  # Status.Expired

    daemon = watchers(Spartacus(spartacus.rpc, copycat.address, spartacus.root), custodian)
    assert daemon.events("key_destroyed") == [] and key_file.exists()
    assert daemon.events("expire_sent") == []
    (refused,) = daemon.events("problem", campaign=campaign)
    assert "not this registry" in refused["reason"]


def test_copycat_naming_a_key_never_held_gets_no_transaction(
    spartacus: Spartacus,
    w3: Web3,
    make_custodians: Callable[[int], list[CustodianRole]],
    copycat_artifact: dict[str, Any],
    watchers: Callable[[Spartacus, CustodianRole], Daemon],
) -> None:
    """Any contract may name any custodian with any key and say "expired": the daemon used
    to send it the courtesy ``expire()`` (the custodian's gas, spent at a stranger's call)."""
    (custodian,) = make_custodians(1)
    attacker = Sender(w3, dev_account(9))
    factory = w3.eth.contract(**copycat_artifact)
    copycat = w3.eth.contract(
        address=attacker.transact(factory.constructor())["contractAddress"], abi=factory.abi
    )
    stranger_key = protocol.new_secret()  # 32 bytes: a key this custodian never issued
    empty = (b"\x00" * 32, b"", b"", b"\x00" * 32)
    attacker.transact(copycat.functions.assign(1, custodian.address, stranger_key, empty))
    attacker.transact(copycat.functions.setStatus(4))  # Status.Expired
    nonce = w3.eth.get_transaction_count(custodian.address)

    daemon = watchers(Spartacus(spartacus.rpc, copycat.address, spartacus.root), custodian)
    assert daemon.events("campaign_found", campaign=1)
    assert daemon.events("expire_sent") == []
    assert w3.eth.get_transaction_count(custodian.address) == nonce
    (missing,) = daemon.events("problem", campaign=1)
    assert missing["problem"] == "campaign key not held"


def test_release_by_hand_at_a_copycat_registry_is_refused(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    copy_campaign: Callable[[Registry, int, CustodianRole], Contract],
) -> None:
    campaign, custodian, _, real, copycat, _ = _copied(
        spartacus, w3, create_campaign, copy_campaign
    )
    issued_for = f"{real.chain_id}:{real.address}"

    at_copycat = Spartacus(spartacus.rpc, copycat.address, spartacus.root)
    result = at_copycat(
        "custodian", "release", str(campaign),
        role=custodian.role, passphrase=custodian.passphrase, dev=None,
    )  # fmt: skip
    assert _names_the_attacker_reads(w3, copycat, campaign) == []  # was ["Alice", "Bob"]
    assert result.exit_code != 0
    assert f"campaign key issued for {issued_for}, not this registry" in result.stderr
    fake = Registry(Web3(HTTPProvider(spartacus.rpc)), copycat.address)
    assert fake.history(campaign).releases == []

    keystore = Keystore(spartacus.home(custodian.role), custodian.passphrase)
    with pytest.raises(KeyNotForThisRegistry, match=f"issued for {issued_for}, not this"):
        plan_release(fake, keystore, campaign, keystore.account())
    assert _key_file(spartacus, custodian, real, campaign).exists()
