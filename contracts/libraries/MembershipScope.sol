// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.37;

/// @title The scope of a campaign's membership proofs
/// @notice One home for the rule that the registry (gated pledges) and SpartacusGroups
/// (`scopeOf`) share: a proof made for one campaign, registry or chain has another scope, so
/// its nullifier and its verification are worth nothing elsewhere.
library MembershipScope {
    /// @return `uint256(keccak256(abi.encode(block.chainid, registry, campaignId)))`; the
    /// Semaphore verifier hashes it again (`keccak256 >> 8`), so no reduction is needed.
    function scope(address registry, uint256 campaignId) internal view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, registry, campaignId)));
    }
}
