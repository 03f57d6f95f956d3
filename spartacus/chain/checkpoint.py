"""Checkpoints: the logs of each campaign read up to a block, kept on disk, so that a restart
walks only the events newer than that block (spartacus.chain.walk, ``after``).

A checkpoint is written only for a block at or below the one its holder trusts not to be
reorganised: the custodian daemon's confirmed block (``finalized``/``safe``, agreed by its
quorum), the web app's ``safe`` block. It names that block's hash, and it is used again only
while the chain still holds that hash there (one ``eth_getBlockByNumber``): a reorg below
it, or a development chain started afresh, discards it. The daemon (its state folder) and the
web app (its home folder) each keep one file; both use this one class.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hexbytes import HexBytes
from web3.exceptions import BlockNotFound

from .events import apply_log
from .records import History
from .registry import Registry

log = logging.getLogger("spartacus.chain")

FORMAT = "spartacus/checkpoints/v1"


@dataclass
class Held:
    """One campaign's logs (``plain_log`` shape) up to ``block``, whose hash is ``hash``."""

    block: int
    hash: str
    logs: list[dict[str, Any]] = field(default_factory=list)


class Checkpoints:
    """The checkpoints of one registry's campaigns, in a JSON file (or in memory only)."""

    def __init__(self, registry: Registry, path: Path | None = None) -> None:
        self.registry = registry
        self.path = path
        self.held: dict[int, Held] = {}
        self._verified: dict[int, bool] = {}  # block -> the chain still holds its hash
        if path is not None and path.exists():
            self._load(path)

    def new_pass(self) -> None:
        """Check every checkpoint's block against the chain again before it is next used. A
        long-running daemon calls this each pass: under a ``safe`` or ``latest`` tag a reorg
        can replace a checkpoint's block while it runs, and what it held (a release, say)
        must then be read again rather than believed."""
        self._verified.clear()

    # ------------------------------------------------------------ reading

    def trusted(self, campaign_id: int) -> Held | None:
        """The campaign's checkpoint if the chain still holds its block as read."""
        held = self.held.get(campaign_id)
        if held is None:
            return None
        ok = self._verified.get(held.block)
        if ok is None:
            try:
                block = self.registry.w3.eth.get_block(held.block)
                ok = HexBytes(block["hash"]).to_0x_hex() == held.hash
            except BlockNotFound:  # the chain is not that high (any more)
                ok = False
            self._verified[held.block] = ok
            if not ok:
                log.warning(
                    "checkpoint of block %s no longer matches the chain: reading again",
                    held.block,
                )
        if not ok:
            self.held.pop(campaign_id, None)  # the quorum's sources ask in parallel threads
            return None
        return held

    def read(
        self, campaign_id: int, to_block: int | None, registry: Registry | None = None
    ) -> list[dict[str, Any]]:
        """The campaign's raw logs up to ``to_block`` (None: the latest block): its checkpoint,
        then the events after it read from ``registry`` (default: this one), walked back only
        that far."""
        held = self.trusted(campaign_id)
        if held is not None and to_block is not None and held.block > to_block:
            held = None  # asked about an earlier block than the one held: read it all
        after = held.block if held is not None else -1
        source = registry or self.registry
        logs = list(held.logs) if held is not None else []
        logs += [
            item.log for item in source.campaign_logs(campaign_id, to_block=to_block, after=after)
        ]
        return logs

    def history(
        self, campaign_id: int, to_block: int | None = None, registry: Registry | None = None
    ) -> History:
        """The campaign's ``History`` up to ``to_block`` (None: the latest), as ``read``."""
        source = registry or self.registry
        return history_of(source, campaign_id, self.read(campaign_id, to_block, source))

    def keep(self, campaign_id: int, block: int, block_hash: str, logs: list[Any]) -> None:
        """Move the campaign's checkpoint to ``block`` (which the caller trusts not to be
        reorganised: finalized, safe, or agreed at that tag), keeping ``logs`` up to it."""
        kept = [raw for raw in logs if int(raw["blockNumber"]) <= block]
        self.put(campaign_id, Held(block, block_hash, kept))

    # ------------------------------------------------------------ writing

    def put(self, campaign_id: int, held: Held) -> None:
        self.held[campaign_id] = held
        self._verified[held.block] = True

    def save(self) -> None:
        """Write the file atomically (a crash leaves the old one or the new one)."""
        if self.path is None:
            return
        data = {
            "format": FORMAT,
            "chainId": self.registry.chain_id,
            "registry": self.registry.address,
            "campaigns": {
                str(cid): {
                    "block": h.block,
                    "hash": h.hash,
                    "logs": [_encode(raw) for raw in h.logs],
                }
                for cid, h in sorted(self.held.items())
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".checkpoints.")
        with os.fdopen(fd, "w") as out:
            json.dump(data, out)
        os.replace(tmp, self.path)

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text())
            if (
                data.get("format") != FORMAT
                or int(data["chainId"]) != self.registry.chain_id
                or str(data["registry"]).lower() != self.registry.address.lower()
            ):
                log.warning("checkpoints in %s are for another registry: ignored", path)
                return
            for cid, entry in data["campaigns"].items():
                logs = [_decode(raw) for raw in entry["logs"]]
                self.held[int(cid)] = Held(int(entry["block"]), str(entry["hash"]), logs)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("checkpoints in %s unreadable (%s): ignored", path, exc)
            self.held.clear()


def history_of(registry: Registry, campaign_id: int, logs: list[dict[str, Any]]) -> History:
    """A campaign's ``History`` from its raw logs in order."""
    history = History(campaign_id)
    for raw in logs:
        decoder = registry._decoders.get(raw["topics"][0])
        if decoder is not None:
            apply_log(history, decoder.name, decoder.decode(raw), raw)
    return history


def _encode(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "topics": ["0x" + bytes(t).hex() for t in raw["topics"]],
        "data": "0x" + bytes(raw["data"]).hex(),
        "blockNumber": int(raw["blockNumber"]),
        "transactionHash": "0x" + bytes(raw["transactionHash"]).hex(),
        "logIndex": int(raw["logIndex"]),
    }


def _decode(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "topics": [bytes.fromhex(t[2:]) for t in raw["topics"]],
        "data": bytes.fromhex(raw["data"][2:]),
        "blockNumber": int(raw["blockNumber"]),
        "transactionHash": bytes.fromhex(raw["transactionHash"][2:]),
        "logIndex": int(raw["logIndex"]),
    }
