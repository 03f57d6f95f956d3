"""The named networks Spartacus knows: ``--network NAME`` / ``SPARTACUS_NETWORK``.

One entry per network, and nowhere else: its chain id, the block tag a custodian acts on,
its block explorer, how its fees are charged, its ape network (ape-config.yaml lists the
same; tests/chain/test_networks.py checks that they agree) and its block time.

Fee models:

- ``eip1559``: Ethereum's base fee plus priority fee, gas x price.
- ``op-stack`` (Base, Optimism): the same for L2 execution, plus an L1 data fee for the
  transaction's bytes, quoted by the GasPriceOracle predeploy (``GAS_PRICE_ORACLE``,
  ``getL1Fee(bytes)``) and charged on top of the gas limit x price.
- ``arbitrum``: the L1 cost is folded into the gas limit (``eth_estimateGas`` includes it,
  in L2 gas units), so gas x price already covers it.

Registries deployed on a network are recorded in ``spartacus/deployments/<name>.json``
(``spartacus.chain.deployments``), so ``status 12 --network base --rpc URL`` needs no address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from web3 import Web3

from ..exceptions import ChainError, UsageError

FeeModel = Literal["eip1559", "op-stack", "arbitrum"]

# OP-stack predeploy that prices the L1 data of a transaction (Ecotone/Fjord: getL1Fee).
GAS_PRICE_ORACLE = "0x420000000000000000000000000000000000000F"


@dataclass(frozen=True)
class Network:
    name: str
    chain_id: int
    finality: Literal["finalized", "safe", "latest"]  # the tag a custodian acts on
    explorer: str | None  # base URL: address pages at <explorer>/address/<a>
    fee_model: FeeModel
    ape: str  # ape's ecosystem:network
    block_time: int  # seconds, nominal (0: a block per transaction)


NETWORKS: dict[str, Network] = {
    n.name: n
    for n in (
        Network("mainnet", 1, "finalized", "https://etherscan.io", "eip1559",
                "ethereum:mainnet", 12),
        Network("sepolia", 11155111, "finalized", "https://sepolia.etherscan.io", "eip1559",
                "ethereum:sepolia", 12),
        Network("base", 8453, "finalized", "https://basescan.org", "op-stack",
                "base:mainnet", 2),
        Network("base-sepolia", 84532, "finalized", "https://sepolia.basescan.org", "op-stack",
                "base:sepolia", 2),
        Network("optimism", 10, "finalized", "https://optimistic.etherscan.io", "op-stack",
                "optimism:mainnet", 2),
        Network("optimism-sepolia", 11155420, "finalized",
                "https://sepolia-optimism.etherscan.io", "op-stack", "optimism:sepolia", 2),
        Network("arbitrum", 42161, "finalized", "https://arbiscan.io", "arbitrum",
                "arbitrum:mainnet", 1),
        Network("arbitrum-sepolia", 421614, "finalized", "https://sepolia.arbiscan.io",
                "arbitrum", "arbitrum:sepolia", 1),
        Network("local", 31337, "latest", None, "eip1559", "ethereum:local", 0),
    )
}  # fmt: skip

# Local development chains (anvil, Hardhat, Ganache): their accounts and addresses are the
# developer's own, so the CLI, the daemon and the web app relax checks meant for real networks.
LOCAL_CHAIN_IDS = frozenset({31337, 1337})


def network_named(name: str) -> Network:
    """The network called ``name``; ``UsageError`` listing the known names otherwise."""
    try:
        return NETWORKS[name.strip().lower()]
    except KeyError:
        raise UsageError(
            f"unknown network {name!r}; known networks: {', '.join(NETWORKS)}"
        ) from None


def network_of(chain_id: int) -> Network | None:
    """The named network with ``chain_id``, if any (anvil's 31337 is ``local``)."""
    return next((n for n in NETWORKS.values() if n.chain_id == chain_id), None)


def check_chain(w3: Web3, network: Network, where: str = "the RPC endpoint") -> int:
    """The chain id ``w3`` serves, after checking it is ``network``'s (``ChainError`` if not:
    a node of another chain would sign, read and relay for the wrong registry)."""
    chain_id = int(w3.eth.chain_id)
    if chain_id != network.chain_id:
        other = network_of(chain_id)
        serves = f"{other.name} (chain {chain_id})" if other else f"chain {chain_id}"
        raise ChainError(
            f"{where} serves {serves}, but --network {network.name} is chain "
            f"{network.chain_id}; pass an RPC URL of {network.name}, or the right --network"
        )
    return chain_id


def explorer_for(chain_id: int) -> str | None:
    """The block explorer of the named network with ``chain_id``, if it has one."""
    network = network_of(chain_id)
    return network.explorer if network else None
