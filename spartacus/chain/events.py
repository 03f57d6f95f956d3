"""The one decoder of the registry's events: logs from ``eth_getLogs``, from receipts
(``decode_receipt``) or from the web app's poller all go through ``EventDecoder``, which
the registry's ABI configures; event topics come from that ABI too (``event_topic``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address
from hexbytes import HexBytes

from ..protocol import (
    PledgeRecord,
)
from .artifact import abi_type
from .records import (
    ZERO_ACCOUNT,
    Admission,
    Assignment,
    Custodian,
    History,
    PledgeEvent,
    Release,
    RosterMode,
    StatusChange,
    Terms,
    Withdrawal,
)

# ---------------------------------------------------------------------- internals

if TYPE_CHECKING:
    from .registry import Registry


@dataclass(frozen=True)
class EventDecoder:
    """Decodes one event's logs with eth_abi directly.

    web3's ``process_log`` spent most of a 10,000-member roster read re-validating every
    log (bench/, docs/performance.md); the registry's own ABI is all this needs.
    """

    name: str
    indexed: tuple[tuple[str, str], ...]  # (name, type) of the indexed inputs, in topic order
    data: tuple[tuple[str, str], ...]  # (name, type) of the rest, in data order

    @classmethod
    def from_abi(cls, item: dict[str, Any]) -> EventDecoder:
        inputs = item["inputs"]
        return cls(
            item["name"],
            tuple((i["name"], abi_type(i)) for i in inputs if i["indexed"]),
            tuple((i["name"], abi_type(i)) for i in inputs if not i["indexed"]),
        )

    def decode(self, log: Any) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for (name, kind), topic in zip(self.indexed, log["topics"][1:], strict=True):
            args[name] = _checksummed(kind, abi_decode([kind], bytes(topic))[0])
        values = abi_decode([kind for _, kind in self.data], bytes(log["data"]))
        for (name, kind), value in zip(self.data, values, strict=True):
            args[name] = _checksummed(kind, value)
        return args


def plain_log(log: dict[str, Any]) -> dict[str, Any]:
    """A raw JSON-RPC log with bytes and ints where web3 would have put them."""
    return {
        "topics": [bytes.fromhex(t[2:]) for t in log["topics"]],
        "data": bytes.fromhex(log["data"][2:]),
        "blockNumber": int(log["blockNumber"], 16),
        "transactionHash": bytes.fromhex(log["transactionHash"][2:]),
        "logIndex": int(log["logIndex"], 16),
    }


def _checksummed(kind: str, value: Any) -> Any:
    return to_checksum_address(value) if kind == "address" else value


def _get(value: Any, key: str, position: int) -> Any:
    """A field of a decoded tuple, whether web3 gave it as a mapping or a sequence."""
    return value[key] if hasattr(value, "keys") else value[position]


def apply_log(history: History, name: str, args: Any, log: Any) -> None:
    _record(history, name, args, log)
    latest: dict[str, Any] = {
        "CampaignCreated": lambda: history.terms,
        "CustodianAssigned": lambda: history.custodians[-1],
        "InstructionsSealed": lambda: history.instructions,
        "Pledged": lambda: history.pledges[-1],
        "Withdrawn": lambda: history.withdrawals[-1],
        "Released": lambda: history.releases[-1],
        "Admitted": lambda: history.admissions[-1],
        "MemberPledged": lambda: history.pledges[-1],
    }
    record = latest[name]() if name in latest else history.changes[-1]
    history.log.append((name, record))


def _record(history: History, name: str, args: Any, log: Any) -> None:
    block = int(log["blockNumber"])
    if name == "CampaignCreated":
        t = args["terms"]
        history.terms = Terms(
            title=_get(t, "title", 0),
            description=_get(t, "description", 1),
            plan=_get(t, "plan", 2),
            threshold=_get(t, "threshold", 3),
            deadline=_get(t, "deadline", 4),
            grace_period=_get(t, "gracePeriod", 5),
            custodian_threshold=_get(t, "custodianThreshold", 6),
            roster_mode=RosterMode(_get(t, "rosterMode", 7)),
            creator=args["creator"],
            metadata_hash=bytes(args["metadataHash"]),
            block_number=block,
            transaction_hash=HexBytes(log["transactionHash"]).to_0x_hex()
            if log.get("transactionHash") is not None
            else "",
            late_joining=bool(_get(t, "lateJoining", 8)),
            group=int(_get(t, "group", 9)),
        )
    elif name == "CustodianAssigned":
        history.custodians.append(
            Custodian(
                int(args["index"]),
                args["custodian"],
                bytes(args["campaignKey"]),
                int(args["expiry"]),
                bytes(args["signature"]),
            )
        )
    elif name == "InstructionsSealed":
        s = args["instructions"]
        names = ("memberKey", "ciphertext", "boxes", "commitment")
        values = [_get(s, key, i) for i, key in enumerate(names)]
        history.instructions = PledgeRecord(
            0, ZERO_ACCOUNT, bytes(values[0]), bytes(values[1]), bytes(values[2]), bytes(values[3])
        )
    elif name == "Pledged":
        record = PledgeRecord(
            int(args["index"]),
            args["account"],
            bytes(args["memberKey"]),
            bytes(args["ciphertext"]),
            bytes(args["boxes"]),
            bytes(args["commitment"]),
        )
        tx = HexBytes(log["transactionHash"]).to_0x_hex()
        history.pledges.append(PledgeEvent(record, int(args["active"]), block, tx))
    elif name == "Withdrawn":
        history.withdrawals.append(
            Withdrawal(int(args["index"]), args["account"], int(args["active"]), block)
        )
    elif name == "Released":
        tx = HexBytes(log["transactionHash"]).to_0x_hex()
        history.releases.append(
            Release(int(args["index"]), args["custodian"], bytes(args["data"]), block, tx)
        )
    elif name == "Admitted":
        history.admissions.append(Admission(int(args["index"]), int(args["active"]), block))
    elif name == "MemberPledged":
        history.nullifiers[int(args["index"])] = int(args["nullifier"])
    elif name == "ThresholdReached":
        history.changes.append(
            StatusChange(name, int(args["active"]), block, pledges=int(args["pledges"]))
        )
    elif name in ("Reopened", "Expired"):
        history.changes.append(StatusChange(name, int(args["active"]), block))
    elif name == "GraceStarted":
        history.changes.append(
            StatusChange(name, int(args["active"]), block, int(args["graceEnd"]))
        )


def decode_receipt(registry: Registry, receipt: Any) -> list[tuple[str, dict[str, Any]]]:
    """The registry's events in a mined transaction's receipt, decoded, in the order they
    were emitted, as (name, arguments); logs of any other contract are left out."""
    decoders = registry._decoders
    out = []
    for log in receipt["logs"]:
        topics = log["topics"]
        if not topics or to_checksum_address(log["address"]) != registry.address:
            continue
        decoder = decoders.get(bytes(HexBytes(topics[0])))
        if decoder is not None:
            out.append((decoder.name, decoder.decode(log)))
    return out


def event_topic(registry: Registry, name: str) -> bytes:
    """The first topic of the registry's event ``name`` (the keccak of its ABI signature)."""
    for topic, decoder in registry._decoders.items():
        if decoder.name == name:
            return topic
    raise KeyError(f"the registry's ABI has no event {name}")


