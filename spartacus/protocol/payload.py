"""Payloads (docs/protocol.md, "Sealing a pledge" and "Sealed instructions"): padding,
the contact and instructions encodings, the associated data, binding and commitment, and
the XChaCha20-Poly1305 encryption of a payload.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

import nacl.bindings as sodium
import nacl.exceptions

from ..exceptions import (
    InvalidCiphertext,
    InvalidKey,
    InvalidPayload,
    PayloadTooLarge,
)
from .primitives import (
    _CONTACT_FIELDS,
    COMMITMENT_DOMAIN,
    KEY_SIZE,
    MAX_INSTRUCTION_BLOCKS,
    NONCE_SIZE,
    PLEDGE_BLOCK,
    TAG_SIZE,
    Deployment,
    account_bytes,
    check_bytes,
    check_public_key,
    cid32,
)

# ---------------------------------------------------------------------- payloads


def pad(data: bytes) -> bytes:
    """``sodium_pad(data, 256)``: 0x80 then zeros up to a multiple of 256 bytes."""
    return sodium.sodium_pad(data, PLEDGE_BLOCK)


def unpad(plain: bytes) -> bytes:
    """Undo ``pad``; InvalidPayload unless ``plain`` is whole blocks with valid padding."""
    if not isinstance(plain, bytes | bytearray) or not plain or len(plain) % PLEDGE_BLOCK:
        size = len(plain) if isinstance(plain, bytes | bytearray) else type(plain).__name__
        raise InvalidPayload(f"a padded payload is whole {PLEDGE_BLOCK}-byte blocks, not {size}")
    try:
        return sodium.sodium_unpad(bytes(plain), PLEDGE_BLOCK)
    except nacl.exceptions.CryptoError as error:
        raise InvalidPayload("the payload's padding is invalid") from error


@dataclass(frozen=True)
class Contact:
    """A pledger's contact details, shown to the other members at the reveal."""

    name: str
    contact: str
    message: str = ""
    mail: bool = False  # the member asked the custodians to e-mail it the roster


def contact_json(contact: Contact) -> bytes:
    """The canonical JSON of a contact: keys in order, no spaces, UTF-8 unescaped;
    ``"mail":true`` last, present only when the member asked for the roster by e-mail."""
    values = (contact.name, contact.contact, contact.message)
    if not all(isinstance(value, str) for value in values):
        raise InvalidPayload("name, contact and message must be strings")
    if not isinstance(contact.mail, bool):
        raise InvalidPayload("the e-mail opt-in must be true or false")
    if not contact.name or not contact.contact:
        raise InvalidPayload("a pledge needs a non-empty name and contact")
    fields: dict[str, str | bool] = dict(zip(_CONTACT_FIELDS, values, strict=True))
    if contact.mail:
        fields["mail"] = True
    text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidPayload("the contact details are not valid Unicode text") from error


def encode_contact(contact: Contact) -> bytes:
    """The padded 256-byte plaintext of a pledge; PayloadTooLarge beyond 255 bytes of JSON."""
    data = contact_json(contact)
    limit = PLEDGE_BLOCK - 1
    if len(data) > limit:
        raise PayloadTooLarge(
            f"the contact details take {len(data)} bytes as JSON, but at most {limit} fit "
            "into a pledge: shorten the message, name or contact"
        )
    return pad(data)


def decode_contact(plain: bytes) -> Contact:
    """Parse a decrypted pledge; InvalidPayload unless it is exactly what encode_contact makes."""
    if not isinstance(plain, bytes | bytearray) or len(plain) != PLEDGE_BLOCK:
        raise InvalidPayload(f"a pledge's plaintext is exactly {PLEDGE_BLOCK} bytes")
    data = unpad(plain)
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidPayload("the pledge's contact details are not UTF-8 JSON") from error
    if not isinstance(value, dict) or tuple(value) not in (
        _CONTACT_FIELDS,
        (*_CONTACT_FIELDS, "mail"),
    ):
        raise InvalidPayload("the pledge's contact details lack name, contact and message")
    if value.get("mail", True) is not True:
        raise InvalidPayload('the pledge\'s "mail" field is present only as true')
    contact = Contact(value["name"], value["contact"], value["message"], "mail" in value)
    if contact_json(contact) != data:
        raise InvalidPayload("the pledge's contact details are not in canonical form")
    return contact


def encode_instructions(text: str) -> bytes:
    """The padded plaintext of the sealed instructions: 1 to 16 blocks of 256 bytes."""
    if not isinstance(text, str):
        raise InvalidPayload("instructions must be a string")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidPayload("the instructions are not valid Unicode text") from error
    limit = PLEDGE_BLOCK * MAX_INSTRUCTION_BLOCKS - 1
    if len(data) > limit:
        raise PayloadTooLarge(
            f"the instructions take {len(data)} bytes in UTF-8, but at most {limit} fit: "
            "shorten them"
        )
    return pad(data)


