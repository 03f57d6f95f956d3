"""EIP-712 typed data for the registry's signatures (docs/protocol.md).

The dictionaries go to ``eth_account.messages.encode_typed_data(full_message=...)`` or
``Account.sign_typed_data``; the same objects, hex-encoded, go to ethers' ``signTypedData``.
Import these names from ``spartacus.crypto``.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

from ..exceptions import CryptoError, InvalidKey
from .primitives import KEY_SIZE, account_bytes, check_bytes
from .sealing import Sealed

DOMAIN_NAME = "Spartacus"
DOMAIN_VERSION = "2"
# How long a pledge or withdrawal signature stays valid unless told (``validUntil`` =
# signing time + this): long enough for a relayer's batching delay and a slow block, short
# enough that a signature withheld by a relayer cannot be sent days later.
SIGNATURE_VALIDITY = 3_600
EIP712_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Endorsement": [
        {"name": "campaignKey", "type": "bytes32"},
        {"name": "expiry", "type": "uint64"},
    ],
    "Pledge": [
        {"name": "campaignId", "type": "uint256"},
        {"name": "memberKey", "type": "bytes32"},
        {"name": "ciphertext", "type": "bytes"},
        {"name": "boxes", "type": "bytes"},
        {"name": "commitment", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "validUntil", "type": "uint64"},
    ],
    "Withdraw": [
        {"name": "campaignId", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "validUntil", "type": "uint64"},
    ],
}


def _uint(value: int, bits: int, what: str) -> int:
    if not isinstance(value, int) or not 0 <= value < 2**bits:
        raise CryptoError(f"{what} {value!r} is not a uint{bits}")
    return value


def typed_data(
    chain_id: int, registry: str, primary: str, message: dict[str, Any]
) -> dict[str, Any]:
    """A full EIP-712 message in the registry's domain."""
    return {
        "types": {"EIP712Domain": EIP712_TYPES["EIP712Domain"], primary: EIP712_TYPES[primary]},
        "primaryType": primary,
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": _uint(chain_id, 256, "chain id"),
            "verifyingContract": to_checksum_address(account_bytes(registry)),
        },
        "message": message,
    }


def endorsement_typed_data(
    chain_id: int, registry: str, campaign_key: bytes, expiry: int
) -> dict[str, Any]:
    """``Endorsement(bytes32 campaignKey,uint64 expiry)``, signed by a custodian."""
    key = check_bytes(campaign_key, KEY_SIZE, "the campaign key", InvalidKey)
    message = {"campaignKey": key, "expiry": _uint(expiry, 64, "expiry")}
    return typed_data(chain_id, registry, "Endorsement", message)


def endorsement_signer(
    chain_id: int, registry: str, campaign_key: bytes, expiry: int, signature: bytes
) -> str:
    """The account that signed ``Endorsement(campaignKey, expiry)`` for this chain and registry.

    A pledger's client compares it with the custodian that ``CustodianAssigned`` names (and
    with the custodian's known account) before sealing to ``campaign_key``: a key changed on
    the way signs to some other account. ``CryptoError`` if the signature is malformed.
    """
    typed = endorsement_typed_data(chain_id, registry, campaign_key, expiry)
    if not isinstance(signature, bytes | bytearray) or len(signature) != 65:
        raise CryptoError("an endorsement signature must be 65 bytes")
    try:
        signer = Account.recover_message(
            encode_typed_data(full_message=typed), signature=bytes(signature)
        )
    except Exception:  # noqa: BLE001 - eth_account raises several types for a bad signature
        raise CryptoError("the endorsement signature is malformed") from None
    return str(to_checksum_address(signer))


def pledge_typed_data(
    chain_id: int, registry: str, campaign_id: int, sealed: Sealed, nonce: int, valid_until: int
) -> dict[str, Any]:
    """``Pledge(...)``, signed by the pledge account for ``pledgeWithSig``; the registry
    refuses it after ``valid_until`` (Unix time)."""
    message = {
        "campaignId": _uint(campaign_id, 256, "campaign id"),
        "memberKey": sealed.member_key,
        "ciphertext": sealed.ciphertext,
        "boxes": sealed.boxes,
        "commitment": sealed.commitment,
        "nonce": _uint(nonce, 256, "nonce"),
        "validUntil": _uint(valid_until, 64, "validUntil"),
    }
    return typed_data(chain_id, registry, "Pledge", message)


def withdraw_typed_data(
    chain_id: int, registry: str, campaign_id: int, nonce: int, valid_until: int
) -> dict[str, Any]:
    """``Withdraw(uint256 campaignId,uint256 nonce,uint64 validUntil)``, signed for
    ``withdrawWithSig``."""
    message = {
        "campaignId": _uint(campaign_id, 256, "campaign id"),
        "nonce": _uint(nonce, 256, "nonce"),
        "validUntil": _uint(valid_until, 64, "validUntil"),
    }
    return typed_data(chain_id, registry, "Withdraw", message)


def typed_data_digest(data: dict[str, Any]) -> bytes:
    """The 32-byte EIP-712 digest that ecrecover checks: keccak256(0x1901 || domain || hash)."""
    signable = encode_typed_data(full_message=data)
    return bytes(keccak(b"\x19" + signable.version + signable.header + signable.body))
