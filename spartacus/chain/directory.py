"""The custodian directory: the custodians a site operator (or a CLI user) knows by name.

A JSON file (docs/custodian.md, "The custodian directory") read by `spartacus serve` and by
every `spartacus` command (``--custodian-directory FILE`` or
``SPARTACUS_CUSTODIAN_DIRECTORY``)::

    {"custodians": [
      {"name": "Legal Aid Collective", "account": "0x...", "url": "https://keys.legalaid.example",
       "contact": "keys@legalaid.example", "operator": false}
    ]}

``account`` is the custodian's long-lived Ethereum account, the one that signs its
endorsements: a campaign key is shown under the entry's name only when that account signed
it. It is the custodian's key fingerprint too (an address is the last 20 bytes of the hash
of the account's public key); campaign keys are fresh for every campaign, so there is no
other stable key to fingerprint. ``url`` (the daemon, offered to creators), ``contact`` and
``operator`` (run by the site's own operator) are optional.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from ..exceptions import DirectoryError
from ..protocol import is_valid_address

MAX_ENTRIES = 200
MAX_NAME = 80
MAX_CONTACT = 200
_FIELDS = {"name", "account", "url", "contact", "operator"}


@dataclass(frozen=True)
class DirectoryEntry:
    """A named custodian: its account (checksummed) and how to reach it."""

    name: str
    account: str
    url: str | None = None
    contact: str | None = None
    operator: bool = False  # run by the site's own operator

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "account": self.account,
            "url": self.url,
            "contact": self.contact,
            "operator": self.operator,
        }


@dataclass(frozen=True)
class CustodianDirectory:
    """Directory entries by account; empty when no directory is configured."""

    entries: tuple[DirectoryEntry, ...] = ()

    def find(self, account: str) -> DirectoryEntry | None:
        wanted = account.lower()
        for entry in self.entries:
            if entry.account.lower() == wanted:
                return entry
        return None

    def as_json(self) -> list[dict[str, Any]]:
        return [entry.as_json() for entry in self.entries]


def load_directory(path: str | Path | None) -> CustodianDirectory:
    """The directory in the JSON file at ``path`` (none configured: an empty directory)."""
    if not path:
        return CustodianDirectory()
    where = f"the custodian directory {path}"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DirectoryError(f"{where} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DirectoryError(f"{where} cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise DirectoryError(f"{where} is not valid JSON: {exc}") from None
    return parse_directory(data, where)


def parse_directory(data: Any, where: str = "the custodian directory") -> CustodianDirectory:
    """Check a directory's JSON; every problem names the entry and the field."""
    if not isinstance(data, dict) or not isinstance(data.get("custodians"), list):
        raise DirectoryError(f'{where} must be a JSON object with a "custodians" list')
    extra = set(data) - {"custodians"}
    if extra:
        raise DirectoryError(f"{where} has unknown fields: {', '.join(sorted(extra))}")
    items = data["custodians"]
    if len(items) > MAX_ENTRIES:
        raise DirectoryError(f"{where} has {len(items)} entries; at most {MAX_ENTRIES}")
    entries: list[DirectoryEntry] = []
    for number, item in enumerate(items, start=1):
        entry = _entry(item, f"{where}, entry {number}")
        for other in entries:
            if other.account == entry.account:
                raise DirectoryError(
                    f"{where} lists account {entry.account} twice ({other.name!r} and "
                    f"{entry.name!r}): one account, one custodian"
                )
            if other.name.casefold() == entry.name.casefold():
                raise DirectoryError(f"{where} has two custodians named {entry.name!r}")
        entries.append(entry)
    return CustodianDirectory(tuple(entries))


def _entry(item: Any, where: str) -> DirectoryEntry:
    if not isinstance(item, dict):
        raise DirectoryError(f"{where} must be a JSON object")
    extra = set(item) - _FIELDS
    if extra:
        raise DirectoryError(
            f"{where} has unknown fields: {', '.join(sorted(extra))} "
            f"(known: {', '.join(sorted(_FIELDS))})"
        )
    name = _text(item.get("name"), f"{where}: name", MAX_NAME, required=True)
    account = item.get("account")
    if not isinstance(account, str) or not is_valid_address(account):
        raise DirectoryError(
            f"{where} ({name}): account must be the custodian's 0x Ethereum address "
            f"(with a correct checksum if mixed-case), not {account!r}"
        )
    url = _text(item.get("url"), f"{where} ({name}): url", 300)
    if url is not None and not url.startswith(("http://", "https://")):
        raise DirectoryError(f"{where} ({name}): url must be an http(s) URL, not {url!r}")
    operator = item.get("operator", False)
    if not isinstance(operator, bool):
        raise DirectoryError(f"{where} ({name}): operator must be true or false")
    return DirectoryEntry(
        name=name or "",
        account=to_checksum_address(account),
        url=url.rstrip("/") if url else None,
        contact=_text(item.get("contact"), f"{where} ({name}): contact", MAX_CONTACT),
        operator=operator,
    )


def _text(value: Any, where: str, limit: int, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise DirectoryError(f"{where} must be a non-empty string")
    value = value.strip()
    if len(value) > limit:
        raise DirectoryError(f"{where} is longer than {limit} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise DirectoryError(f"{where} holds control characters")
    return value


# ---------------------------------------------------------------------- labels

UNKNOWN = "unknown custodian: anyone could run it"


def custodian_label(
    account: str,
    directory: CustodianDirectory,
    *,
    operator_account: str | None = None,
    listed: str = "listed by this site",
) -> dict[str, Any]:
    """How a campaign's custodian is shown: its directory name, or that it is unknown, and
    whether the site's own operator runs it (its relayer account, or an entry flagged so).

    ``account`` must be the account that signed the custodian's key (checked with
    ``spartacus.chain.key_check``) for the name to mean anything.
    """
    entry = directory.find(account)
    operator = bool(entry and entry.operator) or (
        operator_account is not None and operator_account.lower() == account.lower()
    )
    text = f"{entry.name} ({listed})" if entry else UNKNOWN
    if operator:
        text += "; run by this site's operator"
    return {
        "name": entry.name if entry else None,
        "listed": entry is not None,
        "operator": operator,
        "contact": entry.contact if entry else None,
        "label": text,
    }
