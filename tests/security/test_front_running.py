"""Front-running a withdrawal: Mallory sees Alice's withdrawal waiting in the mempool and
pays more to get a pledge of her own mined first, one that brings the campaign to N.

With a grace period the pledge only starts the grace period; Alice's withdrawal, mined
right after it in the same block, still counts, and the campaign falls back to open when
the grace period ends: nothing is released, Alice is never read. With no grace period the
overtaking pledge reveals the campaign at once and Alice's withdrawal is refused
(`WrongStatus`): the CLI says so, and Alice is in the roster. That is the limit the
threat model states; a grace period is the defence.

Also: Mallory copies Alice's signed withdrawal out of the mempool and sends it herself
first. It can only do what Alice asked: Alice is withdrawn, and the late copy is refused
(`NotPledged`).

On anvil with automine off, so both transactions wait in the same pool and the fee decides
the order, as on a public chain.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from spartacus.chain.records import Status
from spartacus.chain.registry import Registry
from spartacus.cli.context import dev_account
from spartacus.protocol.sealing import Sealed
from tests.cli.conftest import CustodianRole, Result, Spartacus, pledge
from tests.web.conftest import Web, new_pledger, pledge_body, withdraw_body

GWEI = 10**9
TIMEOUT = 30.0


def _automine(w3: Web3, on: bool) -> None:
    w3.provider.make_request("evm_setAutomine", [on])  # type: ignore[arg-type]


@pytest.fixture
def mempool(w3: Web3) -> Iterator[Callable[[], list[str]]]:
    """A reader of the pending transaction hashes; automine is back on after the test."""

    def pending() -> list[str]:
        content = w3.provider.make_request("txpool_content", [])  # type: ignore[arg-type]
        return [
            tx["hash"]
            for by_nonce in content["result"]["pending"].values()
            for tx in by_nonce.values()
        ]

    yield pending
    _automine(w3, True)
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def _in_background(run: Callable[[], Result]) -> tuple[threading.Thread, list[Result]]:
    out: list[Result] = []
    thread = threading.Thread(target=lambda: out.append(run()), daemon=True)
    thread.start()
    return thread, out


def _wait_for_pool(pending: Callable[[], list[str]], count: int) -> list[str]:
    end = time.monotonic() + TIMEOUT
    while time.monotonic() < end:
        hashes = pending()
        if len(hashes) >= count:
            return hashes
        time.sleep(0.05)
    raise AssertionError(f"expected {count} transactions in the pool, saw {pending()}")


def _send_ahead(w3: Web3, fn: Any, payer: Any) -> str:
    """Send ``fn`` from ``payer`` with a tip far above the default: mined first."""
    tx = fn.build_transaction(
        {
            "from": payer.address,
            "nonce": w3.eth.get_transaction_count(payer.address, "pending"),
            "gas": 600_000,
            "maxPriorityFeePerGas": 50 * GWEI,
            "maxFeePerGas": 200 * GWEI,
        }
    )
    signed = payer.sign_transaction(tx)
    return str(w3.eth.send_raw_transaction(signed.raw_transaction).to_0x_hex())


def _mallory_pledge(registry: Registry, campaign: int) -> Any:
    """A well-formed pledge from a fresh account (the sizes of a real one: Bob's, re-keyed)."""
    record = registry.history(campaign).pledges[-1].record
    sealed = Sealed(os.urandom(32), record.ciphertext, record.boxes, os.urandom(32))
    mallory = Account.create()
    signed = registry.sign_pledge(mallory, campaign, sealed)
    return registry.contract.functions.pledgeWithSig(
        campaign, mallory.address, sealed.as_abi(), signed.valid_until, signed.signature
    )


def _block_order(w3: Web3) -> list[str]:
    block = w3.eth.get_block("latest")
    return [h.to_0x_hex() for h in block["transactions"]]  # type: ignore[union-attr]


def _front_run_alice(
    spartacus: Spartacus, w3: Web3, campaign: int, pending: Callable[[], list[str]]
) -> tuple[Result, list[str], str]:
    """Alice withdraws through the CLI; while her transaction waits, Mallory's pledge goes
    ahead of it; one block mines both. Returns Alice's CLI result, the block's transaction
    order and Mallory's transaction hash."""
    registry = Registry(w3, spartacus.registry)
    mallory_fn = _mallory_pledge(registry, campaign)
    thread, out = _in_background(
        lambda: spartacus("withdraw", str(campaign), "--json", role="alice", dev=2)
    )
    (alice_tx,) = _wait_for_pool(pending, 1)
    mallory_tx = _send_ahead(w3, mallory_fn, dev_account(6))
    _wait_for_pool(pending, 2)
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    thread.join(TIMEOUT)
    assert not thread.is_alive() and out, "the CLI withdrawal did not return"
    order = _block_order(w3)
    assert order == [mallory_tx, alice_tx], "Mallory's pledge was not mined first"
    return out[0], order, mallory_tx


def _release(spartacus: Spartacus, campaign: int, custodian: CustodianRole) -> Result:
    return spartacus(
        "custodian", "release", str(campaign), "--json",
        role=custodian.role, passphrase=custodian.passphrase, dev=None,
    )  # fmt: skip


def _alice_and_bob(
    spartacus: Spartacus, w3: Web3, create_campaign: Callable[..., Any], grace: str
) -> tuple[int, CustodianRole]:
    """A campaign for 3 with Alice and Bob in it; automine off from here on."""
    campaign, (custodian,) = create_campaign(threshold=3, grace=grace)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    _automine(w3, False)
    return campaign, custodian


def test_a_withdrawal_overtaken_by_the_nth_pledge_still_counts_in_the_grace_period(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    travel: Callable[[int], None],
    mempool: Callable[[], list[str]],
) -> None:
    campaign, custodian = _alice_and_bob(spartacus, w3, create_campaign, "1h")

    alice, _, _ = _front_run_alice(spartacus, w3, campaign, mempool)

    assert alice.exit_code == 0, alice.stderr
    assert alice.data["withdrawn"] is True and alice.data["active"] == 2
    _automine(w3, True)
    status = spartacus.ok("status", str(campaign))
    assert (status["status"], status["active"]) == ("pending", 2)
    refused = _release(spartacus, campaign, custodian)
    assert refused.exit_code != 0 and "pending" in refused.stderr
    travel(2 * 3600)
    spartacus.ok("finalize", str(campaign))
    assert spartacus.ok("status", str(campaign))["status"] == "open"
    assert Registry(w3, spartacus.registry).history(campaign).releases == []


def test_without_a_grace_period_the_overtaking_pledge_reveals_and_the_withdrawal_is_refused(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    mempool: Callable[[], list[str]],
) -> None:
    campaign, custodian = _alice_and_bob(spartacus, w3, create_campaign, "0")

    alice, order, _ = _front_run_alice(spartacus, w3, campaign, mempool)

    assert alice.exit_code != 0
    assert "revealed" in alice.stderr and "Traceback" not in alice.stderr
    assert w3.eth.get_transaction_receipt(order[1])["status"] == 0  # type: ignore[arg-type]
    _automine(w3, True)
    assert Registry(w3, spartacus.registry).status_of(campaign) == Status.REVEALED
    assert _release(spartacus, campaign, custodian).exit_code == 0
    roster = spartacus.ok("roster", str(campaign), role="bob")
    assert "Alice" in [m["name"] for m in roster["members"]]  # the limit, stated in the docs


def test_a_copied_withdrawal_signature_only_withdraws_its_signer(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    mempool: Callable[[], list[str]],
) -> None:
    campaign, _ = _alice_and_bob(spartacus, w3, create_campaign, "1h")
    registry = Registry(w3, spartacus.registry)

    thread, out = _in_background(
        lambda: spartacus("withdraw", str(campaign), "--json", role="alice", dev=2)
    )
    (alice_tx,) = _wait_for_pool(mempool, 1)
    seen = w3.eth.get_transaction(alice_tx)  # what Mallory reads from the pool
    _, args = registry.contract.decode_function_input(seen["input"])
    copy = registry.contract.functions.withdrawWithSig(
        args["campaignId"], args["account"], args["validUntil"], args["signature"]
    )
    mallory_tx = _send_ahead(w3, copy, dev_account(6))
    _wait_for_pool(mempool, 2)
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    thread.join(TIMEOUT)
    assert not thread.is_alive() and out

    assert _block_order(w3) == [mallory_tx, alice_tx]
    assert out[0].exit_code != 0 and "has no active pledge in campaign" in out[0].stderr
    assert w3.eth.get_transaction_receipt(mallory_tx)["status"] == 1  # type: ignore[arg-type]
    assert w3.eth.get_transaction_receipt(alice_tx)["status"] == 0  # type: ignore[arg-type]
    _automine(w3, True)
    history = registry.history(campaign)
    (withdrawn,) = history.withdrawals
    assert withdrawn.index == 1  # Alice's pledge, and nobody else's
    assert [r.index for r in history.active_records()] == [2]
    assert registry.info(campaign).active == 1


@pytest.mark.parametrize(("grace", "status"), [("1h", 200), ("0", 409)], ids=["grace", "no-grace"])
def test_a_relayed_withdrawal_overtaken_by_the_nth_pledge(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    mempool: Callable[[], list[str]],
    web: Web,
    grace: str,
    status: int,
) -> None:
    """The same race through the web relayer: with a grace period the withdrawal lands
    (gas headroom); without, the relayer answers 409 with the registry's reason, so the
    page knows nothing was recorded rather than 'maybe sent'."""
    campaign, _ = create_campaign(threshold=3, grace=grace)
    alice, bob = new_pledger("Alice", "a@x.org"), new_pledger("Bob", "b@x.org")
    web.sync()
    for pledger in (alice, bob):
        assert web.post("/api/relay/pledge", pledge_body(web, campaign, pledger)).status_code == 200
    body = withdraw_body(web, campaign, alice, nonce=1)
    registry = Registry(w3, spartacus.registry)
    mallory_fn = _mallory_pledge(registry, campaign)
    _automine(w3, False)

    thread, out = _in_background(lambda: web.post("/api/relay/withdraw", body))
    (alice_tx,) = _wait_for_pool(mempool, 1)
    mallory_tx = _send_ahead(w3, mallory_fn, dev_account(6))
    _wait_for_pool(mempool, 2)
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    thread.join(TIMEOUT)
    assert not thread.is_alive() and out
    assert _block_order(w3) == [mallory_tx, alice_tx]
    _automine(w3, True)

    answer = out[0]
    reply = answer.get_json()
    assert answer.status_code == status, reply
    if status == 200:
        assert reply["txHash"] == alice_tx and reply["active"] == 2  # Bob and Mallory
    else:
        # Mined in its batch, skipped there (BatchItemRefused): the registry's reason.
        assert reply["error"] == f"campaign {campaign} is revealed; nothing was recorded"
    active = registry.pledge_of(campaign, alice.keys.account)[0]
    assert active is (status != 200)
