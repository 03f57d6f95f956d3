"""The custodian key check a pledger's client runs before sealing (no chain needed here)."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from spartacus import protocol
from spartacus.chain.creation import Endorsement
from spartacus.chain.directory import UNKNOWN, parse_directory
from spartacus.chain.key_check import check_keys
from spartacus.chain.records import Custodian
from spartacus.exceptions import CustodianKeyMismatch

CHAIN = 31337
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
KEY = bytes(range(1, 33))
ATTACKER = bytes([0xAA] * 32)
CUSTODIAN = Account.from_key("0x" + "11" * 32)
DIRECTORY = parse_directory({"custodians": [{"name": "Legal Aid", "account": CUSTODIAN.address}]})


def endorse(account: object, key: bytes, expiry: int = 2_000_000_000) -> Endorsement:
    typed = protocol.endorsement_typed_data(CHAIN, REGISTRY, key, expiry)
    signed = account.sign_message(encode_typed_data(full_message=typed))  # type: ignore[attr-defined]
    return Endorsement(account.address, key, expiry, bytes(signed.signature))  # type: ignore[attr-defined]


def check(custodians: list[Custodian], endorsements: list[Endorsement]) -> list[str]:
    checked = check_keys(CHAIN, REGISTRY, custodians, endorsements, DIRECTORY)
    return [c.label["label"] for c in checked]


def test_check_keys_matching_keys_are_labelled() -> None:
    stranger = Account.create()
    labels = check(
        [Custodian(0, CUSTODIAN.address, KEY), Custodian(1, stranger.address, ATTACKER)],
        [endorse(CUSTODIAN, KEY), endorse(stranger, ATTACKER)],
    )
    assert labels == ["Legal Aid (listed by this site)", UNKNOWN]


@pytest.mark.parametrize(
    ("custodians", "endorsements", "message"),
    [
        (  # the logs' key swapped
            [Custodian(0, CUSTODIAN.address, ATTACKER)],
            [endorse(CUSTODIAN, KEY)],
            "custodian 1 (Legal Aid): the campaign key the node serves (0xaaaa",
        ),
        (  # the call's key swapped as well: the signature is over the real key
            [Custodian(0, CUSTODIAN.address, ATTACKER)],
            [
                Endorsement(
                    CUSTODIAN.address, ATTACKER, 2_000_000_000, endorse(CUSTODIAN, KEY).signature
                )
            ],
            "was not signed by this custodian (the signature is by 0x",
        ),
        (  # the call names another custodian than the logs
            [Custodian(0, CUSTODIAN.address, KEY)],
            [endorse(Account.create(), KEY)],
            "the node names account " + CUSTODIAN.address,
        ),
        (  # one custodian more in the logs than in the call
            [Custodian(0, CUSTODIAN.address, KEY), Custodian(1, CUSTODIAN.address, KEY)],
            [endorse(CUSTODIAN, KEY)],
            "the node lists 2 custodians",
        ),
        (  # a signature that is not one
            [Custodian(0, CUSTODIAN.address, KEY)],
            [Endorsement(CUSTODIAN.address, KEY, 2_000_000_000, b"\x01" * 10)],
            "signature must be 65 bytes",
        ),
    ],
)
def test_check_keys_mismatch_names_the_custodian_and_says_nothing_was_sent(
    custodians: list[Custodian], endorsements: list[Endorsement], message: str
) -> None:
    with pytest.raises(CustodianKeyMismatch) as caught:
        check(custodians, endorsements)
    assert message in str(caught.value)
    assert "may be lying: nothing was sealed or sent" in str(caught.value)
