// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.37;

import {ISemaphore} from "@semaphore-protocol/contracts/interfaces/ISemaphore.sol";

/// @title Spartacus registry
/// @notice Holds every collective-action campaign by sequential id. A campaign is revealed
/// when its count of active pledges reaches its threshold; custodians then release the keys
/// of the active pledges so that members can decrypt one another's contact details.
/// @dev Storage keeps only what the contract must check. Texts, ciphertexts and boxes live in
/// the event logs, which the off-chain clients read. The byte formats are fixed in
/// docs/protocol.md; the contract checks only their sizes.
interface ISpartacus {
    /// @notice Lifecycle of a campaign. `None` means the id does not exist.
    enum Status {
        None,
        Open,
        Pending,
        Revealed,
        Expired
    }

    /// @notice Who may read the released roster: members only, or everyone.
    enum RosterMode {
        Members,
        Public
    }

    /// @notice A byte field whose length is checked, named in `BadLength`.
    enum Field {
        Title,
        Description,
        Plan,
        Ciphertext,
        Boxes,
        Signature,
        ReleaseData
    }

    /// @notice The public terms of a campaign, chosen by its creator.
    /// @param title UTF-8, 1 to 200 bytes.
    /// @param description UTF-8, at most 4,000 bytes.
    /// @param plan The public plan, UTF-8, at most 4,000 bytes.
    /// @param threshold N, the number of active pledges that reveals the campaign; at least 2.
    /// @param deadline Unix time after which an unrevealed campaign expires.
    /// @param gracePeriod Seconds between reaching N and the reveal; 0 reveals at once.
    /// @param custodianThreshold t, how many custodians must release for members to read.
    /// @param rosterMode Who can read the released roster.
    /// @param lateJoining Whether pledges are taken after the reveal (until the deadline). A
    /// late pledge reaches the roster only once the creator admits it with `admit`, or at once
    /// when it carries a membership proof (gated campaigns).
    /// @param group 0 for an open campaign; otherwise the id of a group in the registry's
    /// groups contract (`groups()`), existing at creation: every pledge must then carry a
    /// membership proof of that group (`pledgeGated*`), one active pledge per member.
    struct Terms {
        string title;
        string description;
        string plan;
        uint32 threshold;
        uint64 deadline;
        uint32 gracePeriod;
        uint8 custodianThreshold;
        RosterMode rosterMode;
        bool lateJoining;
        uint256 group;
    }

    /// @notice A sealed payload: a pledge, or the creator's sealed instructions.
    /// @param memberKey X25519 public key P of the member (of the organiser, for instructions).
    /// @param ciphertext 24-byte nonce followed by the XChaCha20-Poly1305 ciphertext:
    /// exactly 296 bytes for a pledge; 40 + 256 * k bytes (1 <= k <= 16) for instructions.
    /// @param boxes One sealed box per custodian, concatenated in custodian order: each box is
    /// 112 bytes when t = 1 and 113 bytes when t >= 2.
    /// @param commitment sha256("spartacus/pledge-key/v1" || k), the pledge key commitment.
    struct Sealed {
        bytes32 memberKey;
        bytes ciphertext;
        bytes boxes;
        bytes32 commitment;
    }

    /// @notice A custodian's EIP-712 endorsement of one fresh campaign key.
    /// @param custodian The custodian's account, which signed.
    /// @param campaignKey The custodian's X25519 public key C_i for this campaign only.
    /// @param expiry Unix time after which the endorsement can no longer be used.
    /// @param signature 65 bytes (r, s, v) over Endorsement(bytes32 campaignKey,uint64 expiry)
    /// in the domain (name "Spartacus", version "2", chainId, this registry).
    struct Endorsement {
        address custodian;
        bytes32 campaignKey;
        uint64 expiry;
        bytes signature;
    }

    /// @notice A pledge signed by its account, as `pledgeWithSig` and `pledgeWithSigBatch` take it.
    /// @param validUntil Unix time after which the signature is refused (`SignatureExpired`).
    /// @param signature 65 bytes (r, s, v) over Pledge(uint256 campaignId,bytes32 memberKey,
    /// bytes ciphertext,bytes boxes,bytes32 commitment,uint256 nonce,uint64 validUntil).
    struct SignedPledge {
        uint256 campaignId;
        address account;
        Sealed sealedPledge;
        uint64 validUntil;
        bytes signature;
    }

