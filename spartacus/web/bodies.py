"""The relayer's JSON bodies: reading each field's type and format, refused with a reason,
and writing a pledge's or a withdrawal's as the browser does (for ``pledge --relay``).

Only the shape of a request is checked here: a whole number of so many bits, an address,
0x-hex (32 bytes for a ``bytes32``), text, an object. Whether the registry would accept the
values (sizes, thresholds, deadlines, the campaign's state) is for ``spartacus.chain.rules``
to say, which the relayer asks next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

from .. import protocol
from ..chain.creation import Endorsement
from ..chain.records import RosterMode
from ..exceptions import RequestRefused
from ..semaphore import Proof

BYTES32 = 32


def json_object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if not isinstance(value, dict):
        raise RequestRefused(f"{key} must be a JSON object")
    return value


def uint(body: dict[str, Any], key: str, bits: int) -> int:
    value = body.get(key)
    # ASCII digits only, and no longer than 2^256 can be: int() refuses other "digits" such
    # as '²', and Python caps the length of numbers it parses from text.
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 78:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**bits:
        raise RequestRefused(f"{key} must be a whole number from 0 to 2^{bits} - 1")
    return value


def address(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or len(value) != 42 or not value.startswith("0x"):
        raise RequestRefused(f"{key} must be a 0x-prefixed 20-byte address")
    try:
        return str(to_checksum_address(value))
    except ValueError:
        raise RequestRefused(f"{key} must be a 0x-prefixed 20-byte address") from None


def hex_bytes(body: dict[str, Any], key: str, size: int | None = None) -> bytes:
    """0x-hex bytes; of exactly ``size`` bytes if given (an ABI type's, such as bytes32)."""
    value = body.get(key)
    if not isinstance(value, str) or not value.startswith("0x"):
        raise RequestRefused(f"{key} must be 0x-prefixed hex")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise RequestRefused(f"{key} must be 0x-prefixed hex") from None
    if size is not None and len(raw) != size:
        raise RequestRefused(f"{key} has {len(raw)} bytes; expected {size}")
    return raw


def text(body: dict[str, Any], key: str) -> str:
    """Text (empty if absent)."""
    value = body.get(key, "")
    if not isinstance(value, str):
        raise RequestRefused(f"{key} must be text")
    return value


def sealed(body: dict[str, Any]) -> protocol.Sealed:
    """A sealed pledge or sealed instructions: memberKey, ciphertext, boxes, commitment."""
    return protocol.Sealed(
        hex_bytes(body, "memberKey", BYTES32),
        hex_bytes(body, "ciphertext"),
        hex_bytes(body, "boxes"),
        hex_bytes(body, "commitment", BYTES32),
    )


def pledge_request(
    campaign_id: int,
    account: str,
    sealed: protocol.Sealed,
    valid_until: int,
    signature: bytes,
    proof: Proof | None = None,
) -> dict[str, Any]:
    """The ``POST /api/relay/pledge`` body, byte for byte as the browser builds it
    (frontend/src/bodies.js): what ``spartacus pledge --relay`` sends. A gated campaign's
    pledge adds ``proof`` (``proof_json``)."""
    body: dict[str, Any] = {
        "campaignId": campaign_id,
        "account": account,
        "memberKey": "0x" + sealed.member_key.hex(),
        "ciphertext": "0x" + sealed.ciphertext.hex(),
        "boxes": "0x" + sealed.boxes.hex(),
        "commitment": "0x" + sealed.commitment.hex(),
        "validUntil": valid_until,
        "signature": "0x" + signature.hex(),
    }
    if proof is not None:
        body["proof"] = proof_json(proof)
    return body


def proof_json(proof: Proof) -> dict[str, Any]:
    """A membership proof in a body: numbers as decimal strings (they exceed 2^53), as
    Semaphore's own JSON has them."""
    return {
        "merkleTreeDepth": proof.depth,
        "merkleTreeRoot": str(proof.root),
        "nullifier": str(proof.nullifier),
        "message": str(proof.message),
        "scope": str(proof.scope),
        "points": [str(p) for p in proof.points],
    }


def membership_proof(body: dict[str, Any]) -> Proof | None:
    """The body's ``proof`` (a gated pledge's), or None when it has none."""
    if body.get("proof") is None:
        return None
    raw = json_object(body, "proof")
    points = raw.get("points")
    if not isinstance(points, list) or len(points) != 8:
        raise RequestRefused("proof.points must be a list of 8 numbers")
    return Proof(
        depth=_number(raw.get("merkleTreeDepth"), "proof.merkleTreeDepth"),
        root=_number(raw.get("merkleTreeRoot"), "proof.merkleTreeRoot"),
        nullifier=_number(raw.get("nullifier"), "proof.nullifier"),
        message=_number(raw.get("message"), "proof.message"),
        scope=_number(raw.get("scope"), "proof.scope"),
        points=tuple(_number(p, "proof.points") for p in points),
    )


def _number(value: Any, name: str) -> int:
    """A uint256 given as a decimal string (or a JSON integer)."""
    if isinstance(value, bool):
        raise RequestRefused(f"{name} must be a number")
    if isinstance(value, str) and value.isdigit() and len(value) <= 78:
        value = int(value)
    if not isinstance(value, int) or not 0 <= value < 2**256:
        raise RequestRefused(f"{name} must be a uint256 (a decimal string)")
    return value


def withdraw_request(
    campaign_id: int, account: str, valid_until: int, signature: bytes
) -> dict[str, Any]:
    """The ``POST /api/relay/withdraw`` body, as the browser builds it."""
    return {
        "campaignId": campaign_id,
        "account": account,
        "validUntil": valid_until,
        "signature": "0x" + signature.hex(),
    }


@dataclass(frozen=True)
class NewCampaign:
    """A ``createCampaign`` request as its body gives it, before the registry's rules."""

    title: str
    description: str
    plan: str
    threshold: int
    deadline: int
    grace_period: int
    custodian_threshold: int
    roster_mode: RosterMode
    instructions: protocol.Sealed
    endorsements: list[Endorsement]

    def terms_abi(self) -> tuple[Any, ...]:
        return (
            self.title,
            self.description,
            self.plan,
            self.threshold,
            self.deadline,
            self.grace_period,
            self.custodian_threshold,
            int(self.roster_mode),
            False,  # the relayer is the creator: it cannot admit late pledges for anyone
            0,  # open: gated campaigns are created with `spartacus create --group`
        )


def campaign_terms(body: dict[str, Any]) -> dict[str, Any]:
    """The ``terms`` object of a new campaign, as ``NewCampaign``'s fields."""
    terms = json_object(body, "terms")
    if terms.get("lateJoining"):
        raise RequestRefused(
            "lateJoining is not offered here: a campaign created through this site has the "
            "site's relayer as its creator, and only the creator can admit late pledges. "
            "Create it with `spartacus create --late-joining` from your own account instead"
        )
    mode = terms.get("rosterMode", "members")
    if mode not in ("members", "public"):
        raise RequestRefused('rosterMode must be "members" or "public"')
    return {
        "title": text(terms, "title"),
        "description": text(terms, "description"),
        "plan": text(terms, "plan"),
        "threshold": uint(terms, "threshold", 32),
        "deadline": uint(terms, "deadline", 64),
        "grace_period": uint(terms, "gracePeriod", 32),
        "custodian_threshold": uint(terms, "custodianThreshold", 8),
        "roster_mode": RosterMode.PUBLIC if mode == "public" else RosterMode.MEMBERS,
    }


def new_campaign(body: dict[str, Any]) -> NewCampaign:
    """``{"terms": {...}, "instructions": {...}, "endorsements": [...]}``."""
    terms = campaign_terms(body)
    items = body.get("endorsements")
    if not isinstance(items, list):
        raise RequestRefused("endorsements must be a list of custodian endorsements")
    endorsements = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise RequestRefused(f"endorsement {number} is not an object")
        endorsements.append(
            Endorsement(
                address(item, "custodian"),
                hex_bytes(item, "campaignKey", BYTES32),
                uint(item, "expiry", 64),
                hex_bytes(item, "signature"),
            )
        )
    return NewCampaign(
        **terms,
        instructions=sealed(json_object(body, "instructions")),
        endorsements=endorsements,
    )
