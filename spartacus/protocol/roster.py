"""Reading the roster (docs/protocol.md, "Release data"): gather each pledge's shares from
the releases, rebuild and check its key, decrypt names, contacts and the instructions.

The one place a roster is decrypted: ``decrypt_pledges`` turns shares into contacts and
instructions, for members (``read_roster``, from the releases) and for the custodian's
mailer (from its own shares).
"""

from __future__ import annotations

import hmac
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..exceptions import CryptoError, InvalidRelease, InvalidShare
from .payload import Contact, commitment, decode_contact, decode_instructions, decrypt_payload
from .primitives import Deployment, check_custodians
from .release import (
    KIND_KEYS,
    KIND_PUBLIC,
    KIND_SEALED,
    ReleasePart,
    open_key_seal,
    open_sealed_shares,
    parse_release,
    release_entries,
)
from .sealing import PledgeRecord, record_context
from .secret import PledgeKeys
from .shamir import combine_shares

# ---------------------------------------------------------------------- the roster


@dataclass(frozen=True)
class ReleaseRecord:
    """A ``Released`` event: custodian index (0-based, custodian order) and its data."""

    custodian_index: int
    data: bytes


@dataclass(frozen=True)
class RosterEntry:
    """One readable pledge."""

    index: int
    account: str
    contact: Contact


@dataclass(frozen=True)
class Roster:
    """What a reader can see: readable pledges, the instructions, and what went wrong.

    ``missing`` lists the active pledge indices (never 0; see ``instructions``) that cannot
    be read yet. ``problems`` are human-readable: wrong custodian shares, commitment
    mismatches, undecryptable pledges, malformed releases.
    """

    members: list[RosterEntry]
    instructions: str | None
    missing: list[int]
    problems: list[str]


def _names(custodians: Sequence[int]) -> str:
    return ", ".join(str(c) for c in custodians)


class _Shares:
    """Shares gathered per pledge index, one per custodian (the first it released)."""

    def __init__(self, active: Mapping[int, PledgeRecord]) -> None:
        self.active = active
        self.by_index: dict[int, dict[int, bytes]] = {}
        self.unknown: dict[int, set[int]] = {}
        self.conflicts: dict[int, set[int]] = {}

    def add(self, custodian: int, entries: Mapping[int, bytes]) -> None:
        for index, share in entries.items():
            if index not in self.active:
                self.unknown.setdefault(custodian, set()).add(index)
                continue
            held = self.by_index.setdefault(index, {})
            if custodian not in held:
                held[custodian] = share
            elif not hmac.compare_digest(held[custodian], share):
                self.conflicts.setdefault(custodian, set()).add(index)

    def problems(self) -> list[str]:
        found = [
            f"custodian {c} released shares for pledges {_names(sorted(i))}, which are not "
            "active pledges"
            for c, i in sorted(self.unknown.items())
        ]
        found += [
            f"custodian {c} released two different shares for pledges {_names(sorted(i))}; "
            "the first is used"
            for c, i in sorted(self.conflicts.items())
        ]
        return found


def _consistent(share: bytes, chosen: Sequence[bytes], key: bytes, t: int) -> bool:
    """Whether ``share`` lies on the polynomial that ``chosen`` (t shares of ``key``) define."""
    if t == 1:
        return hmac.compare_digest(share, key)
    if share in chosen:
        return True
    others = [c for c in chosen if c[-1] != share[-1]][: t - 1]
    if len(others) < t - 1:
        return False
    try:
        return hmac.compare_digest(combine_shares([*others, share], t), key)
    except InvalidShare:
        return False


def recover_key(
    shares: Mapping[int, bytes], t: int, expected: bytes
) -> tuple[bytes | None, list[int]]:
    """Find t shares (custodian -> share) that rebuild a key matching ``expected``.

    Returns ``(key, custodians whose shares do not fit it)``, or ``(None, [])``.
    """
    custodians = sorted(shares)
    for subset in itertools.combinations(custodians, t):
        chosen = [shares[c] for c in subset]
        try:
            key = combine_shares(chosen, t)
        except InvalidShare:
            continue
        if hmac.compare_digest(commitment(key), expected):
            bad = [
                c
                for c in custodians
                if c not in subset and not _consistent(shares[c], chosen, key, t)
            ]
            return key, bad
    return None, []


def _release_keys(
    parts: Sequence[tuple[int, ReleasePart]], reader: PledgeKeys, reader_index: int
) -> tuple[dict[tuple[int, int], list[bytes]], list[str]]:
    """Open the reader's key seals: (custodian, round) -> release keys."""
    keys: dict[tuple[int, int], list[bytes]] = {}
    problems: list[str] = []
    for custodian, part in parts:
        if part.kind != KIND_KEYS:
            continue
        try:
            key = open_key_seal(part, reader_index, reader.member_secret)
        except InvalidRelease as error:
            problems.append(f"custodian {custodian}, round {part.round}: {error}")
            continue
        if key is not None and key not in keys.setdefault((custodian, part.round), []):
            keys[(custodian, part.round)].append(key)
    return keys, problems


