"""Where the registry and the membership groups contract are: an address given by the user,
or the deployment recorded per chain by ``spartacus deploy`` and ``spartacus group deploy``:
under the command's home folder, else under the default home (~/.spartacus), where a plain
``spartacus deploy`` records it. So a custodian or a pledger with its own ``--home`` finds
the registry deployed on this machine without exporting SPARTACUS_REGISTRY."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from web3 import Web3

from ..exceptions import GroupsNotFound, RegistryNotFound, UsageError
from ..files import DEFAULT_HOME, read_json, write_json
from .groups import Groups
from .registry import Registry

# Local development chains (anvil, Hardhat, Ganache): their accounts and addresses are the
# developer's own, so the CLI, the daemon and the web app relax checks meant for real networks.
LOCAL_CHAIN_IDS = frozenset({31337, 1337})


def find_registry(w3: Web3, home: Path, address: str | None) -> Registry:
    """The registry at ``address``, or the one recorded under ``home`` for this chain.

    The recorded deployment block is used when the addresses agree, so log reads start there.
    """
    chain_id = int(w3.eth.chain_id)
    from_block = 0
    recorded = recorded_deployment(home, chain_id)
    default = DEFAULT_HOME.expanduser()
    if recorded is None and home.resolve() != default.resolve():
        recorded = recorded_deployment(default, chain_id)
    if recorded and (address is None or address.lower() == recorded[0].lower()):
        address, from_block = recorded
    if address is None:
        raise RegistryNotFound(
            f"no registry is recorded for chain {chain_id} under {home} or {default}; "
            "pass --registry / SPARTACUS_REGISTRY or run `spartacus deploy`"
        )
    if not Web3.is_address(address):
        raise UsageError(f"--registry {address!r} is not an address")
    registry = Registry(w3, address, from_block=from_block)
    if not registry.has_code():
        raise RegistryNotFound(
            f"no contract at {registry.address} on chain {chain_id}; "
            "is this the right --rpc and --registry?"
        )
    return registry


def record_deployment(home: Path, chain_id: int, address: str, block: int) -> None:
    """Remember the registry deployed on ``chain_id``, so later commands need no --registry."""
    path = home / "deployments.json"
    records = read_json(path, "deployments") if path.exists() else {}
    records[str(chain_id)] = {**records.get(str(chain_id), {}), "registry": address, "block": block}
    write_json(path, records)


def recorded_deployment(home: Path, chain_id: int) -> tuple[str, int] | None:
    """The registry address and deployment block recorded for ``chain_id``, if any."""
    path = home / "deployments.json"
    entry = read_json(path, "deployments").get(str(chain_id)) if path.exists() else None
    if not entry or "registry" not in entry:  # none, or only a groups contract recorded
        return None
    return str(entry["registry"]), int(entry.get("block", 0))


def find_groups(w3: Web3, home: Path, address: str | None) -> Groups:
    """The membership groups contract at ``address``, or the one recorded for this chain."""
    chain_id = int(w3.eth.chain_id)
    entry = _entry(home, chain_id)
    default = DEFAULT_HOME.expanduser()
    if "groups" not in entry and home.resolve() != default.resolve():
        entry = _entry(default, chain_id)  # as for the registry: where a plain deploy records
    recorded = entry.get("groups")
    from_block = 0
    if recorded and (address is None or address.lower() == str(recorded).lower()):
        address, from_block = str(recorded), int(entry.get("groupsBlock", 0))
    if address is None:
        raise GroupsNotFound(
            f"no groups contract is recorded for chain {chain_id} under {home} or {default}; "
            "pass --groups / SPARTACUS_GROUPS or run `spartacus group deploy`"
        )
    if not Web3.is_address(address):
        raise UsageError(f"--groups {address!r} is not an address")
    groups = Groups(w3, address, from_block=from_block)
    if not groups.has_code():
        raise GroupsNotFound(
            f"no contract at {groups.address} on chain {chain_id}; "
            "is this the right --rpc and --groups?"
        )
    return groups


def _entry(home: Path, chain_id: int) -> dict[str, Any]:
    path = home / "deployments.json"
    return dict(read_json(path, "deployments").get(str(chain_id), {})) if path.exists() else {}


def record_groups(home: Path, chain_id: int, address: str, block: int) -> None:
    """Remember the groups contract deployed on ``chain_id``."""
    path = home / "deployments.json"
    records = read_json(path, "deployments") if path.exists() else {}
    records[str(chain_id)] = {
        **records.get(str(chain_id), {}),
        "groups": address,
        "groupsBlock": block,
    }
    write_json(path, records)
