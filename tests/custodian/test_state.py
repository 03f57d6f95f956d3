"""The watcher's typed state reads and writes the same state.json as before it was typed."""

from __future__ import annotations

import json
from pathlib import Path

from spartacus.custodian.state import (
    CampaignRecord,
    KeyDestroyed,
    MinedRelease,
    PendingRelease,
    WatchState,
    watched_campaigns,
)

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
SAVED = {
    "version": 1,
    "registries": {
        f"31337:{REGISTRY.lower()}": {
            "chainId": 31337,
            "registry": REGISTRY,
            "scannedTo": 42,
            "campaigns": {
                "1": {
                    "index": 0,
                    "campaignKey": "0x" + "ab" * 32,
                    "lastBlock": 40,
                    "status": "revealed",
                    "pending": {"tx": "0x" + "11" * 32, "round": 2, "nonce": 7},
                    "releases": [{"round": 1, "tx": "0x" + "22" * 32, "block": 30}],
                    "finalizeSent": [25],
                    "problems": {"3": "its box does not open with this custodian's key"},
                    "keyDestroyed": None,
                },
                "2": {
                    "index": 1,
                    "campaignKey": "0x" + "cd" * 32,
                    "lastBlock": 41,
                    "status": "expired",
                    "pending": None,
                    "releases": [],
                    "finalizeSent": [],
                    "problems": {},
                    "keyDestroyed": {"reason": "campaign expired", "block": 41, "time": 1700},
                    "keyMissing": True,
                },
            },
            "unusedKeysDestroyed": ["0x" + "ef" * 32],
        }
    },
}


def _home(tmp_path: Path) -> Path:
    path = WatchState.file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(SAVED))
    return path


def test_saved_state_loads_typed_and_saves_unchanged(tmp_path: Path) -> None:
    path = _home(tmp_path)
    state = WatchState(path, 31337, REGISTRY)
    first = state.campaigns[1]
    assert first.pending == PendingRelease("0x" + "11" * 32, 2, 7)
    assert first.releases == [MinedRelease(1, "0x" + "22" * 32, 30)]
    assert first.public_key == bytes.fromhex("ab" * 32)
    assert state.campaigns[2].key_destroyed == KeyDestroyed("campaign expired", 41, 1700)
    assert state.campaigns[2].key_missing and not first.key_missing
    state.save()
    assert json.loads(path.read_text()) == SAVED


def test_new_campaign_record_saves_in_the_old_shape(tmp_path: Path) -> None:
    path = WatchState.file(tmp_path)
    state = WatchState(path, 31337, REGISTRY)
    record, created = state.campaign(5, 2, bytes(range(32)))
    again, created_again = state.campaign(5, 2, bytes(range(32)))
    assert created and not created_again and again is record
    record.pending = PendingRelease("0x" + "33" * 32, 1, 0)
    state.save()
    saved = json.loads(path.read_text())["registries"][f"31337:{REGISTRY.lower()}"]
    assert saved["campaigns"]["5"] == {
        "index": 2,
        "campaignKey": "0x" + bytes(range(32)).hex(),
        "lastBlock": None,
        "status": None,
        "pending": {"tx": "0x" + "33" * 32, "round": 1, "nonce": 0},
        "releases": [],
        "finalizeSent": [],
        "problems": {},
        "keyDestroyed": None,
    }
    assert CampaignRecord.from_json(saved["campaigns"]["5"]) == record


def test_custodian_status_reads_the_saved_records(tmp_path: Path) -> None:
    _home(tmp_path)
    watched = watched_campaigns(tmp_path)
    assert [c["campaign"] for c in watched] == [1, 2]
    assert watched[0]["pending"]["tx"] == "0x" + "11" * 32
    assert watched[1]["keyDestroyed"]["reason"] == "campaign expired"