    /// @notice A withdrawal signed by its account, as `withdrawWithSigBatch` takes it.
    /// @param signature 65 bytes over Withdraw(uint256 campaignId,uint256 nonce,uint64 validUntil).
    struct SignedWithdraw {
        uint256 campaignId;
        address account;
        uint64 validUntil;
        bytes signature;
    }

    /// @notice What storage holds about a campaign, for explorers and clients.
    /// @param status The stored status; see `statusOf` for the status at the current time.
    /// @param active Active pledges now.
    /// @param pledges Pledges ever made; pledge indices run from 1 to `pledges`.
    /// @param graceEnd When a pending campaign can be finalised; 0 unless it was ever pending.
    /// @param metadataHash keccak256(abi.encode(title, description, plan)).
    /// @param lateJoining The campaign takes late pledges, admitted by its creator.
    /// @param group The group whose members may pledge; 0 for an open campaign.
    /// @param revealPledges In a late-joining campaign, the highest pledge index at the reveal
    /// (0 before it): later indices are late pledges. 0 in other campaigns.
    /// @param lastEventBlock The block of the campaign's latest event, where a reader starts
    /// walking its events back by their `previousBlock`.
    struct CampaignInfo {
        Status status;
        address creator;
        uint32 threshold;
        uint32 active;
        uint32 pledges;
        uint64 deadline;
        uint32 gracePeriod;
        uint64 graceEnd;
        uint8 custodianThreshold;
        RosterMode rosterMode;
        bytes32 metadataHash;
        bool lateJoining;
        uint32 revealPledges;
        address[] custodians;
        uint256 group;
        uint48 lastEventBlock;
    }

    // ---------------------------------------------------------------- errors

    /// @notice No campaign has this id.
    error UnknownCampaign(uint256 campaignId);
    /// @notice The threshold N must be at least 2.
    error ThresholdTooLow(uint32 threshold);
    /// @notice The deadline must lie in the future.
    error DeadlineNotInFuture(uint64 deadline, uint256 timestamp);
    /// @notice A campaign has 1 to 5 custodians.
    error BadCustodianCount(uint256 count);
    /// @notice The custodian threshold t must satisfy 1 <= t <= n.
    error BadCustodianThreshold(uint8 custodianThreshold, uint256 custodianCount);
    /// @notice The same custodian account is listed twice.
    error DuplicateCustodian(address custodian);
    /// @notice Endorsement `index` expired before this block.
    error EndorsementExpired(uint256 index, uint64 expiry, uint256 timestamp);
    /// @notice Endorsement `index` was not signed by the custodian it names.
    error BadEndorsement(uint256 index, address custodian, address signer);
    /// @notice This campaign key already serves a campaign; custodians issue a fresh key for each.
    error CampaignKeyUsed(bytes32 campaignKey);
    /// @notice A member key (or a campaign key) must not be zero.
    error ZeroKey();
    /// @notice A byte field has the wrong length; `expected` is the exact or the maximum length.
    error BadLength(Field field, uint256 length, uint256 expected);
    /// @notice The campaign no longer takes pledges: its deadline passed, it expired, or it was
    /// revealed and does not take late pledges.
    error CampaignClosed(uint256 campaignId, Status status, uint64 deadline);
    /// @notice The campaign is not in a status that allows this call.
    error WrongStatus(uint256 campaignId, Status status);
    /// @notice This account already has an active pledge in this campaign.
    error AlreadyPledged(uint256 campaignId, address account);
    /// @notice This account has no active pledge in this campaign.
    error NotPledged(uint256 campaignId, address account);
    /// @notice The signature does not recover to the account it is submitted for.
    error BadSignature(address account, address signer);
    /// @notice The grace period has not ended yet.
    error GraceNotOver(uint256 campaignId, uint64 graceEnd, uint256 timestamp);
    /// @notice The deadline has not passed yet.
    error DeadlineNotPassed(uint256 campaignId, uint64 deadline, uint256 timestamp);
    /// @notice The caller is not a custodian of this campaign.
    error NotCustodian(uint256 campaignId, address caller);
    /// @notice The caller is not the creator of this campaign.
    error NotCreator(uint256 campaignId, address caller);
    /// @notice The signed message was valid until `validUntil`, before this block.
    error SignatureExpired(uint64 validUntil, uint256 timestamp);
    /// @notice A batch holds 1 to `max` items.
    error BadBatchSize(uint256 size, uint256 max);
    /// @notice Pledge `index` is not a late pledge of this campaign awaiting admission.
    error NotLatePledge(uint256 campaignId, uint32 index);
    /// @notice Pledge `index` was already admitted.
    error AlreadyAdmitted(uint256 campaignId, uint32 index);
    /// @notice The deadline lies past `latest` (2^40 - 1 seconds, the year 36812), beyond
    /// what the registry stores.
    error DeadlineTooLate(uint64 deadline, uint64 latest);
    /// @notice Late pledges can be admitted until `closesAt` (the deadline plus the admission
    /// window), which has passed.
    error AdmissionClosed(uint256 campaignId, uint64 closesAt, uint256 timestamp);

