"""The web app's settings: environment variables with safe defaults.

Nothing here touches the network. ``create_app(config)`` merges an explicit mapping over
these (tests pass one); ``spartacus serve`` fills in what the command line says.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..chain.fees import FeeCaps
from ..chain.networks import LOCAL_CHAIN_IDS
from ..exceptions import UsageError

DEFAULTS: dict[str, Any] = {
    "RPC": "http://127.0.0.1:8545",
    "REGISTRY": None,  # address; default: the deployment recorded under HOME
    "GROUPS": None,  # the membership groups contract; default: the one recorded under HOME
    "HOME": None,  # the app's home folder (deployments.json, the moderation store)
    "RELAYER_KEY": None,  # the operator's hot wallet; None turns the relayer off
    "CUSTODIANS": "",  # "name=url,name=url" or "url,url": custodian daemons for creators
    "CUSTODIAN_DIRECTORY": None,  # JSON file of named custodians (spartacus.chain.directory)
    "ALLOW_PRIVATE_CUSTODIAN_URLS": False,  # let creators name loopback/private daemons
    "EXPLORER": None,  # block explorer base URL; default: the named network's (chain.networks)
    # The fee caps of every transaction the relayer sends (chain.fees.FeeCaps), from
    # SPARTACUS_MAX_FEE_GWEI and SPARTACUS_MAX_PRIORITY_FEE_GWEI; no cap by default.
    "FEE_CAPS": None,
    # e.g. https://spartacus.example: the base of share links and QR codes, never the Host
    # header. Required off a local chain; on one it defaults to the request's host.
    "PUBLIC_URL": None,
    "POLL_INTERVAL": 0.5,  # seconds between the poller's reads of the latest block
    # Seconds a node call may take (tried twice). A node that takes connections but never
    # answers then costs the poller that long, and relayed requests fail fast meanwhile.
    "RPC_TIMEOUT": 10.0,
    # Concurrent live-count streams; past it the pages poll instead. `spartacus serve` holds
    # them on an event loop (one open file each, no thread); a threaded WSGI server would
    # hold a thread each and needs far fewer.
    "MAX_VIEWERS": 12_000,
    "HEARTBEAT": 5.0,  # seconds between SSE comments: how soon a gone viewer's slot is freed
    "RELAY_PER_CAMPAIGN_PER_MINUTE": 30,
    "RELAY_PER_HOUR": 2000,  # all relayed transactions together
    # The last fifth of a campaign's threshold is relayed at 2 pledges an hour at most, so
    # free pledges from fresh accounts cannot force a reveal at once (0 turns this off).
    "RELAY_NEAR_FRACTION": 0.2,
    "RELAY_NEAR_PER_HOUR": 2,
    # The relayer's mixing window (web/mixer.py, docs/web.md "Mixing"): relayed pledges and
    # withdrawals wait a random half-window to a window, then go shuffled in one batch.
    # None: 120 s, or 2 s on a local chain (`make up`, the tests); 0 sends at once, batched.
    "RELAY_MIX_SECONDS": None,
    "RELAY_BATCH_MAX": 50,  # items per batch transaction (the registry takes up to 100)
    # Tests only, never from the environment: a seed makes the delays and order predictable.
    "RELAY_MIX_SEED": None,
    "RELAY_MIN_BALANCE_WEI": 10**15,  # below this the relayer says it is out of funds
    # Kept for withdrawals: pledges and new campaigns are refused once the balance is below
    # minimum + reserve, so a flood of relayed pledges cannot spend what members need to
    # leave with.
    "RELAY_WITHDRAW_RESERVE_WEI": 10**15,
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # /api/endorsements: keys asked of one custodian daemon for one visitor (known only by
    # a keyed hash of the connecting address, in memory, for the hour), and by everyone.
    "ENDORSE_PER_CLIENT_PER_MINUTE": 3,
    "ENDORSE_PER_CLIENT_PER_HOUR": 10,
    "ENDORSE_PER_HOUR": 600,
}

# Variables read from the environment: SPARTACUS_<name>.
_ENV = (
    "RPC",
    "REGISTRY",
    "GROUPS",
    "HOME",
    "RELAYER_KEY",
    "CUSTODIANS",
    "CUSTODIAN_DIRECTORY",
    "EXPLORER",
    "PUBLIC_URL",
    "MAX_VIEWERS",
    "RELAY_PER_CAMPAIGN_PER_MINUTE",
    "RELAY_PER_HOUR",
    "RELAY_NEAR_FRACTION",
    "RELAY_NEAR_PER_HOUR",
    "RELAY_MIX_SECONDS",
    "RELAY_BATCH_MAX",
    "RPC_TIMEOUT",
    "RELAY_MIN_BALANCE_WEI",
    "RELAY_WITHDRAW_RESERVE_WEI",
)


def from_environment(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """DEFAULTS overlaid with the SPARTACUS_* variables that are set."""
    env = os.environ if env is None else env
    config = dict(DEFAULTS)
    for name in _ENV:
        value = env.get(f"SPARTACUS_{name}")
        if value:
            kind = float if name == "RELAY_MIX_SECONDS" else type(DEFAULTS[name])
            if kind not in (int, float):
                config[name] = value
                continue
            try:
                config[name] = kind(value)
            except ValueError:
                raise UsageError(f"SPARTACUS_{name} must be a number, not {value!r}") from None
    config["FEE_CAPS"] = FeeCaps.from_gwei(
        env.get("SPARTACUS_MAX_FEE_GWEI"), env.get("SPARTACUS_MAX_PRIORITY_FEE_GWEI")
    )
    return config


@dataclass(frozen=True)
class CustodianEntry:
    """A custodian daemon the operator offers to creators."""

    index: int
    name: str
    url: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "url": self.url}


def mix_seconds(config: Mapping[str, Any], chain_id: int) -> float:
    """The relayer's mixing window in seconds: RELAY_MIX_SECONDS, else the default for the
    chain (a short one on a local chain, where nobody is watching)."""
    from .mixer import DEFAULT_WINDOW, LOCAL_WINDOW

    value = config.get("RELAY_MIX_SECONDS")
    if value is None or value == "":
        return LOCAL_WINDOW if chain_id in LOCAL_CHAIN_IDS else DEFAULT_WINDOW
    seconds = float(value)
    if not 0 <= seconds <= 1800:
        raise UsageError(
            f"SPARTACUS_RELAY_MIX_SECONDS must be 0 to 1800 (signatures are valid for an hour), "
            f"not {value!r}"
        )
    return seconds


def parse_custodians(text: str) -> list[CustodianEntry]:
    """``"Alice=https://a.example,https://b.example"`` into entries (name defaults to the host)."""
    entries = []
    for number, item in enumerate(part.strip() for part in text.split(",") if part.strip()):
        name, sep, url = item.partition("=")
        if not sep:
            name, url = "", item
        url = url.strip()
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"custodian {item!r} is not name=URL or an http(s) URL")
        host = url.split("://", 1)[1].split("/", 1)[0]
        entries.append(CustodianEntry(number, name.strip() or host, url.rstrip("/")))
    return entries


def public_url(config: Mapping[str, Any], chain_id: int) -> str | None:
    """The base of share links and QR codes: ``PUBLIC_URL`` without its trailing slash.

    Off a local chain it is required (a link built from the Host header is whatever the
    request claimed); on a local chain None means the request's own host.
    """
    value = config["PUBLIC_URL"]
    if not value:
        if chain_id in LOCAL_CHAIN_IDS:
            return None
        raise UsageError(
            f"chain {chain_id} is not a local chain: set SPARTACUS_PUBLIC_URL (or serve "
            "--public-url) to the address people reach this site at, e.g. "
            "https://spartacus.example; share links and QR codes are built from it"
        )
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise UsageError(f"SPARTACUS_PUBLIC_URL {value!r} is not an http(s) URL like "
                         "https://spartacus.example")  # fmt: skip
    return str(value).rstrip("/")