def decode_instructions(plain: bytes) -> str:
    """Parse decrypted instructions; InvalidPayload if malformed."""
    if not isinstance(plain, bytes | bytearray) or len(plain) > (
        PLEDGE_BLOCK * MAX_INSTRUCTION_BLOCKS
    ):
        raise InvalidPayload(f"instructions are at most {MAX_INSTRUCTION_BLOCKS} blocks")
    try:
        return unpad(plain).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidPayload("the instructions are not UTF-8 text") from error


# ---------------------------------------------------------------------- pledge crypto


def pledge_ad(deployment: Deployment, campaign_id: int, member_key: bytes, account: str) -> bytes:
    """``chainId || registry || cid32 || P || a``: a pledge's AEAD associated data (136 bytes)."""
    key = check_public_key(member_key, "the member key")
    return deployment.prefix + cid32(campaign_id) + key + account_bytes(account)


def binding(
    deployment: Deployment, campaign_id: int, member_key: bytes, account: str, ciphertext: bytes
) -> bytes:
    """``sha256(chainId || registry || cid32 || P || a || ciphertext)``: names the pledge,
    campaign, registry and chain a box belongs to."""
    if not isinstance(ciphertext, bytes | bytearray):
        raise InvalidCiphertext("the ciphertext must be bytes")
    ad = pledge_ad(deployment, campaign_id, member_key, account)
    return hashlib.sha256(ad + ciphertext).digest()


def commitment(pledge_key: bytes) -> bytes:
    """``sha256("spartacus/pledge-key/v1" || k)``: lets members check a rebuilt key."""
    key = check_bytes(pledge_key, KEY_SIZE, "a pledge key", InvalidKey)
    return hashlib.sha256(COMMITMENT_DOMAIN + key).digest()


def _check_ciphertext_size(ciphertext: object) -> bytes:
    if not isinstance(ciphertext, bytes | bytearray):
        raise InvalidCiphertext("the ciphertext must be bytes")
    blocks, rest = divmod(len(ciphertext) - NONCE_SIZE - TAG_SIZE, PLEDGE_BLOCK)
    if rest or not 1 <= blocks <= MAX_INSTRUCTION_BLOCKS:
        raise InvalidCiphertext(
            f"a ciphertext is 40 + 256 * k bytes (1 <= k <= {MAX_INSTRUCTION_BLOCKS}), "
            f"not {len(ciphertext)}"
        )
    return bytes(ciphertext)


def encrypt_payload(
    pledge_key: bytes,
    deployment: Deployment,
    campaign_id: int,
    member_key: bytes,
    account: str,
    plain: bytes,
    *,
    nonce: bytes | None = None,
) -> bytes:
    """``nonce24 || XChaCha20-Poly1305(k, nonce24, plain, ad)``; a random nonce by default."""
    key = check_bytes(pledge_key, KEY_SIZE, "a pledge key", InvalidKey)
    nonce = secrets.token_bytes(NONCE_SIZE) if nonce is None else nonce
    nonce = check_bytes(nonce, NONCE_SIZE, "the nonce", InvalidCiphertext)
    blocks, rest = divmod(len(plain), PLEDGE_BLOCK)
    if rest or not 1 <= blocks <= MAX_INSTRUCTION_BLOCKS:
        raise InvalidPayload(f"a plaintext is 1 to {MAX_INSTRUCTION_BLOCKS} blocks of 256 bytes")
    ad = pledge_ad(deployment, campaign_id, member_key, account)
    return nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, ad, nonce, key)


def decrypt_payload(
    pledge_key: bytes,
    deployment: Deployment,
    campaign_id: int,
    member_key: bytes,
    account: str,
    ciphertext: bytes,
) -> bytes:
    """Decrypt a pledge's (or the instructions') ciphertext; InvalidCiphertext on any fault."""
    key = check_bytes(pledge_key, KEY_SIZE, "a pledge key", InvalidKey)
    data = _check_ciphertext_size(ciphertext)
    ad = pledge_ad(deployment, campaign_id, member_key, account)
    try:
        return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            data[NONCE_SIZE:], ad, data[:NONCE_SIZE], key
        )
    except nacl.exceptions.CryptoError as error:
        raise InvalidCiphertext(
            "the ciphertext fails authentication: wrong key, or it was altered or moved "
            "(to another pledge, campaign, registry or chain)"
        ) from error
