"""The registry's rules, written once outside Solidity: what to check before sending.

contracts/Spartacus.sol is normative (docs/protocol.md, "Contract rules"). This module
restates its checks so that the CLI, the ape script and the relayer refuse a doomed request
with a sentence ("campaign 7 closed on 2026-12-01T00:00:00Z: no more pledges") rather than a
revert, and spend no gas on it. The checks take plain values (the callers read the chain
their own way) and raise the ``RuleViolation`` subclass named after the custom error the
registry would revert with. ``names`` lets a caller name a field as its user knows it: an
option such as ``--threshold``, or a JSON path such as ``instructions.boxes``.

The limits are not restated as numbers: ``make build`` records the contract's constants in
the shipped artifact, and ``limits()`` reads them from there. The sizes in
``spartacus.protocol`` (the pledge ciphertext, a box...) are the byte format's own
definitions and stay there, free of file reads; tests/chain/test_rules.py checks that the
two agree. What the registry allows but a pledger should be warned of is in ``risks``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from ..exceptions import (
    AdmissionClosed,
    AlreadyPledged,
    BadCustodianCount,
    BadCustodianThreshold,
    BadLength,
    BadSignature,
    CampaignClosed,
    DeadlineNotInFuture,
    DeadlineTooSoon,
    EndorsementExpired,
    MalformedSignature,
    MembershipRequired,
    NotAMember,
    NotCreator,
    NotGated,
    NotLatePledge,
    NotPledged,
    NullifierInUse,
    ProofMismatch,
    SignatureExpired,
    ThresholdTooLow,
    WrongStatus,
    ZeroKey,
)
from ..protocol import Sealed
from ..semaphore import Proof
from .artifact import load_artifact
from .records import Status, iso

MIN_THRESHOLD = 2  # a campaign of one reveals nobody to anybody
# The tools' shortest deadline, in seconds from now (the contract only wants one in the
# future): a campaign that closes within minutes gives nobody time to join. The web's
# create form holds the same hour (frontend/src/bodies.js, deadlineFrom).
MIN_DEADLINE = 3600
ZERO_KEY = bytes(32)


@dataclass(frozen=True)
class Limits:
    """The registry's limits; each field is the contract constant of that name, upper-cased."""

    max_custodians: int
    max_title: int
    max_text: int
    pledge_ciphertext: int
    ciphertext_overhead: int
    block: int
    max_instruction_blocks: int
    box_t1: int
    box_shamir: int
    signature: int
    max_release: int
    max_batch: int
    admit_window: int

    @classmethod
    def from_constants(cls, constants: Mapping[str, int]) -> Limits:
        return cls(**{f.name: int(constants[f.name.upper()]) for f in fields(cls)})

    def box_size(self, custodian_threshold: int) -> int:
        return self.box_t1 if custodian_threshold == 1 else self.box_shamir

    def boxes_size(self, custodians: int, custodian_threshold: int) -> int:
        return custodians * self.box_size(custodian_threshold)


@cache
def limits() -> Limits:
    """The limits of the registry shipped in this package, from its artifact."""
    return Limits.from_constants(load_artifact()["constants"])


def _name(names: Mapping[str, str] | None, field: str) -> str:
    return (names or {}).get(field, field)


def _check_exact(name: str, length: int, expected: int) -> None:
    if length != expected:
        raise BadLength(f"{name} has {length} bytes; expected {expected}")


def _check_text(name: str, text: str, low: int, high: int) -> None:
    size = len(text.encode())
    if not low <= size <= high:
        raise BadLength(f"{name} has {size} bytes; it must have {low} to {high}")


# ---------------------------------------------------------------------- createCampaign


def check_terms(
    *,
    title: str,
    description: str,
    plan: str,
    threshold: int,
    deadline: int,
    now: int,
    names: Mapping[str, str] | None = None,
) -> None:
    """The terms of ``createCampaign``: text sizes, N >= 2, a deadline after ``now``."""
    lim = limits()
    _check_text(_name(names, "title"), title, 1, lim.max_title)
    _check_text(_name(names, "description"), description, 0, lim.max_text)
    _check_text(_name(names, "plan"), plan, 0, lim.max_text)
    if threshold < MIN_THRESHOLD:
        raise ThresholdTooLow(
            f"{_name(names, 'threshold')} must be at least {MIN_THRESHOLD} (got {threshold})"
        )
    if deadline <= now:
        raise DeadlineNotInFuture(f"the deadline {iso(deadline)} is not in the future")


