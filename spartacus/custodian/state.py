"""The watcher's saved progress: ``<home>/watcher/state.json``, written atomically.

One section per (chain id, registry address). For each campaign that lists this
custodian: its index and campaign key, the last confirmed block processed, the status seen
there, the release transaction in flight (saved *before* it is sent), the releases mined,
finalize calls, problems, and whether the key was destroyed. The chain stays
the source of truth: the releases themselves are re-derived from its logs on every pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..files import read_json, write_json

VERSION = 1


class WatchState:
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

    @classmethod
    def file(cls, home: Path) -> Path:
        return home / "watcher" / "state.json"

    def save(self) -> None:
        write_json(self.path, self.data)

    @property
    def scanned_to(self) -> int:
        return int(self.section["scannedTo"])

    @scanned_to.setter
    def scanned_to(self, block: int) -> None:
        self.section["scannedTo"] = block

    @property
    def campaigns(self) -> dict[str, dict[str, Any]]:
        campaigns: dict[str, dict[str, Any]] = self.section["campaigns"]
        return campaigns

    def campaign(
        self, campaign_id: int, index: int, campaign_key: bytes
    ) -> tuple[dict[str, Any], bool]:
        """The record of a campaign, created if new; returns (record, created)."""
        key = str(campaign_id)
        if key in self.campaigns:
            return self.campaigns[key], False
        record: dict[str, Any] = {
            "index": index,
            "campaignKey": "0x" + campaign_key.hex(),
            "lastBlock": None,
            "status": None,
            "pending": None,
            "releases": [],
            "finalizeSent": [],
            "problems": {},
            "keyDestroyed": None,
        }
        self.campaigns[key] = record
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
                    "keyDestroyed": record.get("keyDestroyed"),
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
        lines += [f"    problem with pledge #{i}: {why}" for i, why in c["problems"].items()]
    return lines
