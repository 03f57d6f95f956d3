"""Sealing a pledge (docs/protocol.md): the sealed record sent to the registry, custodian
boxes, and the custodian's side, opening its boxes and checking their binding.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..exceptions import (
    BindingMismatch,
    BoxOpenError,
    CryptoError,
    InvalidKey,
)
from .payload import (
    Contact,
    binding,
    commitment,
    encode_contact,
    encode_instructions,
    encrypt_payload,
)
from .primitives import (
    BINDING_SIZE,
    ZERO_ACCOUNT,
    Deployment,
    box_size,
    check_custodians,
    check_public_key,
    public_key_of,
    seal,
    seal_open,
    share_size,
)
from .secret import PledgeKeys
from .shamir import split_key

# ---------------------------------------------------------------------- sealing


@dataclass(frozen=True)
class Sealed:
    """A sealed payload as ``pledge`` and ``createCampaign`` take it."""

    member_key: bytes
    ciphertext: bytes
    boxes: bytes
    commitment: bytes

    def as_abi(self) -> tuple[bytes, bytes, bytes, bytes]:
        """``(memberKey, ciphertext, boxes, commitment)`` for web3."""
        return (self.member_key, self.ciphertext, self.boxes, self.commitment)


def _seal_payload(
    deployment: Deployment,
    campaign_id: int,
    account: str,
    keys: PledgeKeys,
    plain: bytes,
    custodian_keys: Sequence[bytes],
    t: int,
    nonce: bytes | None,
) -> Sealed:
    n = len(custodian_keys)
    check_custodians(n, t)
    public_keys = [
        check_public_key(key, f"custodian key {i}") for i, key in enumerate(custodian_keys)
    ]
    if len(set(public_keys)) != n:
        raise InvalidKey("the same custodian key is listed twice")
    ciphertext = encrypt_payload(
        keys.pledge_key, deployment, campaign_id, keys.member_key, account, plain, nonce=nonce
    )
    bind = binding(deployment, campaign_id, keys.member_key, account, ciphertext)
    shares = split_key(keys.pledge_key, n, t)
    boxes = b"".join(
        seal(share + bind, key, f"custodian key {i}")
        for i, (share, key) in enumerate(zip(shares, public_keys, strict=True))
    )
    return Sealed(keys.member_key, ciphertext, boxes, commitment(keys.pledge_key))


def seal_pledge(
    deployment: Deployment,
    campaign_id: int,
    keys: PledgeKeys,
    contact: Contact,
    custodian_keys: Sequence[bytes],
    custodian_threshold: int,
    *,
    nonce: bytes | None = None,
) -> Sealed:
    """Seal a pledge's contact details for a campaign's custodians (in custodian order),
    bound to the campaign's registry and chain (``deployment``)."""
    if not isinstance(campaign_id, int) or campaign_id < 1:
        raise CryptoError(f"pledges go to campaigns 1 and up, not {campaign_id!r}")
    plain = encode_contact(contact)
    return _seal_payload(
        deployment,
        campaign_id,
        keys.account,
        keys,
        plain,
        custodian_keys,
        custodian_threshold,
        nonce,
    )


def seal_instructions(
    deployment: Deployment,
    keys: PledgeKeys,
    text: str,
    custodian_keys: Sequence[bytes],
    custodian_threshold: int,
    *,
    nonce: bytes | None = None,
) -> Sealed:
    """Seal the organiser's instructions: campaign id 0 and the zero account in ad/binding,
    bound to the registry and chain the campaign is created in."""
    plain = encode_instructions(text)
    return _seal_payload(
        deployment, 0, ZERO_ACCOUNT, keys, plain, custodian_keys, custodian_threshold, nonce
    )


def split_boxes(boxes: bytes, n: int, t: int) -> list[bytes]:
    """Cut a pledge's ``boxes`` into the n custodian boxes."""
    check_custodians(n, t)
    size = box_size(t)
    if not isinstance(boxes, bytes | bytearray) or len(boxes) != n * size:
        length = len(boxes) if isinstance(boxes, bytes | bytearray) else type(boxes).__name__
        raise BoxOpenError(f"boxes must be {n} x {size} = {n * size} bytes, not {length}")
    return [bytes(boxes[i * size : (i + 1) * size]) for i in range(n)]


# ---------------------------------------------------------------------- custodian side


@dataclass(frozen=True)
class PledgeRecord:
    """A ``Pledged`` event as the chain client decodes it; the instructions are index 0."""

    index: int
    account: str
    member_key: bytes
    ciphertext: bytes
    boxes: bytes
    commitment: bytes


def record_context(campaign_id: int, record: PledgeRecord) -> tuple[int, str]:
    """The campaign id and account a record's ad and binding use (0 and zero for index 0)."""
    if record.index == 0:
        return 0, ZERO_ACCOUNT
    return campaign_id, record.account


def open_box(
    campaign_secret: bytes,
    deployment: Deployment,
    campaign_id: int,
    record: PledgeRecord,
    custodian_index: int,
    n: int,
    t: int,
) -> bytes:
    """Open custodian ``custodian_index``'s box of a pledge and return its share.

    Raises BoxOpenError if the box does not open with the campaign key, and BindingMismatch
    if its binding names another pledge, campaign, registry or chain: such a share must
    never be released.
    """
    secret_key, public_key = public_key_of(campaign_secret, "the campaign secret key")
    if not isinstance(custodian_index, int) or not 0 <= custodian_index < n:
        raise CryptoError(f"custodian index {custodian_index!r} is not in 0..{n - 1}")
    box = split_boxes(record.boxes, n, t)[custodian_index]
    plain = seal_open(box, secret_key, public_key)
    size = share_size(t)
    if plain is None or len(plain) != size + BINDING_SIZE:
        raise BoxOpenError(
            f"pledge {record.index}: box {custodian_index} does not open with this campaign key"
        )
    campaign, account = record_context(campaign_id, record)
    expected = binding(deployment, campaign, record.member_key, account, record.ciphertext)
    if not hmac.compare_digest(plain[size:], expected):
        raise BindingMismatch(
            f"pledge {record.index}: the box's binding names another pledge, campaign, "
            "registry or chain (a copied box); its share is withheld"
        )
    return plain[:size]


def custodian_shares(
    campaign_secret: bytes,
    deployment: Deployment,
    campaign_id: int,
    custodian_index: int,
    n: int,
    t: int,
    records: Iterable[PledgeRecord],
) -> tuple[dict[int, bytes], dict[int, str]]:
    """Open every box addressed to this custodian: ``(index -> share, index -> problem)``.

    A bad box is reported, never raised; only a bad campaign key or index raises.
    """
    public_key_of(campaign_secret, "the campaign secret key")
    check_custodians(n, t)
    if not isinstance(custodian_index, int) or not 0 <= custodian_index < n:
        raise CryptoError(f"custodian index {custodian_index!r} is not in 0..{n - 1}")
    shares: dict[int, bytes] = {}
    problems: dict[int, str] = {}
    for record in records:
        if record.index in shares or record.index in problems:
            problems[record.index] = f"pledge {record.index} appears twice; neither is released"
            shares.pop(record.index, None)
            continue
        try:
            shares[record.index] = open_box(
                campaign_secret, deployment, campaign_id, record, custodian_index, n, t
            )
        except CryptoError as error:
            problems[record.index] = str(error)
    return shares, problems