def check_deadline_ahead(deadline: int, now: int) -> None:
    """What the tools add to ``check_terms``: a deadline at least ``MIN_DEADLINE`` ahead."""
    if now < deadline < now + MIN_DEADLINE:
        minutes = (deadline - now) // 60
        raise DeadlineTooSoon(
            f"the deadline {iso(deadline)} is only {minutes} minute(s) away; give people at "
            f"least {MIN_DEADLINE // 3600} hour to join (e.g. --deadline 7d)"
        )


def check_custodians(
    count: int, custodian_threshold: int, *, names: Mapping[str, str] | None = None
) -> None:
    """1 to ``max_custodians`` custodians, and 1 <= t <= n."""
    most = limits().max_custodians
    if not 1 <= count <= most:
        raise BadCustodianCount(f"a campaign needs 1 to {most} custodians (got {count})")
    if not 1 <= custodian_threshold <= count:
        raise BadCustodianThreshold(
            f"{_name(names, 'custodianThreshold')} must be between 1 and {count} "
            f"(got {custodian_threshold})"
        )


def check_instructions(
    sealed: Sealed,
    custodians: int,
    custodian_threshold: int,
    *,
    names: Mapping[str, str] | None = None,
) -> None:
    """The sealed instructions: a member key, 1 to ``max_instruction_blocks`` blocks of
    ciphertext, one box per custodian."""
    lim = limits()
    if sealed.member_key == ZERO_KEY:
        raise ZeroKey("the instructions' member key is zero")
    blocks, extra = divmod(len(sealed.ciphertext) - lim.ciphertext_overhead, lim.block)
    if extra or not 1 <= blocks <= lim.max_instruction_blocks:
        raise BadLength(
            f"{_name(names, 'instructions.ciphertext')} must be {lim.ciphertext_overhead} + "
            f"{lim.block} * k bytes with k from 1 to {lim.max_instruction_blocks}"
        )
    _check_exact(
        _name(names, "instructions.boxes"),
        len(sealed.boxes),
        lim.boxes_size(custodians, custodian_threshold),
    )


def check_endorsement(what: str, expiry: int, now: int) -> None:
    """An endorsement (``what``: "endorsement 2", with its file if any) is unexpired."""
    if expiry < now:
        raise EndorsementExpired(
            f"{what} expired on {iso(expiry)}; ask the custodian for a new one"
        )


# ---------------------------------------------------------------------- pledge


def check_pledge_open(
    campaign_id: int, status: Status, deadline: int, now: int, *, late_joining: bool = False
) -> None:
    """A campaign takes pledges until its deadline, never once expired, and after the reveal
    only if it takes late pledges. ``status`` is the effective one (``statusOf``), ``now``
    the chain's time."""
    if status == Status.EXPIRED or now > deadline:
        raise CampaignClosed(f"campaign {campaign_id} closed on {iso(deadline)}: no more pledges")
    if status == Status.REVEALED and not late_joining:
        raise CampaignClosed(
            f"campaign {campaign_id} was revealed: joining closed at the reveal (it takes no "
            "late pledges)"
        )


def check_valid_until(valid_until: int, now: int, *, most: int | None = None) -> None:
    """A signature's ``validUntil`` is not past (``now``, the chain's time), and, if ``most``
    is given, not more than ``most`` seconds ahead (a relayer keeps nothing for long)."""
    if valid_until < now:
        raise SignatureExpired(
            f"the signature was valid until {iso(valid_until)}, which has passed; sign again"
        )
    if most is not None and valid_until > now + most:
        raise SignatureExpired(
            f"the signature is valid until {iso(valid_until)}, more than {most} seconds ahead; "
            "sign with a shorter validity"
        )


def check_sealed_pledge(sealed: Sealed, custodians: int, custodian_threshold: int) -> None:
    """A pledge's member key is not zero; its ciphertext and boxes have the exact sizes."""
    lim = limits()
    if sealed.member_key == ZERO_KEY:
        raise ZeroKey("the member key is zero")
    _check_exact("ciphertext", len(sealed.ciphertext), lim.pledge_ciphertext)
    _check_exact("boxes", len(sealed.boxes), lim.boxes_size(custodians, custodian_threshold))


def check_signature(signature: bytes, name: str = "signature") -> None:
    """A signature (of a pledge, withdrawal or endorsement) has the size ecrecover takes."""
    _check_exact(name, len(signature), limits().signature)