def custodian_assignments(
    registry: Registry, custodian: str, *, from_block: int, to_block: int
) -> list[Assignment]:
    """The campaigns that list ``custodian``, from the logs filtered by its indexed topic
    (``raw_logs``: a range over the provider's cap is halved, not refused)."""
    if to_block < from_block:
        return []
    topic0 = event_topic(registry, "CustodianAssigned")
    decoder = registry._decoders[topic0]
    topic2 = "0x" + bytes(HexBytes(to_checksum_address(custodian))).rjust(32, b"\0").hex()
    logs = registry.raw_logs(from_block, to_block, ["0x" + topic0.hex(), None, topic2])
    out = []
    for log in logs:
        args = decoder.decode(log)
        out.append(
            Assignment(
                int(args["campaignId"]),
                int(args["index"]),
                bytes(args["campaignKey"]),
                int(log["blockNumber"]),
            )
        )
    return out


# ---------------------------------------------------------------------- indexing support


def apply_logs(registry: Registry, histories: dict[int, History], logs: Any) -> set[int]:
    """Decode registry logs of any campaigns into ``histories``; returns the ids touched.

    The web app's poller reads every campaign's logs of a block range in one call and
    keeps one ``History`` per campaign, as ``Registry.history`` builds for one.
    """
    touched: set[int] = set()
    decoders = registry._decoders
    for log in logs:
        topics = log["topics"]
        decoder = decoders.get(bytes(HexBytes(topics[0]))) if topics else None
        if decoder is None or len(topics) < 2:
            continue
        campaign_id = int.from_bytes(bytes(HexBytes(topics[1])), "big")
        history = histories.setdefault(campaign_id, History(campaign_id))
        apply_log(history, decoder.name, decoder.decode(log), log)
        touched.add(campaign_id)
    return touched
