"""The compiled registry shipped in the package, and the ABI signatures read from it."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def load_artifact(name: str = "Spartacus") -> dict[str, Any]:
    """The compiled contract shipped in the package (no compiler needed)."""
    text = (resources.files("spartacus") / "artifacts" / f"{name}.json").read_text()
    artifact: dict[str, Any] = json.loads(text)
    return artifact


def abi_signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(abi_type(i) for i in item['inputs'])})"


def abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return str(param["type"])
