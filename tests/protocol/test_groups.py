"""Invitation codes and their EIP-712 redemption signature (docs/protocol.md, groups)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from hypothesis import given
from hypothesis import strategies as st

from spartacus.exceptions import CryptoError, InvalidInvitation
from spartacus.protocol.eip712 import typed_data_digest
from spartacus.protocol.groups import SNARK_SCALAR_FIELD, Invitation, invitation_typed_data

GROUPS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "groups.json"


@given(st.integers(min_value=1, max_value=2**64))
def test_code_round_trips(group_id: int) -> None:
    invitation = Invitation.new(group_id)
    again = Invitation.from_code(invitation.code)
    assert again == invitation and again.address == invitation.address
    assert (
        invitation.code.startswith(f"{group_id}-") and len(invitation.code.split("-", 1)[1]) == 43
    )


@pytest.mark.parametrize(
    "code",
    [
        "",
        "0-" + "A" * 43,  # group ids count from 1
        "3-" + "A" * 42,  # a character lost
        "3-" + "A" * 43 + "x",
        "3 " + "A" * 43,
        "3-" + "A" * 42 + "+",  # base64url only
        "3-" + "A" * 43,  # the zero key
    ],
)
def test_malformed_code_is_refused(code: str) -> None:
    with pytest.raises(InvalidInvitation):
        Invitation.from_code(code)


def test_signature_recovers_to_the_invitation_address_for_its_group_and_commitment() -> None:
    invitation = Invitation.new(4)
    signature = invitation.sign(31337, GROUPS, 12345)

    def signer(chain_id: int, groups: str, group_id: int, commitment: int) -> str:
        data = invitation_typed_data(chain_id, groups, group_id, commitment)
        return str(
            Account.recover_message(encode_typed_data(full_message=data), signature=signature)
        )

    assert signer(31337, GROUPS, 4, 12345) == invitation.address
    for other in [(1, GROUPS, 4, 12345), (31337, GROUPS, 5, 12345), (31337, GROUPS, 4, 12346)]:
        assert signer(*other) != invitation.address


@pytest.mark.parametrize("commitment", [0, SNARK_SCALAR_FIELD, -1])
def test_bad_commitment_is_refused(commitment: int) -> None:
    with pytest.raises(CryptoError, match="not an identity commitment"):
        Invitation.new(1).sign(31337, GROUPS, commitment)


def test_shared_vector_matches() -> None:
    """tests/vectors/groups.json, which the browser's signer is held to (tests/js)."""
    vector = json.loads(VECTORS.read_text())["invitation"]
    invitation = Invitation.from_code(vector["code"])
    commitment = int(vector["commitment"])
    data = invitation_typed_data(vector["chainId"], vector["groups"], vector["groupId"], commitment)

    assert invitation == Invitation(vector["groupId"], bytes.fromhex(vector["key"][2:]))
    assert invitation.address == vector["address"]
    assert "0x" + typed_data_digest(data).hex() == vector["digest"]
    signature = invitation.sign(vector["chainId"], vector["groups"], commitment)
    assert "0x" + signature.hex() == vector["signature"]
