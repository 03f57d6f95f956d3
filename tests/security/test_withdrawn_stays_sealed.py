"""A withdrawn pledge stays sealed after the reveal, even when everything else is public.

Two of three custodians, all three release, in both roster modes. Then the worst case for
the withdrawn member: every release on-chain, and every member's receipt code leaked,
including the withdrawn member's own. No custodian released any share of the withdrawn
pledge, in any part anyone can open, so no pair of custodians' shares rebuilds its key, and
the roster read with the withdrawn pledge put back among the active ones, by every reader,
still lists it as missing. (One custodian, through `roster`:
tests/cli/test_campaign_flow.py::test_withdrawn_pledge_is_never_released_members_roster and
::test_withdrawn_pledge_is_never_released_public_roster; the crypto alone:
tests/protocol/test_crypto.py::test_read_roster_withdrawn_pledge_never_readable.)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from web3 import Web3

from spartacus import protocol
from spartacus.chain.records import History
from spartacus.chain.registry import Registry
from tests.cli.conftest import CustodianRole, Spartacus, pledge


def _shares_anyone_can_see(
    deployment: protocol.Deployment,
    history: History,
    t: int,
    readers: list[tuple[int, protocol.PledgeKeys]],
) -> dict[int, set[int]]:
    """custodian -> pledge indices with a share in a public part or a part a reader opens."""
    seen: dict[int, set[int]] = {}
    parts = [(r.custodian_index, protocol.parse_release(r.data)) for r in history.releases]
    keys: dict[tuple[int, int], set[bytes]] = {}
    for custodian, part in parts:
        if part.kind == protocol.KIND_PUBLIC:
            seen.setdefault(custodian, set()).update(protocol.release_entries(part.body, t))
        elif part.kind == protocol.KIND_KEYS:
            for index, reader in readers:
                if index not in protocol.key_seal_indices(part):
                    continue
                key = protocol.open_key_seal(part, index, reader.member_secret)
                assert key is not None
                keys.setdefault((custodian, part.round), set()).add(key)
    for custodian, part in parts:
        if part.kind == protocol.KIND_SEALED:
            (key,) = keys[(custodian, part.round)]  # one release key per custodian and round
            opened = protocol.open_sealed_shares(
                part, key, deployment, history.campaign_id, custodian, t
            )
            seen.setdefault(custodian, set()).update(opened)
    return seen


@pytest.mark.parametrize("public", [False, True], ids=["members", "public"])
def test_a_withdrawn_pledge_stays_sealed_with_every_release_and_receipt_public(
    spartacus: Spartacus,
    w3: Web3,
    create_campaign: Callable[..., tuple[int, list[CustodianRole]]],
    public: bool,
) -> None:
    campaign, custodians = create_campaign(threshold=3, custodians=3, t=2, public=public)
    alice = pledge(spartacus, campaign, "Alice", 2)
    bob = pledge(spartacus, campaign, "Bob", 3)
    assert spartacus.ok("withdraw", str(campaign), role="bob", dev=3)["active"] == 1
    carol = pledge(spartacus, campaign, "Carol", 4)
    dave = pledge(spartacus, campaign, "Dave", 5)
    assert spartacus.ok("status", str(campaign))["status"] == "revealed"
    withdrawn = int(bob["index"])
    for custodian in custodians:
        released = spartacus.ok(
            "custodian", "release", str(campaign),
            role=custodian.role, passphrase=custodian.passphrase, dev=None,
        )  # fmt: skip
        assert withdrawn not in released["released"]

    registry = Registry(w3, spartacus.registry)
    history = registry.history(campaign)
    receipts = {
        int(p["index"]): protocol.derive_keys(protocol.decode_receipt(str(p["receipt"]))[1])
        for p in (alice, bob, carol, dave)
    }
    readers = sorted(receipts.items())
    active = {0, *(int(p["index"]) for p in (alice, carol, dave))}
    seen = _shares_anyone_can_see(registry.deployment, history, 2, readers)
    assert seen == {custodian: active for custodian in range(3)}

    # Put the withdrawn pledge back among the active ones and read as every member, as the
    # withdrawn member, and (public mode) as anyone: it never opens.
    everything = [history.instructions, *(p.record for p in history.pledges)]
    assert withdrawn in {r.index for r in everything if r is not None}
    releases = [protocol.ReleaseRecord(r.custodian_index, r.data) for r in history.releases]
    attempts: list[tuple[protocol.PledgeKeys | None, int | None]] = [
        (keys, index) for index, keys in readers
    ]
    if public:
        attempts.append((None, None))
    for reader, index in attempts:
        roster = protocol.read_roster(
            registry.deployment, campaign, 3, 2, [r for r in everything if r is not None], releases,
            reader=reader, reader_index=index,
        )  # fmt: skip
        assert withdrawn in roster.missing
        # In members mode the withdrawn member, no longer sealed to, reads nobody at all.
        readable = set() if not public and index == withdrawn else active - {0}
        assert {m.index for m in roster.members} == readable
        assert all(m.contact.name != "Bob" for m in roster.members)
