// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.37;

import {ISemaphore} from "@semaphore-protocol/contracts/interfaces/ISemaphore.sol";

/// @title Spartacus membership groups
/// @notice Semaphore v4 groups for membership-gated campaigns (docs/protocol.md, "Membership
/// groups"). A group has an admin and a name; its members are Semaphore identity commitments
/// in a Lean IMT. The admin adds commitments directly or creates single-use invitations: an
/// invitation is the address of a fresh key (the code handed to the invitee); the invitee's
/// client signs its own commitment with that key (EIP-712, bound to chain, this contract and the
/// group), so a redemption copied from the mempool cannot be redeemed for another commitment.
/// Anyone can read a group's size, admin and outstanding invitations, and so see a group
/// inflated beyond the people it claims to hold.
interface ISpartacusGroups {
    // ------------------------------------------------------------------ errors

    /// @notice No group has id `groupId`.
    error UnknownGroup(uint256 groupId);
    /// @notice The group's name is empty or longer than the limit (`maximum` bytes).
    error BadNameLength(uint256 length, uint256 maximum);
    /// @notice Only the group's admin may do this.
    error NotGroupAdmin(uint256 groupId, address caller, address admin);
    /// @notice A commitment is zero or not below the SNARK scalar field.
    error BadCommitment(uint256 commitment);
    /// @notice The commitment is already a member of the group.
    error AlreadyMember(uint256 groupId, uint256 commitment);
    /// @notice The group holds the most members the supported proof depth allows.
    error GroupFull(uint256 groupId, uint256 size, uint256 maximum);
    /// @notice A batch is empty or larger than the limit.
    error BadBatchSize(uint256 size, uint256 max);
    /// @notice The invitation address is zero or was already created in this group.
    error InvitationExists(uint256 groupId, address invitation);
    /// @notice The signer of a redemption is no outstanding invitation of the group (a forged
    /// or front-run redemption, or an invitation of another group, chain or contract).
    error UnknownInvitation(uint256 groupId, address signer);
    /// @notice The invitation was already redeemed or revoked.
    error InvitationUsed(uint256 groupId, address invitation);
    /// @notice The proof was made at another tree depth than the one supported.
    error UnsupportedDepth(uint256 depth, uint256 supported);
    /// @notice The proof's root is neither the group's current root nor one replaced less than
    /// the root window ago. `replacedAt` is 0 for a root the group never had.
    error StaleRoot(uint256 groupId, uint256 root, uint256 replacedAt);
    /// @notice The proof's scope or message is not the one the caller expects.
    error ProofMismatch(uint256 expectedScope, uint256 scope, uint256 expectedMessage, uint256 message);
    /// @notice The Semaphore verifier refused the proof.
    error InvalidProof(uint256 groupId, uint256 nullifier);

    // ------------------------------------------------------------------ events

    /// @notice A group was created. Its name is in this event only.
    event GroupCreated(uint256 indexed groupId, address indexed admin, string name);
    /// @notice `commitment` joined the group at leaf `index`; `root` is the group's new root.
    event MemberAdded(uint256 indexed groupId, uint256 index, uint256 commitment, uint256 root);
    /// @notice `commitments` joined the group at leaves `startIndex`, `startIndex + 1`, ...
    event MembersAdded(uint256 indexed groupId, uint256 startIndex, uint256[] commitments, uint256 root);
    /// @notice The admin created an invitation: the address of the code's key.
    event InvitationCreated(uint256 indexed groupId, address indexed invitation);
    /// @notice An invitation was redeemed for `commitment` (a `MemberAdded` event follows).
    event InvitationRedeemed(uint256 indexed groupId, address indexed invitation, uint256 commitment);
    /// @notice The admin revoked an outstanding invitation.
    event InvitationRevoked(uint256 indexed groupId, address indexed invitation);

    // ------------------------------------------------------------------ types

    /// @notice What anyone can read about a group.
    struct GroupInfo {
        address admin;
        uint256 size;
        uint256 root;
        uint256 invitationsOutstanding;
        uint256 invitationsRedeemed;
    }

    /// @notice An invitation's state: None (never created), Outstanding, Redeemed, Revoked.
    enum InvitationState {
        None,
        Outstanding,
        Redeemed,
        Revoked
    }

    // ------------------------------------------------------------------ admin

    /// @notice Creates a group administered by the caller; ids count from 1.
    /// @param name UTF-8, 1 to 100 bytes, kept in the `GroupCreated` event only.
    function createGroup(string calldata name) external returns (uint256 groupId);

    /// @notice The admin adds one identity commitment.
    function addMember(uint256 groupId, uint256 commitment) external;

    /// @notice The admin adds up to 100 identity commitments in one tree update.
    function addMembers(uint256 groupId, uint256[] calldata commitments) external;

    /// @notice The admin creates single-use invitations (up to 100): each is the address of a
    /// fresh key whose private half is the invitation code.
    function createInvitations(uint256 groupId, address[] calldata invitations) external;

    /// @notice The admin revokes outstanding invitations (lost or never handed out).
    function revokeInvitations(uint256 groupId, address[] calldata invitations) external;

    // ------------------------------------------------------------------ invitee

    /// @notice Adds `commitment` to the group with an invitation. Anyone may send it.
    /// @param signature The invitation key's EIP-712 signature of
    /// `Invitation(uint256 groupId, uint256 commitment)` in the domain
    /// ("SpartacusGroups", "1", chainId, this contract).
    function redeemInvitation(uint256 groupId, uint256 commitment, bytes calldata signature) external;

    // ------------------------------------------------------------------ views

    /// @notice Checks a Semaphore v4 membership proof for a group, a scope and a message.
    /// @dev Returns true or reverts, never returns false: `UnknownGroup`, `UnsupportedDepth`,
    /// `ProofMismatch`, `StaleRoot` or `InvalidProof`. A caller must treat a revert as "not a
    /// member", and must not catch it with too little gas: the pairing precompile out of gas
    /// makes the verifier answer false, which is reported here as `InvalidProof` (a revert,
    /// so `eth_estimateGas` finds the gas a true answer needs). The root rule: the group's
    /// current root, or a root replaced less than `ROOT_WINDOW` (1 hour) ago, counted from
    /// its replacement. The nullifier is NOT recorded: the caller keeps its own per scope.
    function verifyMembership(uint256 groupId, uint256 scope, uint256 message, ISemaphore.SemaphoreProof calldata proof)
        external
        view
        returns (bool);

    /// @notice The scope a registry uses for a campaign's membership proofs:
    /// `uint256(keccak256(abi.encode(block.chainid, registry, campaignId)))`.
    function scopeOf(address registry, uint256 campaignId) external view returns (uint256);

    /// @notice Number of groups created.
    function groupCount() external view returns (uint256);

    /// @notice A group's admin, size, root and invitation counts; reverts `UnknownGroup`.
    function groupInfo(uint256 groupId) external view returns (GroupInfo memory);

    /// @notice Whether `commitment` is a member of the group.
    function isMember(uint256 groupId, uint256 commitment) external view returns (bool);

    /// @notice An invitation's state in a group.
    function invitationState(uint256 groupId, address invitation) external view returns (InvitationState);

    /// @notice When `root` stopped being the group's root (0 if it is current or never was).
    function rootReplacedAt(uint256 groupId, uint256 root) external view returns (uint256);
}
