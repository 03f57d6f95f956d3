// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.37;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ISemaphore} from "@semaphore-protocol/contracts/interfaces/ISemaphore.sol";
import {ISemaphoreVerifier} from "@semaphore-protocol/contracts/interfaces/ISemaphoreVerifier.sol";
import {InternalLeanIMT, LeanIMTData} from "@zk-kit/lean-imt.sol/InternalLeanIMT.sol";
import {SNARK_SCALAR_FIELD} from "@zk-kit/lean-imt.sol/Constants.sol";

import {ISpartacusGroups} from "./interfaces/ISpartacusGroups.sol";
import {MembershipScope} from "./libraries/MembershipScope.sol";

/// @title Spartacus membership groups
/// @notice Semaphore v4 groups with admins and single-use invitations; see ISpartacusGroups.
/// @dev Kept out of the registry, which is near the EIP-170 size limit. The Lean IMT calls the
/// external library PoseidonT3 (linked at deployment); proofs are checked by the npm
/// SemaphoreVerifier, deployed once and given to the constructor. One tree depth (16) is
/// supported, so a group holds at most 65,536 members.
/// Conventions the interface leaves open, fixed here:
/// - A batch of commitments must be strictly ascending: that rules out duplicates inside the
///   batch in one pass (`AlreadyMember` names the repeated commitment), and the order of a
///   batch says nothing about who was added first.
/// - Group views revert `UnknownGroup` for id 0 or an id not yet created; `isMember`,
///   `invitationState` and `rootReplacedAt` answer false / None / 0 for unknown ids.
contract SpartacusGroups is ISpartacusGroups, EIP712 {
    using InternalLeanIMT for LeanIMTData;

    uint256 private constant MAX_NAME = 100;
    uint256 private constant MAX_BATCH = 100;
    uint256 private constant DEPTH = 16;
    uint256 private constant MAX_MEMBERS = 65_536; // 2 ** DEPTH
    uint256 private constant ROOT_WINDOW = 1 hours;
    bytes32 private constant INVITATION_TYPEHASH = keccak256("Invitation(uint256 groupId,uint256 commitment)");

    /// @dev One slot: the admin and the invitation counts.
    struct Group {
        address admin;
        uint48 outstanding;
        uint48 redeemed;
    }

    ISemaphoreVerifier public immutable verifier;
    uint256 private _groupCount;
    mapping(uint256 groupId => Group) private _groups;
    mapping(uint256 groupId => LeanIMTData) private _trees;
    mapping(uint256 groupId => mapping(address invitation => InvitationState)) private _invitations;
    mapping(uint256 groupId => mapping(uint256 root => uint256 timestamp)) private _replacedAt;

    constructor(ISemaphoreVerifier verifier_) EIP712("SpartacusGroups", "1") {
        verifier = verifier_;
    }

    // ------------------------------------------------------------------ admin

    /// @inheritdoc ISpartacusGroups
    function createGroup(string calldata name) external returns (uint256 groupId) {
        uint256 length = bytes(name).length;
        if (length == 0 || length > MAX_NAME) revert BadNameLength(length, MAX_NAME);
        groupId = ++_groupCount;
        _groups[groupId].admin = msg.sender;
        emit GroupCreated(groupId, msg.sender, name);
    }

    /// @inheritdoc ISpartacusGroups
    function addMember(uint256 groupId, uint256 commitment) external {
        _onlyAdmin(groupId);
        _insert(groupId, commitment);
    }

    /// @inheritdoc ISpartacusGroups
    function addMembers(uint256 groupId, uint256[] calldata commitments) external {
        _onlyAdmin(groupId);
        uint256 count = commitments.length;
        if (count == 0 || count > MAX_BATCH) revert BadBatchSize(count, MAX_BATCH);
        LeanIMTData storage tree = _trees[groupId];
        uint256 start = tree.size;
        if (start + count > MAX_MEMBERS) revert GroupFull(groupId, start, MAX_MEMBERS);
        uint256 previous = 0; // commitments are > 0, so the first always passes
        for (uint256 i; i < count; ++i) {
            uint256 commitment = commitments[i];
            if (commitment == 0 || commitment >= SNARK_SCALAR_FIELD) revert BadCommitment(commitment);
            if (commitment <= previous || tree._has(commitment)) revert AlreadyMember(groupId, commitment);
            previous = commitment;
        }
        uint256 oldRoot = tree._root();
        uint256 root = tree._insertMany(commitments);
        _replaced(groupId, oldRoot);
        emit MembersAdded(groupId, start, commitments, root);
    }

    /// @inheritdoc ISpartacusGroups
    function createInvitations(uint256 groupId, address[] calldata invitations) external {
        Group storage group = _onlyAdmin(groupId);
        uint256 count = invitations.length;
        if (count == 0 || count > MAX_BATCH) revert BadBatchSize(count, MAX_BATCH);
        mapping(address => InvitationState) storage states = _invitations[groupId];
        for (uint256 i; i < count; ++i) {
            address invitation = invitations[i];
            if (invitation == address(0) || states[invitation] != InvitationState.None) {
                revert InvitationExists(groupId, invitation);
            }
            states[invitation] = InvitationState.Outstanding;
            emit InvitationCreated(groupId, invitation);
        }
        // Cannot overflow: at most 100 per call, and 2^48 calls cost more gas than exists.
        unchecked {
            group.outstanding += uint48(count);
        }
    }

    /// @inheritdoc ISpartacusGroups
    function revokeInvitations(uint256 groupId, address[] calldata invitations) external {
        Group storage group = _onlyAdmin(groupId);
        uint256 count = invitations.length;
        if (count == 0 || count > MAX_BATCH) revert BadBatchSize(count, MAX_BATCH);
        mapping(address => InvitationState) storage states = _invitations[groupId];
        for (uint256 i; i < count; ++i) {
            address invitation = invitations[i];
            InvitationState state = states[invitation];
            if (state == InvitationState.None) revert UnknownInvitation(groupId, invitation);
            if (state != InvitationState.Outstanding) revert InvitationUsed(groupId, invitation);
            states[invitation] = InvitationState.Revoked;
            emit InvitationRevoked(groupId, invitation);
        }
        // Cannot underflow: each invitation revoked here was counted as outstanding.
        unchecked {
            group.outstanding -= uint48(count);
        }
    }

    // ------------------------------------------------------------------ invitee

    /// @inheritdoc ISpartacusGroups
    function redeemInvitation(uint256 groupId, uint256 commitment, bytes calldata signature) external {
        Group storage group = _group(groupId);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(INVITATION_TYPEHASH, groupId, commitment)));
        // The third value (the error's argument) says nothing a malformed signature needs.
        // slither-disable-next-line unused-return
        (address signer, ECDSA.RecoverError recoverError,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (recoverError != ECDSA.RecoverError.NoError) signer = address(0);
        InvitationState state = _invitations[groupId][signer];
        if (state == InvitationState.None) revert UnknownInvitation(groupId, signer);
        if (state != InvitationState.Outstanding) revert InvitationUsed(groupId, signer);
        _invitations[groupId][signer] = InvitationState.Redeemed;
        // Cannot overflow or underflow: the invitation was counted as outstanding.
        unchecked {
            --group.outstanding;
            ++group.redeemed;
        }
        emit InvitationRedeemed(groupId, signer, commitment);
        _insert(groupId, commitment);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ISpartacusGroups
    function verifyMembership(
        uint256 groupId,
        uint256 scope,
        uint256 message,
        ISemaphore.SemaphoreProof calldata proof
    ) external view returns (bool) {
        _group(groupId);
        if (proof.merkleTreeDepth != DEPTH) revert UnsupportedDepth(proof.merkleTreeDepth, DEPTH);
        if (proof.scope != scope || proof.message != message) {
            revert ProofMismatch(scope, proof.scope, message, proof.message);
        }
        uint256 root = proof.merkleTreeRoot;
        if (root == 0 || root != _trees[groupId]._root()) {
            uint256 replacedAt = _replacedAt[groupId][root];
            if (replacedAt == 0 || block.timestamp > replacedAt + ROOT_WINDOW) {
                revert StaleRoot(groupId, root, replacedAt);
            }
        }
        bool valid = verifier.verifyProof(
            [proof.points[0], proof.points[1]],
            [[proof.points[2], proof.points[3]], [proof.points[4], proof.points[5]]],
            [proof.points[6], proof.points[7]],
            [root, proof.nullifier, _hash(message), _hash(scope)],
            DEPTH
        );
        if (!valid) revert InvalidProof(groupId, proof.nullifier);
        return true;
    }

    /// @inheritdoc ISpartacusGroups
    function scopeOf(address registry, uint256 campaignId) external view returns (uint256) {
        return MembershipScope.scope(registry, campaignId);
    }

    /// @inheritdoc ISpartacusGroups
    function groupCount() external view returns (uint256) {
        return _groupCount;
    }

    /// @inheritdoc ISpartacusGroups
    function groupInfo(uint256 groupId) external view returns (GroupInfo memory) {
        Group storage group = _group(groupId);
        LeanIMTData storage tree = _trees[groupId];
        return GroupInfo(group.admin, tree.size, tree._root(), group.outstanding, group.redeemed);
    }

    /// @inheritdoc ISpartacusGroups
    function isMember(uint256 groupId, uint256 commitment) external view returns (bool) {
        return _trees[groupId]._has(commitment);
    }

    /// @inheritdoc ISpartacusGroups
    function invitationState(uint256 groupId, address invitation) external view returns (InvitationState) {
        return _invitations[groupId][invitation];
    }

    /// @inheritdoc ISpartacusGroups
    function rootReplacedAt(uint256 groupId, uint256 root) external view returns (uint256) {
        return _replacedAt[groupId][root];
    }

    // ------------------------------------------------------------------ internal

    function _group(uint256 groupId) private view returns (Group storage group) {
        group = _groups[groupId];
        if (group.admin == address(0)) revert UnknownGroup(groupId);
    }

    function _onlyAdmin(uint256 groupId) private view returns (Group storage group) {
        group = _group(groupId);
        if (msg.sender != group.admin) revert NotGroupAdmin(groupId, msg.sender, group.admin);
    }

    function _insert(uint256 groupId, uint256 commitment) private {
        LeanIMTData storage tree = _trees[groupId];
        if (commitment == 0 || commitment >= SNARK_SCALAR_FIELD) revert BadCommitment(commitment);
        if (tree._has(commitment)) revert AlreadyMember(groupId, commitment);
        uint256 index = tree.size;
        if (index >= MAX_MEMBERS) revert GroupFull(groupId, index, MAX_MEMBERS);
        uint256 oldRoot = tree._root();
        uint256 root = tree._insert(commitment);
        _replaced(groupId, oldRoot);
        emit MemberAdded(groupId, index, commitment, root);
    }

    /// @dev Starts the window in which proofs against `oldRoot` still verify. Lean IMT roots
    /// never repeat (members are only added), so a root is replaced at most once.
    function _replaced(uint256 groupId, uint256 oldRoot) private {
        if (oldRoot != 0) _replacedAt[groupId][oldRoot] = block.timestamp;
    }

    /// @dev As Semaphore.sol: the circuit takes `keccak256(x) >> 8` of message and scope.
    function _hash(uint256 value) private pure returns (uint256) {
        return uint256(keccak256(abi.encodePacked(value))) >> 8;
    }
}
