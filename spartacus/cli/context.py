"""Settings shared by every command: chain, registry, home folder, accounts, passphrase.

Each setting comes from a command-line option or the environment, with a safe default.
Nothing touches the network until a command asks for it.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3

from ..chain.deployments import (
    LOCAL_CHAIN_IDS,
    find_groups,
    find_registry,
    record_deployment,
    record_groups,
)
from ..chain.directory import CustodianDirectory, load_directory
from ..chain.fees import FeeCaps
from ..chain.groups import Groups
from ..chain.networks import Network, check_chain
from ..chain.registry import Registry
from ..custodian.keystore import Keystore, load_passphrase
from ..exceptions import ChainError, GroupsNotFound, RegistryNotFound, UsageError
from ..files import resolve_home

DEFAULT_RPC = "http://127.0.0.1:8545"
# anvil's well-known development mnemonic: its accounts are funded on a local chain only.
DEV_MNEMONIC = "test test test test test test test test test test test junk"


@dataclass
class Context:
    """What a command needs, built lazily from options and environment."""

    rpc: str = DEFAULT_RPC
    rpcs: list[str] = field(default_factory=lambda: [DEFAULT_RPC])  # SPARTACUS_RPC=a,b,...
    rpc_given: bool = False  # --rpc or SPARTACUS_RPC, not the default
    registry_address: str | None = None
    groups_address: str | None = None  # --groups / SPARTACUS_GROUPS
    home_option: str | None = None
    dev_account: int | None = None
    passphrase_file: str | None = None
    directory_path: str | None = None  # --custodian-directory / SPARTACUS_CUSTODIAN_DIRECTORY
    as_json: bool = False
    network: Network | None = None  # --network / SPARTACUS_NETWORK
    caps: FeeCaps = field(default_factory=FeeCaps)  # --max-fee-gwei, --max-priority-fee-gwei
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @cached_property
    def home(self) -> Path:
        return resolve_home(self.home_option)

    @cached_property
    def w3(self) -> Web3:
        if self.network and self.network.name != "local" and not self.rpc_given:
            raise UsageError(
                f"--network {self.network.name} needs the URL of one of its nodes: pass "
                "--rpc URL (or SPARTACUS_RPC)"
            )
        w3 = Web3(HTTPProvider(self.rpc, request_kwargs={"timeout": 30}))
        try:
            w3.eth.chain_id  # noqa: B018 - fail early and clearly if the node is not there
        except Exception as exc:
            raise ChainError(
                f"cannot reach the chain at {self.rpc} ({type(exc).__name__}); "
                "start one with `spartacus node` or pass --rpc / SPARTACUS_RPC"
            ) from None
        if self.network:
            check_chain(w3, self.network, f"the RPC endpoint {_host(self.rpc)}")
        return w3

    @cached_property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    # ------------------------------------------------------------ registry

    def record_deployment(self, registry: Registry) -> None:
        record_deployment(self.home, registry.chain_id, registry.address, registry.from_block)

    @property
    def deployments(self) -> Path | None:
        """SPARTACUS_DEPLOYMENTS: a folder of deployment records replacing the repository's."""
        folder = self.env.get("SPARTACUS_DEPLOYMENTS")
        return Path(folder).expanduser() if folder else None

    @cached_property
    def registry(self) -> Registry:
        registry = find_registry(
            self.w3, self.home, self.registry_address, deployments=self.deployments
        )
        registry.caps = self.caps
        return registry

    @cached_property
    def groups(self) -> Groups:
        """--groups, else the groups contract recorded for this chain, else the one the
        registry's gated campaigns name (``Registry.groups``)."""
        try:
            return find_groups(self.w3, self.home, self.groups_address)
        except GroupsNotFound:
            if self.groups_address is not None:
                raise
            try:
                return self.registry.groups
            except RegistryNotFound:
                raise GroupsNotFound(
                    f"no groups contract is recorded for chain {self.chain_id}; pass --groups "
                    "/ SPARTACUS_GROUPS or run `spartacus group deploy`"
                ) from None

    def record_groups(self, groups: Groups) -> None:
        record_groups(self.home, groups.chain_id, groups.address, groups.from_block)

    @cached_property
    def directory(self) -> CustodianDirectory:
        """The custodians this user knows by name (empty without a directory file)."""
        return load_directory(self.directory_path)

    # ------------------------------------------------------------ accounts

    @cached_property
    def sender(self) -> LocalAccount:
        """The account that pays for transactions."""
        if self.dev_account is not None:
            if self.chain_id not in LOCAL_CHAIN_IDS:
                raise UsageError(
                    f"--dev-account only works on a local chain; chain {self.chain_id} is not one. "
                    "Set SPARTACUS_PRIVATE_KEY instead"
                )
            return dev_account(self.dev_account)
        key = self.env.get("SPARTACUS_PRIVATE_KEY")
        if not key:
            raise UsageError(
                "no sending account: set SPARTACUS_PRIVATE_KEY, or use --dev-account N on a "
                "local chain"
            )
        try:
            return Account.from_key(key)
        except (ValueError, TypeError) as exc:
            raise UsageError("SPARTACUS_PRIVATE_KEY is not a valid private key") from exc

    def keystore(self, new: bool = False) -> Keystore:
        """The custodian's keystore; ``new``: about to be created (a prompt asks twice)."""
        passphrase = load_passphrase(
            self.passphrase_file, self.env.get("SPARTACUS_PASSPHRASE"), sys.stdin.isatty(), new
        )
        return Keystore(self.home, passphrase)

    # ------------------------------------------------------------ time

    def chain_now(self) -> int:
        """The latest block's time: deadlines follow the chain's clock, not this machine's."""
        return int(self.w3.eth.get_block("latest")["timestamp"])


def _host(url: str) -> str:
    """A node's host for messages: a hosted node's path (and any login) holds its API key."""
    return urlsplit(url).netloc.rpartition("@")[2] or url.split("/")[0]


def dev_account(index: int) -> LocalAccount:
    """anvil's ``index``-th development account."""
    if not 0 <= index < 1000:
        raise UsageError("--dev-account takes a number from 0 to 999")
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str, option: str = "duration") -> int:
    """``"90s"``, ``"30m"``, ``"12h"``, ``"7d"`` or ``"2w"``; a bare number only for ``0``.

    A unit is required: ``--grace 24`` once meant 24 seconds here and 24 hours on the web.
    """
    if text.strip().isdigit():
        if int(text) == 0:
            return 0
        raise UsageError(
            f"{option} {text.strip()} has no unit: write {text.strip()}h for hours, or "
            f"{text.strip()}d, {text.strip()}m, {text.strip()}s (only 0 needs none)"
        )
    match = _DURATION.match(text)
    if not match:
        raise UsageError(f"{option} {text!r} is not a duration; use e.g. 90s, 30m, 12h, 7d or 2w")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_deadline(text: str, now: int) -> int:
    """A deadline as a duration from ``now`` (``7d``) or an ISO date or date-time (UTC)."""
    if _DURATION.match(text) or text.strip().isdigit():
        return now + parse_duration(text, "--deadline")
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{text!r} is not a deadline; use a duration such as 7d, or an ISO date such as "
            "2026-12-31 or 2026-12-31T18:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
