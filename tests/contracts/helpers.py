"""Constants, payloads, typed-data signing and error decoding for the registry tests."""

from __future__ import annotations

import json
import os
from ast import literal_eval
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ape.exceptions import ContractLogicError, CustomError
from eth_abi import decode, encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

ARTIFACT = Path(__file__).resolve().parents[2] / "spartacus" / "artifacts" / "Spartacus.json"

DAY = 86_400
PLEDGE_CIPHERTEXT = 296
BLOCK = 256
CIPHERTEXT_OVERHEAD = 40
MAX_INSTRUCTIONS = CIPHERTEXT_OVERHEAD + 16 * BLOCK
MAX_RELEASE = 98_304
MAX_TITLE = 200
MAX_TEXT = 4_000
MAX_BATCH = 100
ADMIT_WINDOW = 7 * DAY
# A signed message's validity in these tests unless told: far beyond any time travel.
VALID_UNTIL = 2**63


class Status:
    NONE, OPEN, PENDING, REVEALED, EXPIRED = range(5)


class Field:
    TITLE, DESCRIPTION, PLAN, CIPHERTEXT, BOXES, SIGNATURE, RELEASE_DATA = range(7)


MEMBERS, PUBLIC = 0, 1

EIP712_DOMAIN = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
# The types of docs/protocol.md, "Custodian endorsement and EIP-712".
EIP712_TYPES = {
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


def box_size(t: int) -> int:
    """Bytes of one custodian's box: a 32-byte key (t = 1) or 33-byte Shamir share, + 80."""
    return 112 if t == 1 else 113


def rand32() -> bytes:
    return os.urandom(32)


@dataclass(frozen=True)
class Sealed:
    """A sealed payload (ISpartacus.Sealed) of random bytes: the registry checks sizes only."""

    member_key: bytes
    ciphertext: bytes
    boxes: bytes
    commitment: bytes

    @classmethod
    def random(
        cls, n: int = 1, t: int = 1, ciphertext: int = PLEDGE_CIPHERTEXT, boxes: int | None = None
    ) -> Sealed:
        size = n * box_size(t) if boxes is None else boxes
        return cls(rand32(), os.urandom(ciphertext), os.urandom(size), rand32())

    def replace(self, **changes: bytes) -> Sealed:
        return Sealed(**{**self.__dict__, **changes})

    @property
    def abi(self) -> tuple[bytes, bytes, bytes, bytes]:
        return (self.member_key, self.ciphertext, self.boxes, self.commitment)

    def message(self, campaign_id: int, nonce: int, valid_until: int) -> dict[str, Any]:
        return {
            "campaignId": campaign_id,
            "memberKey": self.member_key,
            "ciphertext": self.ciphertext,
            "boxes": self.boxes,
            "commitment": self.commitment,
            "nonce": nonce,
            "validUntil": valid_until,
        }


@dataclass
class Campaign:
    """What ``create_campaign`` made: its id, terms, receipt and the custodians it lists."""

    id: int
    threshold: int
    deadline: int
    grace: int
    t: int
    custodians: list[Any]
    keys: list[bytes]
    terms: tuple[Any, ...]
    instructions: Sealed
    receipt: Any = field(repr=False)
    endorsements: list[tuple[Any, ...]] = field(default_factory=list, repr=False)

    def sealed(self) -> Sealed:
        """A random pledge of the right sizes for this campaign."""
        return Sealed.random(n=len(self.custodians), t=self.t)


# ---------------------------------------------------------------- helpers


def events(receipt: Any, name: str) -> list[dict[str, Any]]:
    """The arguments of every ``name`` event in the receipt, in log order, without
    ``previousBlock``: every campaign event carries it, and tests/contracts/test_event_chain.py
    asserts it for each kind of event (``links`` below)."""
    return [
        {k: v for k, v in log.event_arguments.items() if k != "previousBlock"}
        for log in receipt.events
        if log.event_name == name
    ]


def links(receipt: Any) -> list[tuple[str, int, int]]:
    """(event, its block, its previousBlock) for every campaign event in the receipt."""
    return [
        (log.event_name, int(log.block_number), int(log.event_arguments["previousBlock"]))
        for log in receipt.events
        if "previousBlock" in log.event_arguments
    ]


def event_names(receipt: Any) -> list[str]:
    return [log.event_name for log in receipt.events]


def _error_table() -> dict[bytes, tuple[str, list[str], list[str]]]:
    table = {}
    for item in json.loads(ARTIFACT.read_text())["abi"]:
        if item["type"] == "error":
            types = [i["type"] for i in item["inputs"]]
            selector = keccak(f"{item['name']}({','.join(types)})".encode())[:4]
            table[selector] = (item["name"], types, [i["name"] for i in item["inputs"]])
    return table


ERRORS = _error_table()


def decode_error(exc: ContractLogicError) -> tuple[str, dict[str, Any]]:
    """The custom error's name and arguments.

    ape decodes custom errors itself, but not always: on eth-tester, revert data containing a
    quote byte (0x27) stays a ``b"..."`` repr (DeadlineNotInFuture's selector 0xdd2d27d7
    always does; random keys sometimes do), and on anvil (``--network ethereum:local:foundry``)
    a reverted view call keeps the data as text. Such errors are decoded here from the raw
    revert data and the registry's ABI.
    """
    if isinstance(exc, CustomError):
        return type(exc).__name__, dict(exc.inputs)
    data = _revert_data(exc)
    if data[:4] not in ERRORS:
        raise AssertionError(f"unknown error selector 0x{data[:4].hex()}: {exc!r}")
    name, types, names = ERRORS[data[:4]]
    values = decode(types, data[4:])
    return name, {
        key: to_checksum_address(value) if kind == "address" else value
        for key, kind, value in zip(names, types, values, strict=True)
    }


def _revert_data(exc: ContractLogicError) -> bytes:
    raw = getattr(exc.base_err, "data", None)
    if isinstance(raw, str) and raw.startswith("0x"):
        return bytes.fromhex(raw[2:])
    message = str(exc.revert_message)
    if message.startswith(("b'", 'b"')):
        return bytes(literal_eval(message))
    if message.startswith("0x"):
        return bytes.fromhex(message[2:])
    # anvil reports revert data that is valid UTF-8 as text, and ape-foundry keeps only that.
    return message.encode()


@contextmanager
def reverts(error: str, **inputs: Any) -> Iterator[None]:
    """Expect a revert with custom error ``error`` carrying exactly ``inputs``.

    Stricter than ``ape.reverts``, which passes a revert it cannot decode and ignores
    argument names the error does not have.
    """
    with pytest.raises(ContractLogicError) as info:
        yield
    name, actual = decode_error(info.value)
    assert name == error, f"expected {error}{inputs}, got {name}{actual}"
    assert actual == inputs, f"{error}: expected {inputs}, got {actual}"


def typed_data(
    primary: str, message: dict[str, Any], *, chain_id: int, registry: str
) -> dict[str, Any]:
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN, primary: EIP712_TYPES[primary]},
        "primaryType": primary,
        "domain": {
            "name": "Spartacus",
            "version": "2",
            "chainId": chain_id,
            "verifyingContract": registry,
        },
        "message": message,
    }


def recover(signature: bytes, primary: str, message: dict[str, Any], **domain: Any) -> str:
    """The address a registry recovers from ``signature`` over this typed message."""
    signable = encode_typed_data(full_message=typed_data(primary, message, **domain))
    return str(Account.recover_message(signable, signature=signature))


def metadata_hash(terms: Sequence[Any]) -> bytes:
    """keccak256(abi.encode(title, description, plan))."""
    return keccak(encode(["string", "string", "string"], list(terms[:3])))