    /// @notice No group has this id in the groups contract (at campaign creation).
    error UnknownGroup(uint256 groupId);
    /// @notice The campaign is gated: a pledge must carry a membership proof (`pledgeGated*`).
    error MembershipRequired(uint256 campaignId, uint256 groupId);
    /// @notice The campaign is open (`groupId` 0): a pledge to it carries no membership proof.
    error NotGated(uint256 campaignId, uint256 groupId);
    /// @notice The member behind `nullifier` already holds active pledge `index` in this campaign.
    error NullifierInUse(uint256 campaignId, uint256 nullifier, uint32 index);
    // A proof the groups contract refuses reverts with ITS custom error, unchanged:
    // `ProofMismatch` (another campaign's scope, or a message for other bytes, another account
    // or an old nonce), `StaleRoot`, `UnsupportedDepth`, `InvalidProof` (not a member, another
    // group): see ISpartacusGroups.

    // ---------------------------------------------------------------- events

    // Every event of a campaign ends with `previousBlock`: the block of the campaign's
    // previous event (0 for `CampaignCreated`; the same block for later events of one block),
    // so that a reader walks a campaign's history back from `CampaignInfo.lastEventBlock`,
    // one block per call, whatever its age (docs/protocol.md, "Reading a campaign").

    /// @notice A campaign was created; its texts live here only (storage keeps their hash).
    event CampaignCreated(
        uint256 indexed campaignId,
        address indexed creator,
        Terms terms,
        bytes32 metadataHash,
        uint48 previousBlock
    );
    /// @notice Custodian `index` of a campaign, with the campaign key it endorsed and the
    /// endorsement itself (`expiry`, `signature`), so that a pledger can check the key against
    /// the custodian's account from the logs alone.
    /// @dev Emitted once per custodian, right after `CampaignCreated`. Watchers filter on
    /// `custodian` to find their campaigns.
    event CustodianAssigned(
        uint256 indexed campaignId,
        address indexed custodian,
        uint8 index,
        bytes32 campaignKey,
        uint64 expiry,
        bytes signature,
        uint48 previousBlock
    );
    /// @notice The creator's sealed instructions, released with the roster as pledge index 0.
    event InstructionsSealed(uint256 indexed campaignId, Sealed instructions, uint48 previousBlock);
    /// @notice A pledge was made. `index` numbers the campaign's pledges from 1.
    /// `active` is the campaign's active count after this pledge; a late pledge (after the
    /// reveal) is not counted until it is admitted.
    event Pledged(
        uint256 indexed campaignId,
        address indexed account,
        uint32 index,
        bytes32 memberKey,
        bytes ciphertext,
        bytes boxes,
        bytes32 commitment,
        uint32 active,
        uint48 previousBlock
    );
    /// @notice Pledge `index` was withdrawn; its key will never be released.
    event Withdrawn(
        uint256 indexed campaignId,
        address indexed account,
        uint32 index,
        uint32 active,
        uint48 previousBlock
    );
    /// @notice The active count reached N with a grace period: the reveal waits until `graceEnd`.
    event GraceStarted(
        uint256 indexed campaignId, uint64 graceEnd, uint32 active, uint48 previousBlock
    );
    /// @notice The grace period ended with fewer than N active pledges: the campaign is open again.
    event Reopened(uint256 indexed campaignId, uint32 active, uint48 previousBlock);
    /// @notice The public reveal: custodians now release the keys of the active pledges.
    /// `pledges` is the highest pledge index at the reveal.
    event ThresholdReached(
        uint256 indexed campaignId, uint32 active, uint32 pledges, uint48 previousBlock
    );
    /// @notice The deadline passed before the reveal: nothing will ever be released.
    event Expired(uint256 indexed campaignId, uint32 active, uint48 previousBlock);
    /// @notice The creator admitted late pledge `index`: custodians now release its key.
    /// `active` is the campaign's active count after it.
    event Admitted(uint256 indexed campaignId, uint32 index, uint32 active, uint48 previousBlock);
    /// @notice Pledge `index` was made by a member of the campaign's group, whose per-campaign
    /// nullifier is `nullifier` (emitted right after its `Pledged`, so `previousBlock` is
    /// its own block). While that pledge is active no other pledge with this nullifier is taken.
    event MemberPledged(
        uint256 indexed campaignId, uint32 index, uint256 nullifier, uint48 previousBlock
    );
    /// @notice Item `index` of a batch was skipped: it would have reverted with the custom
    /// error whose selector is `errorSelector`. The other items were processed.
    event BatchItemRefused(uint256 index, bytes4 errorSelector);
    /// @notice Custodian `index` published release data (format in docs/protocol.md).
    event Released(
        uint256 indexed campaignId,
        address indexed custodian,
        uint8 index,
        bytes data,
        uint48 previousBlock
    );

