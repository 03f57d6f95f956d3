"""Crypto alone, no chain: pledges sealed, boxes opened and pledges read per second (1 core)."""

from __future__ import annotations

import os
from typing import Any

import pyshamir
from nacl.public import PrivateKey

from spartacus import protocol
from spartacus.protocol import shamir

from .scale import median_time

CAMPAIGN = 7
DEPLOYMENT = protocol.Deployment(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")


def _custodians(n: int) -> list[PrivateKey]:
    return [PrivateKey.generate() for _ in range(n)]


def _records(
    count: int, keys: list[bytes], t: int
) -> tuple[list[protocol.PledgeRecord], protocol.PledgeKeys]:
    records = []
    reader = protocol.derive_keys(protocol.new_secret())
    for index in range(count + 1):
        pledge = protocol.derive_keys(protocol.new_secret())
        if index == 0:
            sealed = protocol.seal_instructions(DEPLOYMENT, pledge, "Meet Monday", keys, t)
            account = protocol.ZERO_ACCOUNT
        else:
            contact = protocol.Contact(f"Member {index}", f"m{index}@example.org", "In.")
            sealed = protocol.seal_pledge(DEPLOYMENT, CAMPAIGN, pledge, contact, keys, t)
            account = pledge.account
        if index == 1:
            reader = pledge
        records.append(protocol.PledgeRecord(index, account, *sealed.as_abi()))
    return records, reader


def per_second(count: int, seconds: float) -> float:
    return round(count / seconds, 1)


def _config(n: int, t: int, count: int, runs: int) -> dict[str, Any]:
    """Seal, open boxes and read a roster for one (n, t)."""
    custodians = _custodians(n)
    keys = [bytes(c.public_key) for c in custodians]
    pledge = protocol.derive_keys(protocol.new_secret())
    contact = protocol.Contact("Member", "m@example.org", "In.")

    def seal_only() -> None:
        for _ in range(count):
            protocol.seal_pledge(DEPLOYMENT, CAMPAIGN, pledge, contact, keys, t)

    def seal_whole() -> None:
        for _ in range(count):
            fresh = protocol.derive_keys(protocol.new_secret())
            protocol.seal_pledge(DEPLOYMENT, CAMPAIGN, fresh, contact, keys, t)

    size = count if t == 1 else count // 2
    records, reader = _records(size, keys, t)
    secrets = [bytes(c) for c in custodians]

    def open_boxes() -> None:
        protocol.custodian_shares(secrets[0], DEPLOYMENT, CAMPAIGN, 0, n, t, records)

    releases = []
    recipients = {r.index: r.member_key for r in records}
    for index, secret in enumerate(secrets):
        shares, problems = protocol.custodian_shares(
            secret, DEPLOYMENT, CAMPAIGN, index, n, t, records
        )
        assert not problems
        parts = protocol.build_release(
            DEPLOYMENT, CAMPAIGN, index, 0, shares, t, recipients=recipients,
            release_key=protocol.release_key(secret, 0),
        )  # fmt: skip
        releases += [protocol.ReleaseRecord(index, part) for part in parts]

    def read() -> protocol.Roster:
        return protocol.read_roster(
            DEPLOYMENT, CAMPAIGN, n, t, records, releases, reader=reader, reader_index=1
        )

    roster = read()
    assert len(roster.members) == size and not roster.problems, roster.problems[:3]
    return {
        "pledges_sealed_per_second": per_second(count, median_time(seal_only, runs)),
        "pledges_built_per_second_with_key_derivation": per_second(
            count, median_time(seal_whole, runs)
        ),
        "boxes_opened_per_second": per_second(len(records), median_time(open_boxes, runs)),
        "roster_pledges_opened_per_second": per_second(
            size, median_time(read, runs if t == 1 else min(runs, 3))
        ),
        "roster_size": size,
        "custodians_releasing": n,
    }


def measure(*, quick: bool, runs: int) -> dict[str, Any]:
    count = 100 if quick else 500
    out: dict[str, Any] = {f"n{n}_t{t}": _config(n, t, count, runs) for n, t in ((1, 1), (3, 2))}
    key = os.urandom(32)
    parts = [bytes(s) for s in pyshamir.split(key, 3, 2)]
    reps = 200 if quick else 1_000

    def slow() -> None:
        for _ in range(reps // 10):
            pyshamir.combine([bytearray(p) for p in parts[:2]])

    def fast() -> None:
        for _ in range(reps * 10):
            shamir.combine(parts[:2])

    assert shamir.combine(parts[:2]) == key == bytes(pyshamir.combine(parts[1:]))
    out["shamir_combine_per_second"] = {
        "pyshamir": per_second(reps // 10, median_time(slow, runs)),
        "spartacus.protocol.shamir (used by combine_shares)": per_second(
            reps * 10, median_time(fast, runs)
        ),
    }
    return out
