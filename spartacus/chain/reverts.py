"""Custom errors in words: decoding the registry's reverts, and explaining a mined one."""

from __future__ import annotations

from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
)

from ..exceptions import ContractRevert
from .artifact import abi_type
from .records import Status, iso


def explain_revert(w3: Web3, tx_hash: bytes, receipt: Any, errors: dict[bytes, Any]) -> str:
    """Why a mined transaction reverted, as far as the node can say without tracing.

    The transaction is replayed as a call on the state after its block: the registry's
    custom error then names what changed under it (e.g. the campaign was revealed by a
    pledge mined first). If the replay passes, the gas ran out or the state moved again."""
    tx = w3.eth.get_transaction(HexBytes(tx_hash))
    call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "gas": tx["gas"]}
    prefix = f"transaction {HexBytes(tx_hash).to_0x_hex()} reverted"
    try:
        w3.eth.call(call, block_identifier=receipt["blockNumber"])  # type: ignore[arg-type]
    except ContractCustomError as exc:
        revert = decode_revert(errors, exc.data if isinstance(exc.data, str) else "")
        return f"{prefix}: {revert}"
    except ContractLogicError as exc:
        return f"{prefix}: {exc}"
    if receipt["gasUsed"] >= tx["gas"]:
        return f"{prefix}: out of gas ({receipt['gasUsed']:,} used of {tx['gas']:,})"
    return f"{prefix}; replayed on the state after its block it passes (the state moved)"


def decode_revert(errors: dict[bytes, Any], data: str | bytes) -> ContractRevert:
    raw = bytes(HexBytes(data))
    item = errors.get(raw[:4])
    if item is None:
        return ContractRevert("Unknown", {}, f"the registry refused the call (0x{raw.hex()})")
    types = [abi_type(i) for i in item["inputs"]]
    values = abi_decode(types, raw[4:])
    args = {
        i["name"]: to_checksum_address(v) if i["type"] == "address" else v
        for i, v in zip(item["inputs"], values, strict=True)
    }
    return ContractRevert(item["name"], args, _explain(item["name"], args))


_FIELDS = ["title", "description", "plan", "ciphertext", "boxes", "signature", "release data"]


def _explain(name: str, a: dict[str, Any]) -> str:
    """Words for each custom error, for people rather than debuggers."""
    cid = a.get("campaignId")
    messages: dict[str, Any] = {
        "UnknownCampaign": lambda: f"campaign {cid} does not exist",
        "ThresholdTooLow": lambda: f"the threshold must be at least 2 (got {a['threshold']})",
        "DeadlineNotInFuture": lambda: f"the deadline {iso(a['deadline'])} is not in the future",
        "BadCustodianCount": lambda: f"a campaign needs 1 to 5 custodians (got {a['count']})",
        "BadCustodianThreshold": lambda: (
            f"the custodian threshold must be between 1 and {a['custodianCount']} "
            f"(got {a['custodianThreshold']})"
        ),
        "DuplicateCustodian": lambda: f"custodian {a['custodian']} is listed twice",
        "EndorsementExpired": lambda: (
            f"endorsement {a['index'] + 1} expired on {iso(a['expiry'])}; "
            "ask the custodian for a new one"
        ),
        "BadEndorsement": lambda: (
            f"endorsement {a['index'] + 1} was not signed by custodian {a['custodian']} "
            f"(signer {a['signer']}); it may be for another registry or chain"
        ),
        "CampaignKeyUsed": lambda: (
            f"campaign key 0x{bytes(a['campaignKey']).hex()} already serves a campaign; "
            "ask the custodian for a fresh endorsement"
        ),
        "ZeroKey": lambda: "a member or campaign key is zero",
        "BadLength": lambda: (
            f"the {_FIELDS[a['field']]} has {a['length']} bytes; expected {a['expected']}"
        ),
        "CampaignClosed": lambda: (
            f"campaign {cid} no longer takes pledges "
            f"({Status(a['status']).label}, deadline {iso(a['deadline'])})"
        ),
        "WrongStatus": lambda: f"campaign {cid} is {Status(a['status']).label}",
        "AlreadyPledged": lambda: f"{a['account']} already has an active pledge in campaign {cid}",
        "NotPledged": lambda: f"{a['account']} has no active pledge in campaign {cid}",
        "BadSignature": lambda: f"the signature is not by {a['account']} (signer {a['signer']})",
        "GraceNotOver": lambda: f"campaign {cid}'s grace period ends at {iso(a['graceEnd'])}",
        "DeadlineNotPassed": lambda: (
            f"campaign {cid}'s deadline {iso(a['deadline'])} has not passed"
        ),
        "NotCustodian": lambda: f"{a['caller']} is not a custodian of campaign {cid}",
        "NotCreator": lambda: f"{a['caller']} is not the creator of campaign {cid}",
        "SignatureExpired": lambda: (
            f"the signature was valid until {iso(a['validUntil'])}; sign again"
        ),
        "BadBatchSize": lambda: f"a batch holds 1 to {a['max']} items (got {a['size']})",
        "NotLatePledge": lambda: (
            f"pledge {a['index']} is not a late pledge of campaign {cid} awaiting admission"
        ),
        "AlreadyAdmitted": lambda: f"pledge {a['index']} of campaign {cid} is already admitted",
        "AdmissionClosed": lambda: (
            f"late pledges of campaign {cid} could be admitted until {iso(a['closesAt'])}"
        ),
        # Gated campaigns; the proof's own errors come from the groups contract, unchanged.
        "UnknownGroup": lambda: f"group {a['groupId']} does not exist",
        "MembershipRequired": lambda: (
            f"campaign {cid} takes pledges from members of group {a['groupId']} only: the "
            "pledge must carry a membership proof"
        ),
        "NotGated": lambda: f"campaign {cid} is open to anyone: a pledge carries no proof",
        "NullifierInUse": lambda: (
            f"this member of the group already holds active pledge {a['index']} in campaign "
            f"{cid}: one active pledge per member"
        ),
        "InvalidProof": lambda: (
            f"the membership proof for group {a['groupId']} is not valid: the identity is not "
            "a member of the campaign's group"
        ),
        "ProofMismatch": lambda: (
            "the membership proof was made for another campaign, pledge, account or nonce"
        ),
        "StaleRoot": lambda: (
            f"the proof was made for a state of group {a['groupId']} that is no longer "
            "accepted; prove again"
        ),
        "UnsupportedDepth": lambda: (
            f"the proof has tree depth {a['depth']}; only {a['supported']} is supported"
        ),
    }
    explain = messages.get(name)
    return str(explain()) if explain else f"the registry refused the call: {name}({a})"