    // ---------------------------------------------------------------- calls

    /// @notice Creates a campaign and returns its id (ids start at 1).
    /// @dev `endorsements` lists the custodians in order; their boxes in `instructions.boxes`
    /// follow the same order. Each campaign key becomes used for good.
    function createCampaign(
        Terms calldata terms,
        Sealed calldata instructions,
        Endorsement[] calldata endorsements
    ) external returns (uint256 campaignId);

    /// @notice Pledges from msg.sender, the pledge account.
    function pledge(uint256 campaignId, Sealed calldata sealedPledge) external;

    /// @notice Pledges for `account`, authorised by its EIP-712 signature over
    /// Pledge(uint256 campaignId,bytes32 memberKey,bytes ciphertext,bytes boxes,
    /// bytes32 commitment,uint256 nonce,uint64 validUntil), with
    /// `nonce = nonceOf(campaignId, account)`, until `validUntil` (inclusive).
    /// @dev Anyone may submit, so a relayer can pay the gas.
    function pledgeWithSig(
        uint256 campaignId,
        address account,
        Sealed calldata sealedPledge,
        uint64 validUntil,
        bytes calldata signature
    ) external;

    /// @notice Submits up to MAX_BATCH signed pledges. Each is checked like `pledgeWithSig`;
    /// one that would revert emits `BatchItemRefused` and is skipped.
    /// @dev Items are processed in order, so two items for one account: the second is refused
    /// (`AlreadyPledged`), or needs the nonce the first leaves.
    function pledgeWithSigBatch(SignedPledge[] calldata items) external;

    /// @notice `pledgeWithSig` to a gated campaign, with a Semaphore v4 membership proof of the
    /// campaign's group for `scope = MembershipScope.scope(this, campaignId)` and
    /// `message = uint256(keccak256(abi.encode(digest, account)))`, where `digest` is the
    /// EIP-712 digest `account` signs (`Pledge`, as in `pledgeWithSig`). The message thus binds
    /// the pledge's exact bytes, its account, the account's nonce and `validUntil`.
    /// @dev Checks as `pledgeWithSig`, then `NotGated`, `NullifierInUse`, then the proof (the
    /// groups contract's errors, unchanged). In a late-joining campaign after the reveal the
    /// pledge is admitted at once (`Admitted`). A pledge account that pays its own gas signs
    /// its own pledge and sends this: there is no unsigned gated entry point.
    function pledgeGatedWithSig(
        uint256 campaignId,
        address account,
        Sealed calldata sealedPledge,
        uint64 validUntil,
        bytes calldata signature,
        ISemaphore.SemaphoreProof calldata proof
    ) external;

