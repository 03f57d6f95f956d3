"""The endorsement signer: the account a custodian key's EIP-712 signature recovers to.

The signature below is the one tests/js/custodians.test.mjs checks in JavaScript too.
"""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from spartacus import protocol
from spartacus.exceptions import CryptoError

CHAIN = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
KEY = bytes(range(1, 33))
EXPIRY = 2_000_000_000
SIGNER = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"  # account key 0x11..11
SIGNATURE = bytes.fromhex(
    "b782d7c02cf754093cd80f36e2e86ba265c7255929348d56bad2b382cfc475a7"
    "7aed541a20c77a8a6af3d253b518d71937c74d4ca712dde720f67127937d7f801b"
)


def test_endorsement_signer_recovers_the_custodian() -> None:
    account = Account.from_key("0x" + "11" * 32)
    typed = protocol.endorsement_typed_data(CHAIN, REGISTRY, KEY, EXPIRY)
    made = bytes(account.sign_message(encode_typed_data(full_message=typed)).signature)
    assert made == SIGNATURE  # deterministic (RFC 6979): the vector the JS test shares
    assert protocol.endorsement_signer(CHAIN, REGISTRY, KEY, EXPIRY, SIGNATURE) == SIGNER


@pytest.mark.parametrize(
    ("chain", "registry", "key", "expiry"),
    [
        (CHAIN, REGISTRY, bytes([KEY[0] ^ 1]) + KEY[1:], EXPIRY),  # a swapped key
        (CHAIN, REGISTRY, KEY, EXPIRY + 1),
        (1, REGISTRY, KEY, EXPIRY),
        (CHAIN, "0x000000000000000000000000000000000000dEaD", KEY, EXPIRY),
    ],
)
def test_endorsement_signer_of_anything_else_is_someone_else(
    chain: int, registry: str, key: bytes, expiry: int
) -> None:
    assert protocol.endorsement_signer(chain, registry, key, expiry, SIGNATURE) != SIGNER


@pytest.mark.parametrize("signature", [b"", SIGNATURE[:64], bytes(65), SIGNATURE + b"\0"])
def test_endorsement_signer_malformed_signature_raises(signature: bytes) -> None:
    with pytest.raises(CryptoError):
        protocol.endorsement_signer(CHAIN, REGISTRY, KEY, EXPIRY, signature)
