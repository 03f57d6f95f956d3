"""Helpers for the ape scripts in scripts/ (ape is a development dependency)."""

from __future__ import annotations

from typing import Any

from .chain.artifact import load_artifact


def registry_container() -> Any:
    """An ape ContractContainer for the registry, from the artifact shipped in the package."""
    from ape.contracts import ContractContainer
    from ethpm_types import ContractType

    artifact = load_artifact()
    contract_type = ContractType.model_validate(
        {
            "contractName": artifact["contractName"],
            "sourceId": artifact["sourceName"],
            "abi": artifact["abi"],
            "deploymentBytecode": {"bytecode": artifact["bytecode"]},
            "runtimeBytecode": {"bytecode": artifact["deployedBytecode"]},
        }
    )
    return ContractContainer(contract_type)