    /// @notice `pledgeWithSigBatch` for gated pledges: item i with `proofs[i]`, checked like
    /// `pledgeGatedWithSig`; one that would revert emits `BatchItemRefused` and is skipped.
    /// @dev `BadBatchSize(proofs.length, items.length)` unless both have the same length.
    /// Reverts as a whole (with the groups contract's error) when a proof check fails with
    /// too little gas left to tell a bad proof from a starved verifier, so that
    /// `eth_estimateGas` finds the gas a verification needs.
    function pledgeGatedWithSigBatch(
        SignedPledge[] calldata items,
        ISemaphore.SemaphoreProof[] calldata proofs
    ) external;

    /// @notice Withdraws msg.sender's active pledge. Allowed until the reveal.
    function withdraw(uint256 campaignId) external;

    /// @notice Withdraws `account`'s active pledge, authorised by its EIP-712 signature over
    /// Withdraw(uint256 campaignId,uint256 nonce,uint64 validUntil), with
    /// `nonce = nonceOf(campaignId, account)`, until `validUntil` (inclusive).
    function withdrawWithSig(
        uint256 campaignId,
        address account,
        uint64 validUntil,
        bytes calldata signature
    ) external;

    /// @notice Submits up to MAX_BATCH signed withdrawals, each checked like `withdrawWithSig`;
    /// one that would revert emits `BatchItemRefused` and is skipped.
    function withdrawWithSigBatch(SignedWithdraw[] calldata items) external;

    /// @notice Admits late pledges of a late-joining campaign, by index; only its creator may.
    /// @dev Allowed while the campaign is Revealed, until its deadline plus the admission window
    /// (ADMIT_WINDOW). Reverts as a whole if any index is not a late pledge or was admitted.
    function admit(uint256 campaignId, uint32[] calldata indices) external;

    /// @notice Ends a pending campaign's grace period: reveals it with at least N active
    /// pledges, otherwise reopens it. A reopened campaign past its deadline reads as Expired
    /// (`expire` then records it). The grace period may run past the deadline.
    function finalize(uint256 campaignId) external;

    /// @notice Marks an open campaign whose deadline has passed as expired.
    function expire(uint256 campaignId) external;

    /// @notice Publishes release data; only a custodian of a revealed campaign may call.
    function release(uint256 campaignId, bytes calldata data) external;

    // ---------------------------------------------------------------- views

    /// @notice How many campaigns exist; the newest has this id.
    function campaignCount() external view returns (uint256);

    /// @notice A campaign's stored terms and counters.
    function campaign(uint256 campaignId) external view returns (CampaignInfo memory);

    /// @notice The status at the current block time: an open campaign past its deadline
    /// reads as Expired before anyone calls `expire`.
    function statusOf(uint256 campaignId) external view returns (Status);

    /// @notice The number of active pledges: what a block explorer shows as the count.
    function activeCount(uint256 campaignId) external view returns (uint32);

    /// @notice The campaign's threshold N.
    function thresholdOf(uint256 campaignId) external view returns (uint32);

    /// @notice Whether `account` has an active pledge, its index (0 if it never pledged),
    /// and the nonce its next signature must carry.
    function pledgeOf(uint256 campaignId, address account)
        external
        view
        returns (bool active, uint32 index, uint32 nonce);

    /// @notice The nonce the next signed pledge or withdrawal of `account` must carry.
    function nonceOf(uint256 campaignId, address account) external view returns (uint256);

    /// @notice Whether pledge `index` of a late-joining campaign was admitted.
    function admitted(uint256 campaignId, uint32 index) external view returns (bool);

    /// @notice Whether a custodian campaign key has been used by a campaign.
    function keyUsed(bytes32 campaignKey) external view returns (bool);

    /// @notice The index of the active pledge held by the member behind `nullifier` in this
    /// campaign, 0 if none.
    function nullifierHolder(uint256 campaignId, uint256 nullifier)
        external
        view
        returns (uint32 index);

    /// @notice The groups contract gated campaigns name their groups in.
    function groups() external view returns (address);

    /// @notice The EIP-712 domain separator of this registry.
    function domainSeparator() external view returns (bytes32);
}
