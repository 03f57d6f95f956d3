"""Pledge receipts and the organiser's instructions secret, kept in the user's home folder.

A receipt holds the pledge secret as its receipt code (the code alone restores everything).
It is written *before* the pledge is sent, so a crash between sending and saving cannot
lose the only copy of a secret that is already on-chain, and deleted once the pledge is
withdrawn (or was refused for sure). Files are mode 0600.

Layout: ``<home>/receipts/<chain id>/<registry>/<campaign id>/<account>.json`` and
``<home>/organiser/<chain id>/<registry>/<campaign id or pending-key>.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import protocol as crypto
from ..exceptions import UsageError
from ..files import read_json, write_json


@dataclass(frozen=True)
class Receipt:
    campaign_id: int
    code: str
    account: str
    index: int | None
    state: str  # "sending", "active", "withdrawn"
    path: Path

    @property
    def keys(self) -> crypto.PledgeKeys:
        return crypto.derive_keys(crypto.decode_receipt(self.code)[1])


class ReceiptBook:
    """The receipts of one user (home folder) for one registry."""

    def __init__(self, home: Path, chain_id: int, registry: str) -> None:
        self.root = home / "receipts" / str(chain_id) / registry.lower()
        self.organiser_root = home / "organiser" / str(chain_id) / registry.lower()

    # ------------------------------------------------------------ pledges

    def save(
        self, campaign_id: int, code: str, account: str, index: int | None, state: str
    ) -> Receipt:
        path = self.root / str(campaign_id) / f"{account.lower()}.json"
        write_json(
            path,
            {
                "campaign": campaign_id,
                "receipt": code,
                "account": account,
                "index": index,
                "state": state,
            },
        )
        return Receipt(campaign_id, code, account, index, state, path)

    def forget(self, campaign_id: int, account: str) -> bool:
        """Delete a pledge's receipt (withdrawn, or refused so it never existed), and the
        folders it leaves empty: nothing on this machine then says it pledged there."""
        path = self.root / str(campaign_id) / f"{account.lower()}.json"
        if not path.exists():
            return False
        path.unlink()
        folder = path.parent
        home = self.root.parents[2]  # <home>/receipts/<chain>/<registry>
        while folder != home and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
        return True

    def for_campaign(self, campaign_id: int) -> list[Receipt]:
        folder = self.root / str(campaign_id)
        receipts = []
        for path in sorted(folder.glob("*.json")) if folder.exists() else []:
            data = read_json(path, "receipt")
            receipts.append(
                Receipt(
                    int(data["campaign"]),
                    data["receipt"],
                    data["account"],
                    data.get("index"),
                    data.get("state", "active"),
                    path,
                )
            )
        return receipts

    # ------------------------------------------------------------ organiser

    def save_organiser_pending(self, secret: bytes) -> Path:
        """Keep the instructions secret before the campaign exists (its id is not known yet)."""
        keys = crypto.derive_keys(secret)
        path = self.organiser_root / f"pending-{keys.member_key.hex()}.json"
        write_json(path, {"secret": "0x" + secret.hex(), "state": "sending"})
        return path

    def save_organiser(self, campaign_id: int, secret: bytes, pending: Path | None) -> str:
        code = crypto.encode_receipt(campaign_id, secret)
        write_json(
            self.organiser_root / f"{campaign_id}.json",
            {"campaign": campaign_id, "receipt": code, "state": "created"},
        )
        if pending is not None:
            pending.unlink(missing_ok=True)
        return code

    def organiser(self, campaign_id: int) -> str | None:
        path = self.organiser_root / f"{campaign_id}.json"
        return str(read_json(path, "organiser secret")["receipt"]) if path.exists() else None


def receipt_from_code(code: str, expected_campaign: int) -> tuple[int, crypto.PledgeKeys]:
    """Decode a pasted receipt code and check that it is for this campaign."""
    campaign_id, secret = crypto.decode_receipt(code)
    if campaign_id != expected_campaign:
        raise UsageError(
            f"this receipt code is for campaign {campaign_id}, not campaign {expected_campaign}"
        )
    return campaign_id, crypto.derive_keys(secret)
