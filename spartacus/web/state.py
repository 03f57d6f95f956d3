"""What the web app shares across requests: the chain, the block index, the relayer, the
moderation store. Built lazily, on the first request, so the app can be made anywhere."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from flask import current_app
from web3 import HTTPProvider, Web3
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from ..chain.checkpoint import Checkpoints
from ..chain.deployments import find_groups, find_registry
from ..chain.directory import CustodianDirectory, load_directory
from ..chain.groups import Groups
from ..chain.networks import explorer_for
from ..chain.registry import Registry
from ..exceptions import GroupsNotFound, RequestRefused, UsageError
from ..files import resolve_home
from ..ratelimit import RateLimiter
from .config import CustodianEntry, mix_seconds, parse_custodians, public_url
from .group_relay import GroupRelay
from .index import CampaignIndex
from .live import LiveCounts
from .moderation import ModerationStore
from .relay import Relayer
from .relay_queue import RelayQueue


class WebState:
    """What the app shares across requests: chain, index, relayer, store. Built lazily."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.directory: CustodianDirectory = load_directory(config.get("CUSTODIAN_DIRECTORY"))
        # Offered to creators on /create: the directory's custodians that run a daemon, then
        # the daemons of SPARTACUS_CUSTODIANS (named by the operator, but with no account
        # known, so their campaigns show them as unknown custodians).
        listed = [(e.name, e.url) for e in self.directory.entries if e.url]
        plain = [(c.name, c.url) for c in parse_custodians(config["CUSTODIANS"] or "")]
        self.custodians: list[CustodianEntry] = [
            CustodianEntry(i, name, url) for i, (name, url) in enumerate(listed + plain)
        ]
        self.viewers = threading.BoundedSemaphore(int(config["MAX_VIEWERS"]))
        self._start_lock = threading.Lock()
        self._visitor_key = secrets.token_bytes(32)
        self._hidden: tuple[float, set[int]] = (0.0, set())
        self.group_members: dict[int, tuple[int, list[str]]] = {}  # group -> (root, members)

    @cached_property
    def home(self) -> Path:
        return resolve_home(self.config["HOME"])

    @cached_property
    def w3(self) -> Web3:
        given = self.config.get("WEB3")
        if isinstance(given, Web3):
            return given
        # ``retries`` counts attempts: 1 is a single try, so a hung node costs a visitor one
        # timeout, never two (tests/web/test_hung_node.py counts the calls).
        retry = ExceptionRetryConfiguration(
            errors=(requests.ConnectionError, requests.HTTPError, requests.Timeout), retries=1
        )
        provider = HTTPProvider(
            self.config["RPC"],
            request_kwargs={"timeout": float(self.config["RPC_TIMEOUT"])},
            exception_retry_configuration=retry,
        )
        return Web3(provider)

    @cached_property
    def registry(self) -> Registry:
        registry = find_registry(self.w3, self.home, self.config["REGISTRY"])
        if self.config.get("FEE_CAPS") is not None:
            registry.caps = self.config["FEE_CAPS"]
        return registry

    @cached_property
    def _groups(self) -> Groups | str:
        try:
            if self.config["GROUPS"]:
                return find_groups(self.w3, self.home, self.config["GROUPS"])
            # The contract the registry's gated campaigns name their groups in.
            return self.registry.groups
        except (GroupsNotFound, UsageError) as exc:
            return str(exc)

    @property
    def groups(self) -> Groups:
        """The membership groups contract: SPARTACUS_GROUPS, else the registry's own (the one
        its gated campaigns use); 404 on every group page when there is none."""
        found = self._groups
        if isinstance(found, str):
            # The reason names the operator's folders: it is for `spartacus serve`, not visitors.
            raise RequestRefused("this site has no membership groups contract", 404)
        return found

    @cached_property
    def group_relay(self) -> GroupRelay | None:
        """Relayed invitation redemptions, by the relayer's wallet (None without a relayer)."""
        relayer = self.relayer
        return GroupRelay(self.groups, relayer) if relayer is not None else None

    @cached_property
    def index(self) -> CampaignIndex:
        return CampaignIndex(
            self.registry,
            poll_interval=float(self.config["POLL_INTERVAL"]),
            directory=self.directory,
            operator=self.operator_account,
            checkpoints=Checkpoints(self.registry, self.home / "web" / "checkpoints.json"),
        )

    @cached_property
    def live(self) -> LiveCounts:
        """The live-count streams: one update per campaign and block for every viewer."""
        return LiveCounts(self, int(self.config["MAX_VIEWERS"]))

    @cached_property
    def operator_account(self) -> str | None:
        """The site operator's own account (the relayer's), shown when it is a custodian."""
        key = self.config["RELAYER_KEY"]
        if not key:
            return None
        return str(key.address if isinstance(key, LocalAccount) else Account.from_key(key).address)

    @cached_property
    def store(self) -> ModerationStore:
        return ModerationStore(self.home / "web")

    @cached_property
    def relayer(self) -> Relayer | None:
        key = self.config["RELAYER_KEY"]
        if not key:
            return None
        account: LocalAccount = key if isinstance(key, LocalAccount) else Account.from_key(key)
        return Relayer(
            self.registry,
            self.index,
            account,
            per_campaign_per_minute=int(self.config["RELAY_PER_CAMPAIGN_PER_MINUTE"]),
            per_hour=int(self.config["RELAY_PER_HOUR"]),
            min_balance=int(self.config["RELAY_MIN_BALANCE_WEI"]),
            withdraw_reserve=int(self.config["RELAY_WITHDRAW_RESERVE_WEI"]),
            near_fraction=float(self.config["RELAY_NEAR_FRACTION"]),
            near_per_hour=int(self.config["RELAY_NEAR_PER_HOUR"]),
            is_hidden=self.is_hidden,
            queue=RelayQueue(self.home / "web"),
            mix_seconds=mix_seconds(self.config, self.registry.chain_id),
            batch_max=int(self.config["RELAY_BATCH_MAX"]),
            mix_seed=self.config.get("RELAY_MIX_SEED"),
        )

    @cached_property
    def endorsements(self) -> RateLimiter:
        """Keys asked of custodian daemons for creators: per visitor and daemon, and in all
        (see ``visitor``)."""
        return RateLimiter(
            int(self.config["ENDORSE_PER_CLIENT_PER_MINUTE"]),
            int(self.config["ENDORSE_PER_HOUR"]),
            per_client_hour=int(self.config["ENDORSE_PER_CLIENT_PER_HOUR"]),
        )

    def visitor(self, address: str | None) -> str:
        """A visitor's connecting address as a rate limit's key: a keyed hash under a key
        made at start and never written, kept in memory only while its window lasts. The
        address itself is never logged, stored or compared with anything else."""
        return hmac.new(self._visitor_key, (address or "").encode(), "sha256").hexdigest()

    @property
    def public_url(self) -> str | None:
        """The base of share links and QR codes (``config.public_url``): None on a local
        chain without PUBLIC_URL (then the request's host); off one, PUBLIC_URL or a
        UsageError saying to set it."""
        return public_url(self.config, self.registry.chain_id)

    @cached_property
    def explorer(self) -> str | None:
        base = self.config["EXPLORER"] or explorer_for(self.registry.chain_id)
        return f"{base.rstrip('/')}/address/{self.registry.address}" if base else None

    def start(self) -> None:
        """Connect, catch up with the registry's logs and start the poller (once)."""
        with self._start_lock:
            self.index.start()
            # The chain id never changes: read it now, so that pages, /api/config and
            # /api/health do not need the node (they failed with 503 when the node went
            # away before anything had asked for it).
            try:
                _ = self.registry.chain_id
            except Exception:  # noqa: BLE001 - node down at start: the first use reads it
                return
            # The mixer starts with the app, so that what a previous run left queued is sent
            # without waiting for a new request.
            if self.relayer is not None and not self.relayer.closed:
                self.relayer.start()

    def stop(self) -> None:
        """Stop polling and relaying (a stopping server must not start new transactions)."""
        if "relayer" in self.__dict__ and self.relayer is not None:
            self.relayer.closed = True
        if "index" in self.__dict__:
            self.index.stop()

    def hidden_ids(self) -> set[int]:
        """Hidden campaigns, re-read from the store at most every two seconds."""
        at, ids = self._hidden
        if time.monotonic() - at > 2.0:
            ids = self.store.hidden_ids()
            self._hidden = (time.monotonic(), ids)
        return ids

    def is_hidden(self, campaign_id: int) -> bool:
        return campaign_id in self.hidden_ids()

    def site(self) -> dict[str, Any]:
        return {
            "name": "Spartacus",
            "chainId": self.registry.chain_id,
            "registry": self.registry.address,
            "explorer": self.explorer,
        }


def state() -> WebState:
    """The app's shared state (inside a request or app context)."""
    shared: WebState = current_app.extensions["spartacus"]
    return shared
