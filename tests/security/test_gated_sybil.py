"""Sybil reveal on a gated campaign: one invitation is one member, whatever the accounts.

The employer's attack of issue #12: on a campaign with threshold N, pledge N times from fresh
accounts (free through the site's relayer) so that the campaign reveals to the attacker. On
an open campaign it works (the last test: nothing but the grace period, the relayer's
slowdown and the page stand in the way). On a campaign gated to a group, the attacker who
holds one invitation holds one membership: its second pledge, from a fresh account, is
refused by the CLI before proving is even useful, by the relayer before it spends gas, and by
the registry itself (``NullifierInUse``) when sent straight to it. Real proofs, real anvil,
the real CLI and relayer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from markupsafe import escape
from web3 import Web3

from spartacus import protocol, semaphore
from spartacus.chain.registry import Registry
from spartacus.cli.context import dev_account
from spartacus.exceptions import ContractRevert
from spartacus.web import bodies
from tests.cli.conftest import CustodianRole, Spartacus, pledge
from tests.web.conftest import Web


def _group_with(spartacus: Spartacus, *roles: tuple[str, int]) -> int:
    """The admin makes a group and hands one invitation to each role, who joins."""
    group = spartacus.ok("group", "create", "--name", "Night shift", role="admin")["group"]
    invited = spartacus.ok("group", "invite", str(group), "--count", str(len(roles)), role="admin")
    for (role, dev), invitation in zip(roles, invited["invitations"], strict=True):
        spartacus.ok("group", "join", invitation["code"], role=role, dev=dev)
    return int(group)


def _identity(spartacus: Spartacus, role: str) -> semaphore.Identity:
    (path,) = (spartacus.home(role) / "identities").rglob("*.json")
    saved = json.loads(path.read_text())
    return semaphore.Identity(saved["backup"], int(saved["commitment"]))


def _gated_body(
    web: Web, campaign: int, identity: semaphore.Identity, name: str
) -> tuple[dict[str, Any], Any]:
    """A gated pledge as a client builds it for a FRESH pledge account, with a proof made for
    it by ``identity`` straight through the prover (no client-side check): the body for the
    relayer, and the pieces to send it to the registry directly."""
    registry: Registry = web.state.registry
    info = web.get(f"/api/campaigns/{campaign}").get_json()
    keys = protocol.derive_keys(protocol.new_secret())
    custodian_keys = [bytes.fromhex(c["campaignKey"][2:]) for c in info["custodians"]]
    sealed = protocol.seal_pledge(
        registry.deployment, campaign, keys, protocol.Contact(name, f"{name}@x.org"),
        custodian_keys, info["custodianThreshold"],
    )  # fmt: skip
    account = Account.from_key(keys.account_key)
    signed = registry.sign_pledge(account, campaign, sealed, nonce=0)
    group = registry.info(campaign).group
    proof = semaphore.prove(
        identity.backup,
        registry.groups.members(group),
        registry.membership_scope(campaign),
        registry.membership_message(campaign, account.address, sealed, signed, 0),
    )
    body = bodies.pledge_request(
        campaign, account.address, sealed, signed.valid_until, signed.signature, proof
    )
    return body, (account.address, sealed, signed, proof)


def test_one_invitation_cannot_reach_the_threshold_alone(
    spartacus: Spartacus,
    w3: Web3,
    web: Web,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
) -> None:
    group = _group_with(spartacus, ("alice", 2), ("mallory", 4))
    campaign, _ = create_campaign(threshold=3, group=group)
    web.sync()

    # The honest member joins through the site's relayer, with a proof made in her client.
    body, _ = _gated_body(web, campaign, _identity(spartacus, "alice"), "alice")
    answer = web.post("/api/relay/pledge", body)
    assert answer.status_code == 200, answer.get_json()

    # The attacker's one membership counts once (the CLI proves by itself, paying directly)...
    assert pledge(spartacus, campaign, "Mallory", 4)["active"] == 2

    # ...its second pledge from a fresh pledge account is refused by the CLI,
    second = spartacus(
        "pledge", str(campaign), "--name", "Sybil", "--contact", "s@x.org", role="mallory", dev=4
    )
    assert second.exit_code == 1
    assert "already holds active pledge #2" in second.stderr, second.stderr

    # by the relayer, before it spends anything,
    relayer = web.state.relayer
    assert relayer is not None
    balance = relayer.balance()
    body, (account, sealed, signed, proof) = _gated_body(
        web, campaign, _identity(spartacus, "mallory"), "sybil"
    )
    refused = web.post("/api/relay/pledge", body)
    assert refused.status_code == 409
    assert "one active pledge per member" in refused.get_json()["error"]
    assert relayer.balance() == balance

    # and by the registry itself when sent straight to it, skipping every client check.
    registry = Registry(w3, spartacus.registry)
    with pytest.raises(ContractRevert) as info:
        registry.pledge_gated_with_sig(dev_account(4), campaign, account, sealed, signed, proof)
    assert info.value.name == "NullifierInUse"
    assert info.value.args_by_name == {
        "campaignId": campaign, "nullifier": proof.nullifier, "index": 2,
    }  # fmt: skip

    status = spartacus.ok("status", str(campaign))
    assert (status["status"], status["active"]) == ("open", 2)

    # Who may join is said plainly: the group, its size and its admin (anyone can compare).
    admin = spartacus.ok("group", "status", str(group))["admin"]
    who = f'members of group {group} "Night shift" (2 members, admin {admin}), one active pledge'
    assert (status["group"], status["groupSize"], status["groupAdmin"]) == (group, 2, admin)
    assert f"  who        {who}" in spartacus("status", str(campaign)).stdout
    web.sync()
    page = web.get(f"/c/{campaign}").get_data(as_text=True)
    assert f'<dd id="who-may-join">M{escape(who[1:])}' in page


def test_without_a_group_the_same_pledges_reveal(
    spartacus: Spartacus, create_campaign: Callable[..., tuple[int, list[CustodianRole]]]
) -> None:
    """The same attacker on an open campaign (what every campaign was before gating): two
    fresh pledge accounts are two pledges, and the campaign reveals."""
    campaign, _ = create_campaign(threshold=2)
    pledge(spartacus, campaign, "Mallory", 4)
    second = spartacus.ok(
        "pledge", str(campaign), "--name", "Sybil", "--contact", "s@x.org", role="mallory", dev=4
    )
    assert second["active"] == 2
    status = spartacus.ok("status", str(campaign))
    assert status["status"] == "revealed"
    assert status["group"] == 0
    assert status["whoMayJoin"].startswith("anyone: the campaign is not Sybil-protected")


def test_pledge_to_gated_campaign_without_identity_says_how_to_join(
    spartacus: Spartacus, create_campaign: Callable[..., tuple[int, list[CustodianRole]]]
) -> None:
    group = _group_with(spartacus, ("alice", 2))
    campaign, _ = create_campaign(threshold=2, group=group)
    stranger = spartacus(
        "pledge", str(campaign), "--name", "Eve", "--contact", "e@x.org", role="eve", dev=5
    )
    assert stranger.exit_code == 1
    assert f"members of group {group} only" in stranger.stderr
    assert "spartacus group join CODE" in stranger.stderr
