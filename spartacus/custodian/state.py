"""The watcher's saved progress: ``<home>/watcher/state.json``, written atomically.

One section per (chain id, registry address). For each campaign that lists this
custodian: its index and campaign key, the last confirmed block processed, the status seen
there, the release transaction in flight (saved *before* it is sent), the releases mined,
finalize calls, problems, whether the key was destroyed, and why it was refused (a key
issued for another registry): a ``CampaignRecord`` each, typed here and saved in the same
JSON shape. The chain stays the source of truth: the releases themselves are re-derived
from its logs on every pass.

Per section too: the block the RPC sources last agreed on (``confirmed``) and, while passes
do nothing because they disagree, why (``held``); a campaign left alone for that reason
carries its own ``held``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..chain.records import iso
from ..files import read_json, write_json

VERSION = 1


@dataclass
class PendingRelease:
    """A release transaction signed and saved, not yet seen mined."""

    tx: str
    round: int
    nonce: int

    def to_json(self) -> dict[str, Any]:
        return {"tx": self.tx, "round": self.round, "nonce": self.nonce}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingRelease:
        return cls(str(data["tx"]), int(data["round"]), int(data["nonce"]))


@dataclass
class MinedRelease:
    """A release transaction mined (successfully) in ``block``."""

    round: int
    tx: str
    block: int

    def to_json(self) -> dict[str, Any]:
        return {"round": self.round, "tx": self.tx, "block": self.block}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MinedRelease:
        return cls(int(data["round"]), str(data["tx"]), int(data["block"]))


@dataclass
class KeyDestroyed:
    """Why and when the campaign key was destroyed."""

    reason: str
    block: int
    time: int

    def to_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "block": self.block, "time": self.time}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyDestroyed:
        return cls(str(data["reason"]), int(data["block"]), int(data["time"]))


@dataclass
class CampaignRecord:
    """What the watcher keeps about one campaign that lists this custodian."""

    index: int
    campaign_key: str  # 0x-hex of the public campaign key
    last_block: int | None = None
    status: str | None = None
    pending: PendingRelease | None = None
    releases: list[MinedRelease] = field(default_factory=list)
    finalize_sent: list[int] = field(default_factory=list)
    held: str | None = None  # why the last pass did nothing for it (the sources disagree...)
    problems: dict[str, str] = field(default_factory=dict)  # pledge index -> reason
    key_destroyed: KeyDestroyed | None = None
    key_missing: bool = False
    refused: str | None = None  # why its campaign key is not used here (another registry's)

    @property
    def public_key(self) -> bytes:
        return bytes.fromhex(self.campaign_key[2:])

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "index": self.index,
            "campaignKey": self.campaign_key,
            "lastBlock": self.last_block,
            "status": self.status,
            "pending": self.pending.to_json() if self.pending else None,
            "releases": [r.to_json() for r in self.releases],
            "finalizeSent": list(self.finalize_sent),
            "problems": dict(self.problems),
            "keyDestroyed": self.key_destroyed.to_json() if self.key_destroyed else None,
        }
        if self.held:
            data["held"] = self.held
        if self.key_missing:
            data["keyMissing"] = True
        if self.refused:
            data["refused"] = self.refused
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CampaignRecord:
        pending, destroyed = data.get("pending"), data.get("keyDestroyed")
        return cls(
            index=int(data["index"]),
            campaign_key=str(data["campaignKey"]),
            last_block=data.get("lastBlock"),
            status=data.get("status"),
            pending=PendingRelease.from_json(pending) if pending else None,
            releases=[MinedRelease.from_json(r) for r in data.get("releases", [])],
            finalize_sent=[int(b) for b in data.get("finalizeSent", [])],
            held=data.get("held"),
            problems={str(k): str(v) for k, v in data.get("problems", {}).items()},
            key_destroyed=KeyDestroyed.from_json(destroyed) if destroyed else None,
            key_missing=bool(data.get("keyMissing", False)),
            refused=data.get("refused"),
        )


class WatchState:
    """The saved state of one (chain id, registry) section, typed; ``save`` writes the whole
    file atomically, in the JSON shape above."""

    def __init__(self, path: Path, chain_id: int, registry: str) -> None:
        self.path = path
        self.section_name = f"{chain_id}:{registry.lower()}"
        self.data: dict[str, Any] = (
            read_json(path, "watcher state") if path.exists() else {"version": VERSION}
        )
        sections = self.data.setdefault("registries", {})
        self.section: dict[str, Any] = sections.setdefault(
            self.section_name,
            {"chainId": chain_id, "registry": registry, "scannedTo": -1, "campaigns": {}},
        )
        self.campaigns: dict[int, CampaignRecord] = {
            int(key): CampaignRecord.from_json(record)
            for key, record in self.section["campaigns"].items()
        }

    @classmethod
    def file(cls, home: Path) -> Path:
        return home / "watcher" / "state.json"

    def save(self) -> None:
        self.section["campaigns"] = {
            str(campaign_id): record.to_json() for campaign_id, record in self.campaigns.items()
        }
        write_json(self.path, self.data)

    @property
    def scanned_to(self) -> int:
        return int(self.section["scannedTo"])

    @scanned_to.setter
    def scanned_to(self, block: int) -> None:
        self.section["scannedTo"] = block

    @property
    def confirmed(self) -> dict[str, Any] | None:
        """The last block the RPC sources agreed on (``Confirmed.to_json``), for
        ``custodian status``."""
        return self.section.get("confirmed")

    @confirmed.setter
    def confirmed(self, block: dict[str, Any]) -> None:
        self.section["confirmed"] = block

    @property
    def held(self) -> dict[str, Any] | None:
        """Why passes take no action (``{"reason", "since"}``), or None."""
        return self.section.get("held")

    @held.setter
    def held(self, held: dict[str, Any] | None) -> None:
        self.section["held"] = held

    def campaign(
        self, campaign_id: int, index: int, campaign_key: bytes
    ) -> tuple[CampaignRecord, bool]:
        """The record of a campaign, created if new; returns (record, created)."""
        if campaign_id in self.campaigns:
            return self.campaigns[campaign_id], False
        record = CampaignRecord(index=index, campaign_key="0x" + campaign_key.hex())
        self.campaigns[campaign_id] = record
        return record, True

    @property
    def unused_keys_destroyed(self) -> list[str]:
        keys: list[str] = self.section.setdefault("unusedKeysDestroyed", [])
        return keys


def load_sections(home: Path) -> list[dict[str, Any]]:
    """Every registry section of the saved state (for ``custodian status``)."""
    path = WatchState.file(home)
    if not path.exists():
        return []
    data = read_json(path, "watcher state")
    return list(data.get("registries", {}).values())


def watched_campaigns(home: Path) -> list[dict[str, Any]]:
    """What the watcher saved about each campaign, flattened (``custodian status``)."""
    out = []
    for section in load_sections(home):
        for campaign_id, record in sorted(section["campaigns"].items(), key=lambda i: int(i[0])):
            out.append(
                {
                    "campaign": int(campaign_id),
                    "chainId": section["chainId"],
                    "registry": section["registry"],
                    "status": record.get("status"),
                    "lastBlock": record.get("lastBlock"),
                    "releases": record.get("releases", []),
                    "pending": record.get("pending"),
                    "problems": record.get("problems", {}),
                    "held": record.get("held"),
                    "keyDestroyed": record.get("keyDestroyed"),
                    "refused": record.get("refused"),
                }
            )
    return out


def describe_watched(campaigns: list[dict[str, Any]]) -> list[str]:
    """Lines for people: one per campaign, then one per problem."""
    if not campaigns:
        return ["no campaign watched yet (run `spartacus watch`)"]
    lines = [f"{len(campaigns)} campaign(s) watched"]
    for c in campaigns:
        rounds = sorted({r["round"] for r in c["releases"]})
        text = f"  campaign {c['campaign']}: {c['status'] or 'unknown'} at block {c['lastBlock']}"
        text += f", {len(c['releases'])} release transaction(s)"
        if rounds:
            text += f" in round(s) {', '.join(map(str, rounds))}"
        if c["pending"]:
            text += f", release {c['pending']['tx']} awaiting its receipt"
        if c["keyDestroyed"]:
            text += f", key destroyed ({c['keyDestroyed']['reason']})"
        lines.append(text)
        if c.get("refused"):
            lines.append(f"    problem: {c['refused']}")
        lines += [f"    problem with pledge #{i}: {why}" for i, why in c["problems"].items()]
        if c.get("held"):
            lines.append(f"    no action at the last pass: {c['held']}")
    return lines


def passes(home: Path) -> list[dict[str, Any]]:
    """Per registry: the last confirmed block the sources agreed on and, while passes take
    no action, why (``custodian status``)."""
    return [
        {
            "chainId": s["chainId"],
            "registry": s["registry"],
            "confirmed": s.get("confirmed"),
            "held": s.get("held"),
        }
        for s in load_sections(home)
    ]


def describe_passes(sections: list[dict[str, Any]]) -> list[str]:
    """Lines for people: the block the sources last agreed on, and any pass held back."""
    lines = []
    for s in sections:
        block = s["confirmed"]
        if block:
            sources = ", ".join(block.get("sources", [])) or "its source"
            lines.append(
                f"registry {s['registry']}: last confirmed block {block['block']} "
                f"({block['hash'][:12]}…, {iso(int(block['time']))}), agreed by {sources}"
            )
        if s["held"]:
            since = iso(int(s["held"]["since"]))
            lines.append(f"  NO ACTION since {since}: {s['held']['reason']}")
    return lines
