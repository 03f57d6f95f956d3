"""anvil in OP-stack mode with a GasPriceOracle at the predeploy address.

anvil 1.7.1 (``--optimism``) has OP-stack transaction types but no predeploys: eth_getCode
at 0x420...0F is empty (checked here each time). ``contracts/GasPriceOracleStandIn.sol``
has the predeploy's ``getL1Fee(bytes)`` with Ecotone's formula at fixed prices; its runtime
code is put at that address with ``anvil_setCode``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from web3 import HTTPProvider, Web3

from spartacus.chain.fees import GWEI
from spartacus.chain.networks import GAS_PRICE_ORACLE
from tests.cli.conftest import running_anvil

STAND_IN = Path(__file__).parent / "contracts" / "GasPriceOracleStandIn.sol"


def stand_in_fee(data: bytes) -> int:
    """The stand-in's formula, restated: Ecotone's L1 fee at its fixed prices."""
    gas = 68 * 16 + sum(4 if b == 0 else 16 for b in data)
    return gas * (16 * 30 * GWEI * 1368 + 2 * GWEI * 810949) // (16 * 10**6)


def oracle_runtime() -> str:
    import solcx

    from spartacus.dev.build import SOLC_VERSION

    out = solcx.compile_standard(
        {
            "language": "Solidity",
            "sources": {"GasPriceOracleStandIn.sol": {"content": STAND_IN.read_text()}},
            "settings": {
                "evmVersion": "cancun",
                "outputSelection": {"*": {"*": ["evm.deployedBytecode.object"]}},
            },
        },
        solc_version=SOLC_VERSION,
    )
    code = out["contracts"]["GasPriceOracleStandIn.sol"]["GasPriceOracleStandIn"]
    return "0x" + code["evm"]["deployedBytecode"]["object"]


@contextmanager
def running_op_anvil(*extra: str) -> Iterator[str]:
    """``anvil --optimism`` (and ``extra``) with the stand-in GasPriceOracle; yields its URL."""
    with running_anvil("--optimism", *extra) as rpc:
        w3 = Web3(HTTPProvider(rpc))
        oracle = Web3.to_checksum_address(GAS_PRICE_ORACLE)
        assert w3.eth.get_code(oracle) == b"", "anvil now has the predeploy: drop the stand-in"
        w3.provider.make_request("anvil_setCode", [GAS_PRICE_ORACLE, oracle_runtime()])  # type: ignore[arg-type]
        assert w3.eth.get_code(oracle) != b""
        yield rpc
