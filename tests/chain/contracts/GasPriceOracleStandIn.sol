// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.37;

/// @notice Stand-in for the OP-stack GasPriceOracle predeploy (0x420...0F), which
/// `anvil --optimism` (1.7.1) does not have. Same interface and Ecotone formula, fixed prices:
/// getL1Fee(data) = (zeros*4 + nonzeros*16 + 68*16) * (16*l1BaseFee*baseFeeScalar
///                  + blobBaseFee*blobBaseFeeScalar) / (16 * 1e6)
contract GasPriceOracleStandIn {
    uint256 public constant l1BaseFee = 30 gwei;
    uint256 public constant blobBaseFee = 2 gwei;
    uint256 public constant baseFeeScalar = 1368;
    uint256 public constant blobBaseFeeScalar = 810949;

    function getL1Fee(bytes calldata data) external pure returns (uint256) {
        uint256 gas = 68 * 16;
        for (uint256 i = 0; i < data.length; i++) {
            gas += data[i] == 0 ? 4 : 16;
        }
        uint256 price = 16 * l1BaseFee * baseFeeScalar + blobBaseFee * blobBaseFeeScalar;
        return gas * price / (16 * 1e6);
    }
}