def check_signer(typed: dict[str, Any], signature: bytes, account: str, nonce: int) -> None:
    """``signature`` signs the EIP-712 message ``typed`` (for ``nonce``) by ``account``."""
    try:
        signer = Account.recover_message(encode_typed_data(full_message=typed), signature=signature)
    except Exception:  # noqa: BLE001 - eth_account raises several types for a bad signature
        raise MalformedSignature("the signature is malformed") from None
    if signer.lower() != account.lower():
        raise BadSignature(
            f"the signature is not by {account} for nonce {nonce} (signed by {signer}); "
            "it may be for another campaign, an old nonce, or already used"
        )


def check_pledge(
    campaign_id: int,
    account: str,
    *,
    status: Status,
    deadline: int,
    now: int,
    active: bool,
    late_joining: bool = False,
) -> None:
    """The campaign takes pledges and ``account`` has no active pledge in it."""
    check_pledge_open(campaign_id, status, deadline, now, late_joining=late_joining)
    if active:
        raise AlreadyPledged(f"{account} already has an active pledge in campaign {campaign_id}")


# ---------------------------------------------------------------------- gated pledges


def check_gate(campaign_id: int, group: int, *, proof_given: bool) -> None:
    """A gated campaign (``group`` != 0) takes only pledges with a membership proof, an open
    one only pledges without."""
    if group and not proof_given:
        raise MembershipRequired(
            f"campaign {campaign_id} takes pledges from members of group {group} only: the "
            "pledge must carry a membership proof"
        )
    if not group and proof_given:
        raise NotGated(f"campaign {campaign_id} is open to anyone: a pledge carries no proof")


def check_proof_binding(proof: Proof, *, scope: int, message: int) -> None:
    """The proof was made for this campaign (``scope``) and this signed pledge (``message``:
    its bytes, account, nonce and validUntil)."""
    if proof.scope != scope:
        raise ProofMismatch("the membership proof was made for another campaign or registry")
    if proof.message != message:
        raise ProofMismatch(
            "the membership proof was made for another pledge, account or nonce: prove again "
            "for this signed pledge"
        )


def check_nullifier_free(campaign_id: int, holder: int) -> None:
    """The member behind the proof holds no active pledge in the campaign (``holder``: the
    registry's ``nullifierHolder``, 0 if none)."""
    if holder:
        raise NullifierInUse(
            f"this member of the group already holds active pledge #{holder} in campaign "
            f"{campaign_id}: one active pledge per member (withdraw it to pledge again)"
        )


def check_member(group: int, commitment: int, *, is_member: bool) -> None:
    """The identity's commitment is in the group (before proving)."""
    if not is_member:
        raise NotAMember(
            f"identity {commitment} is not a member of group {group}: redeem an invitation "
            "of that group first (`spartacus group join CODE`)"
        )


# ---------------------------------------------------------------------- withdraw


def check_withdraw(campaign_id: int, account: str, *, status: Status, active: bool) -> None:
    """The campaign is Open or Pending (``statusOf``) and ``account`` has an active pledge."""
    if status not in (Status.OPEN, Status.PENDING):
        raise WrongStatus(
            f"campaign {campaign_id} is {status.label}: a pledge can only be withdrawn before "
            "the reveal"
        )
    if not active:
        raise NotPledged(f"{account} has no active pledge in campaign {campaign_id}")


# ---------------------------------------------------------------------- admit


def check_admit(
    campaign_id: int,
    indices: list[int],
    *,
    caller: str,
    creator: str,
    status: Status,
    deadline: int,
    now: int,
    late: set[int],
) -> None:
    """``caller`` created the campaign, it is revealed, its admission window is open, and
    every index is a late pledge awaiting admission (``late``)."""
    if caller.lower() != creator.lower():
        raise NotCreator(f"{caller} did not create campaign {campaign_id}: only {creator} admits")
    if status != Status.REVEALED:
        raise WrongStatus(f"campaign {campaign_id} is {status.label}: admit follows the reveal")
    closes = deadline + limits().admit_window
    if now > closes:
        raise AdmissionClosed(
            f"late pledges of campaign {campaign_id} could be admitted until {iso(closes)}"
        )
    if not 1 <= len(indices) <= limits().max_batch:
        raise BadLength(f"admit takes 1 to {limits().max_batch} indices (got {len(indices)})")
    for index in indices:
        if index not in late:
            raise NotLatePledge(
                f"pledge {index} is not a late pledge of campaign {campaign_id} awaiting "
                f"admission (waiting: {sorted(late) or 'none'})"
            )
