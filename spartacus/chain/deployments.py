"""Where the registry and the membership groups contract are: an address given by the user,
or the deployment recorded per chain by ``spartacus deploy`` and ``spartacus group deploy``:
under the command's home folder, else under the default home (~/.spartacus), where a plain
``spartacus deploy`` records it. So a custodian or a pledger with its own ``--home`` finds
the registry deployed on this machine without exporting SPARTACUS_REGISTRY.

Last comes the registry this repository records for a named network
(``spartacus/deployments/<network>.json``, shipped in the package): a record is
``{"registry": "0x...", "block": <deployment block>}``. Whoever deploys the project's
registry on a public network commits it, so that everyone reaching that network
(``--network base``, or an RPC of chain 8453) finds the same registry without typing its
address. ``SPARTACUS_DEPLOYMENTS`` names another folder of such records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from web3 import Web3

from ..exceptions import GroupsNotFound, RegistryNotFound, UsageError
from ..files import DEFAULT_HOME, read_json, write_json
from ..protocol import is_valid_address
from .groups import Groups
from .networks import LOCAL_CHAIN_IDS, Network, network_of
from .registry import Registry

# The repository's records, one file per named network (none yet: no registry is deployed
# on a public network).
PUBLISHED = Path(__file__).resolve().parents[1] / "deployments"

__all__ = [
    "LOCAL_CHAIN_IDS",
    "find_registry",
    "record_deployment",
    "recorded_deployment",
    "publish_deployment",
    "published_deployment",
    "find_groups",
    "record_groups",
]


def find_registry(
    w3: Web3, home: Path, address: str | None, *, deployments: Path | None = None
) -> Registry:
    """The registry at ``address``; else the one recorded under ``home`` (or the default
    home) for this chain; else the one this repository records for the chain's named
    network (or ``deployments``, a folder of such records).

    The recorded deployment block is used when the addresses agree, so log reads start there.
    """
    chain_id = int(w3.eth.chain_id)
    from_block = 0
    recorded = recorded_deployment(home, chain_id)
    default = DEFAULT_HOME.expanduser()
    if recorded is None and home.resolve() != default.resolve():
        recorded = recorded_deployment(default, chain_id)
    network = network_of(chain_id)
    if recorded is None and network is not None:
        recorded = published_deployment(network, deployments)
    if recorded and (address is None or address.lower() == recorded[0].lower()):
        address, from_block = recorded
    if address is None:
        where = (
            f", {default} or in {network.name}'s deployment record" if network else f" or {default}"
        )
        raise RegistryNotFound(
            f"no registry is recorded for chain {chain_id} under {home}{where}; "
            "pass --registry / SPARTACUS_REGISTRY or run `spartacus deploy`"
        )
    if not is_valid_address(address):
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


def publish_deployment(
    network: Network, address: str, block: int, folder: Path | None = None
) -> Path:
    """Write ``network``'s repository record (``folder``: another folder of records); returns
    its path, for the deployer to commit."""
    path = (folder if folder is not None else PUBLISHED) / f"{network.name}.json"
    path.write_text(json.dumps({"registry": address, "block": block}, indent=1) + "\n")
    return path


def published_deployment(network: Network, folder: Path | None = None) -> tuple[str, int] | None:
    """The registry address and block recorded in the repository for ``network``, if any
    (``folder``: another folder of ``<network>.json`` records)."""
    folder = folder if folder is not None else PUBLISHED
    path = folder / f"{network.name}.json"
    if not path.is_file():
        return None
    entry = read_json(path, f"the {network.name} deployment record")
    return (str(entry["registry"]), int(entry.get("block", 0)))


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
    if not is_valid_address(address):
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