def read_roster(
    deployment: Deployment,
    campaign_id: int,
    n: int,
    t: int,
    records: Sequence[PledgeRecord],
    releases: Sequence[ReleaseRecord],
    *,
    reader: PledgeKeys | None,
    reader_index: int | None,
) -> Roster:
    """Rebuild every readable pledge key from the releases and decrypt the pledges.

    ``records`` are the ACTIVE pledges plus the instructions (index 0). With ``reader``
    None only public-share parts are read; with a reader, its key seals (at
    ``reader_index``, or the index whose member key is the reader's) unlock the
    sealed-share parts as well. A key is accepted only if it matches the pledge's
    commitment, and a pledge is shown only if it decrypts and parses.
    """
    check_custodians(n, t)
    problems: list[str] = []
    active: dict[int, PledgeRecord] = {}
    for record in records:
        if record.index in active:
            problems.append(f"pledge {record.index} is listed twice; the first is used")
        else:
            active[record.index] = record

    parts: list[tuple[int, ReleasePart]] = []
    for number, release in enumerate(releases):
        custodian = release.custodian_index
        if not isinstance(custodian, int) or not 0 <= custodian < n:
            problems.append(f"release {number} names custodian {custodian!r}, not in 0..{n - 1}")
            continue
        try:
            parts.append((custodian, parse_release(release.data)))
        except InvalidRelease as error:
            problems.append(f"custodian {custodian}: release {number} is malformed: {error}")

    shares = _Shares(active)
    for custodian, part in parts:
        if part.kind == KIND_PUBLIC:
            try:
                shares.add(custodian, release_entries(part.body, t))
            except InvalidRelease as error:
                problems.append(f"custodian {custodian}, round {part.round}: {error}")

    if reader is not None:
        if reader_index is None:
            reader_index = next(
                (r.index for r in records if r.member_key == reader.member_key), None
            )
        if reader_index is None:
            problems.append("the reader's member key is not among the active pledges")
        else:
            keys, found = _release_keys(parts, reader, reader_index)
            problems += found
            for custodian, part in parts:
                if part.kind != KIND_SEALED:
                    continue
                candidates = keys.get((custodian, part.round), [])
                errors: list[str] = []
                for key in candidates:
                    try:
                        shares.add(
                            custodian,
                            open_sealed_shares(part, key, deployment, campaign_id, custodian, t),
                        )
                        break
                    except InvalidRelease as error:
                        errors.append(str(error))
                else:
                    if errors:
                        problems.append(errors[0])
    problems += shares.problems()
    read = decrypt_pledges(deployment, campaign_id, t, active.values(), shares.by_index)
    return Roster(read.members, read.instructions, read.missing, problems + read.problems())


@dataclass(frozen=True)
class Decrypted:
    """What a set of shares unlocks: the readable pledges and the instructions, and for
    every record left unread with shares in hand, why.

    ``missing`` lists the pledge indices (never 0) that stay unread, whatever the reason.
    ``mismatched`` maps a record's index (0: the instructions) to the custodians whose
    shares (t or more) rebuild no key matching its commitment; ``undecryptable`` maps one
    whose key matches to why it still does not decrypt and parse. ``misfits`` maps a
    custodian to the pledges whose key was rebuilt from other shares that its own does not
    fit.
    """

    members: list[RosterEntry]
    instructions: str | None
    missing: list[int]
    mismatched: dict[int, list[int]]
    undecryptable: dict[int, str]
    misfits: dict[int, list[int]]

    def problems(self) -> list[str]:
        """What went wrong, in words, record by record and then custodian by custodian."""
        found: list[str] = []
        for index in sorted({*self.mismatched, *self.undecryptable}):
            what = "the instructions" if index == 0 else f"pledge {index}"
            if index in self.mismatched:
                found.append(
                    f"{what}: the shares from custodians {_names(self.mismatched[index])} "
                    "rebuild no key matching its commitment"
                )
            else:
                found.append(
                    f"{what}: its key matches its commitment, but {self.undecryptable[index]}"
                )
        return found + [
            f"custodian {c} released shares that match no commitment for pledges {_names(i)}"
            for c, i in sorted(self.misfits.items())
        ]


def decrypt_pledges(
    deployment: Deployment,
    campaign_id: int,
    t: int,
    records: Iterable[PledgeRecord],
    shares: Mapping[int, Mapping[int, bytes]],
) -> Decrypted:
    """Rebuild each record's key from its shares (record index -> custodian -> share) and
    decrypt it: contacts for pledges, the text for the instructions (index 0).

    A key is used only if it matches the record's commitment, and a pledge counts only if
    it decrypts and parses. The first record of each index is used. Members and custodian
    mailers (one custodian's own shares, t = 1) read the roster through this.
    """
    active: dict[int, PledgeRecord] = {}
    for record in records:
        active.setdefault(record.index, record)
    members: list[RosterEntry] = []
    missing: list[int] = []
    instructions: str | None = None
    mismatched: dict[int, list[int]] = {}
    undecryptable: dict[int, str] = {}
    misfits: dict[int, list[int]] = {}
    for index in sorted(active):
        record = active[index]
        held = shares.get(index, {})
        key: bytes | None = None
        if len(held) >= t:
            key, bad = recover_key(held, t, record.commitment)
            for custodian in bad:
                misfits.setdefault(custodian, []).append(index)
            if key is None:
                mismatched[index] = sorted(held)
        if key is None:
            if index != 0:
                missing.append(index)
            continue
        campaign, account = record_context(campaign_id, record)
        try:
            plain = decrypt_payload(
                key, deployment, campaign, record.member_key, account, record.ciphertext
            )
            if index == 0:
                instructions = decode_instructions(plain)
            else:
                members.append(RosterEntry(index, record.account, decode_contact(plain)))
        except CryptoError as error:
            undecryptable[index] = str(error)
            if index != 0:
                missing.append(index)
    return Decrypted(members, instructions, missing, mismatched, undecryptable, misfits)
