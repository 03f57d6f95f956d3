// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.37;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {ISemaphore} from "@semaphore-protocol/contracts/interfaces/ISemaphore.sol";

import {ISpartacus} from "./interfaces/ISpartacus.sol";
import {ISpartacusGroups} from "./interfaces/ISpartacusGroups.sol";
import {MembershipScope} from "./libraries/MembershipScope.sol";

/// @title Spartacus registry
/// @notice Holds every collective-action campaign by sequential id; see ISpartacus.
/// @dev Storage layout, chosen so that a pledge touches two slots only:
/// - `Campaign.hot`: everything a pledge or a withdrawal reads and writes, packed into ONE slot;
/// - `Campaign.creator`, `gracePeriod`, `lateJoining`, `revealPledges`: a second slot, read at
///   the transition to N, by pledges after the reveal and by `admit`;
/// - `Campaign.metadataHash`, then up to 5 custodian slots, read by `release` and views only;
/// - `_pledges[campaignId][account]`: the one slot per (campaign, account);
/// - `_admitted[campaignId][index / 256]`: a bitmap of admitted late pledges;
/// - `Campaign.group`: its own slot, read by every pledge (an open pledge pays one cold read);
/// - `_nullifiers[campaignId][nullifier]`: a gated pledge's third slot, the (account, index)
///   that last pledged with this member's nullifier. It is freed by the withdrawal without
///   being written: a nullifier is in use only while that account's pledge `index` is active.
/// No function loops over pledges or campaigns; loops run over at most 5 custodians, or over
/// the caller's own batch (at most MAX_BATCH items).
///
/// The checks of a pledge and of a withdrawal are written once and run in two modes: strict
/// (the single calls: revert with the custom error and its arguments) and soft (batches: the
/// same error's selector is returned, the item skipped with `BatchItemRefused`).
///
/// Conventions the interface leaves open, fixed here:
/// - Custodian indices (in `CustodianAssigned` and `Released`) count from 0 in the order of
///   the endorsements.
/// - `BadLength.expected` is the exact length for fixed sizes and the maximum for ranges: 200
///   for an empty title, 4,136 (16 blocks) for any bad instructions length, 98,304 for empty
///   release data.
/// - Errors carry the effective status, as `statusOf` reads it: an open campaign past its
///   deadline is reported as Expired. Only `expire` acts on the stored status Open.
/// - Views of a campaign (`campaign`, `activeCount`, `thresholdOf`) revert with
///   `UnknownCampaign` for an unknown id; `statusOf` returns `None`; per-account views
///   (`pledgeOf`, `nonceOf`) return zeros.
contract Spartacus is ISpartacus, EIP712 {
    uint256 private constant MAX_CUSTODIANS = 5;
    uint256 private constant MAX_TITLE = 200;
    uint256 private constant MAX_TEXT = 4000;
    uint256 private constant PLEDGE_CIPHERTEXT = 296;
    uint256 private constant CIPHERTEXT_OVERHEAD = 40;
    uint256 private constant BLOCK = 256;
    uint256 private constant MAX_INSTRUCTION_BLOCKS = 16;
    uint256 private constant BOX_T1 = 112;
    uint256 private constant BOX_SHAMIR = 113;
    uint256 private constant SIGNATURE = 65;
    uint256 private constant MAX_RELEASE = 98_304;
    uint256 private constant MAX_BATCH = 100;
    uint256 private constant ADMIT_WINDOW = 7 days;

    /// @dev The fields of a campaign a pledge reads and writes: 5+5+6+4+4+4+1+1+1+1 = 32 bytes.
    /// Times are uint40 seconds (good until the year 36812). `lastEventBlock` is the block of
    /// the campaign's latest event, written with the other fields by every call that emits one
    /// (the same slot, so no new storage write) and carried by the next event as `previousBlock`.
    struct Hot {
        uint40 deadline;
        uint40 graceEnd;
        uint48 lastEventBlock;
        uint32 threshold;
        uint32 active;
        uint32 pledges;
        Status status;
        uint8 custodianCount;
        uint8 custodianThreshold;
        RosterMode rosterMode;
    }

    struct Campaign {
        Hot hot;
        address creator;
        uint32 gracePeriod;
        bool lateJoining;
        uint32 revealPledges;
        bytes32 metadataHash;
        address[MAX_CUSTODIANS] custodians;
        uint256 group;
    }

    /// @dev One slot per (campaign, account). `index` stays after a withdrawal; `nonce` counts
    /// every pledge and withdrawal of the pair, signed or not.
    struct PledgeSlot {
        bool active;
        uint32 index;
        uint32 nonce;
    }

    bytes32 private constant ENDORSEMENT_TYPEHASH =
        keccak256("Endorsement(bytes32 campaignKey,uint64 expiry)");
    bytes32 private constant PLEDGE_TYPEHASH = keccak256(
        "Pledge(uint256 campaignId,bytes32 memberKey,bytes ciphertext,bytes boxes,"
        "bytes32 commitment,uint256 nonce,uint64 validUntil)"
    );
    bytes32 private constant WITHDRAW_TYPEHASH =
        keccak256("Withdraw(uint256 campaignId,uint256 nonce,uint64 validUntil)");

    /// @dev The (account, pledge index) that last pledged with a nullifier in a campaign.
    struct NullifierSlot {
        address account;
        uint32 index;
    }

    /// @inheritdoc ISpartacus
    address public immutable groups;

    uint256 private _campaignCount;
    mapping(uint256 campaignId => Campaign) private _campaigns;
    mapping(uint256 campaignId => mapping(address account => PledgeSlot)) private _pledges;
    mapping(bytes32 campaignKey => bool) private _keyUsed;
    mapping(uint256 campaignId => mapping(uint256 word => uint256 bits)) private _admitted;
    mapping(uint256 campaignId => mapping(uint256 nullifier => NullifierSlot)) private _nullifiers;

    /// @param groups_ The SpartacusGroups contract gated campaigns name their groups in.
    constructor(address groups_) EIP712("Spartacus", "2") {
        // No zero check: with no groups contract, creating a gated campaign reverts (the call
        // to check its group finds no code), and open campaigns need none.
        // slither-disable-next-line missing-zero-check
        groups = groups_;
    }

    // ---------------------------------------------------------------- calls

    /// @inheritdoc ISpartacus
    function createCampaign(
        Terms calldata terms,
        Sealed calldata instructions,
        Endorsement[] calldata endorsements
    ) external returns (uint256 campaignId) {
        _checkTerms(terms);
        uint256 n = endorsements.length;
        if (n == 0 || n > MAX_CUSTODIANS) revert BadCustodianCount(n);
        uint8 t = terms.custodianThreshold;
        if (t == 0 || t > n) revert BadCustodianThreshold(t, n);
        _checkInstructions(instructions, n, t);
        _checkEndorsements(endorsements);

        bytes32 metadataHash = keccak256(abi.encode(terms.title, terms.description, terms.plan));
        // Cannot overflow: one campaign per transaction.
        unchecked {
            campaignId = ++_campaignCount;
        }
        Campaign storage c = _campaigns[campaignId];
        uint48 here = uint48(block.number);
        c.hot = Hot({
            // Fits: `_checkTerms` bounds the deadline by type(uint40).max.
            deadline: uint40(terms.deadline),
            graceEnd: 0,
            lastEventBlock: here,
            threshold: terms.threshold,
            active: 0,
            pledges: 0,
            status: Status.Open,
            custodianCount: uint8(n),
            custodianThreshold: t,
            rosterMode: terms.rosterMode
        });
        c.creator = msg.sender;
        c.gracePeriod = terms.gracePeriod;
        c.lateJoining = terms.lateJoining;
        c.metadataHash = metadataHash;
        if (terms.group != 0) c.group = terms.group;
        for (uint256 i; i < n; ++i) {
            c.custodians[i] = endorsements[i].custodian;
        }

        emit CampaignCreated(campaignId, msg.sender, terms, metadataHash, 0);
        for (uint256 i; i < n; ++i) {
            Endorsement calldata e = endorsements[i];
            emit CustodianAssigned(
                campaignId, e.custodian, uint8(i), e.campaignKey, e.expiry, e.signature, here
            );
        }
        emit InstructionsSealed(campaignId, instructions, here);
    }

    /// @inheritdoc ISpartacus
    /// @dev Reverts with `CampaignClosed` once the effective status is Expired or the deadline
    /// has passed, and after the reveal unless the campaign takes late pledges.
    function pledge(uint256 campaignId, Sealed calldata sealedPledge) external {
        _pledge(campaignId, msg.sender, sealedPledge, false, 0, msg.data[0:0], _noProof(), true);
    }

    /// @inheritdoc ISpartacus
    function pledgeGatedWithSig(
        uint256 campaignId,
        address account,
        Sealed calldata sealedPledge,
        uint64 validUntil,
        bytes calldata signature,
        ISemaphore.SemaphoreProof calldata proof
    ) external {
        _pledge(campaignId, account, sealedPledge, true, validUntil, signature, proof, true);
    }

    /// @inheritdoc ISpartacus
    /// @dev Reverts only with `BadBatchSize` (also when `proofs` is not as long as `items`), or
    /// with a proof's error when too little gas was left to tell (see `_checkMember`).
    function pledgeGatedWithSigBatch(
        SignedPledge[] calldata items,
        ISemaphore.SemaphoreProof[] calldata proofs
    ) external {
        if (proofs.length != items.length) revert BadBatchSize(proofs.length, items.length);
        _pledgeBatch(items, proofs);
    }

    /// @inheritdoc ISpartacus
    /// @dev The campaign and size checks come first, then `validUntil` (`SignatureExpired`
    /// once the block time is past it), then the signature: `BadLength(Signature)` for a
    /// signature that is not 65 bytes, `BadSignature(account, signer)` otherwise, with
    /// `signer` 0 when nothing can be recovered.
    function pledgeWithSig(
        uint256 campaignId,
        address account,
        Sealed calldata sealedPledge,
        uint64 validUntil,
        bytes calldata signature
    ) external {
        _pledge(campaignId, account, sealedPledge, true, validUntil, signature, _noProof(), true);
    }

    /// @inheritdoc ISpartacus
    /// @dev Reverts only with `BadBatchSize`; every other failure is an item's
    /// `BatchItemRefused`.
    function pledgeWithSigBatch(SignedPledge[] calldata items) external {
        ISemaphore.SemaphoreProof[] calldata none;
        // An empty calldata array (offset and length 0): the items carry no proofs.
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            none.offset := 0
            none.length := 0
        }
        _pledgeBatch(items, none);
    }

    /// @inheritdoc ISpartacus
    /// @dev Reverts with `WrongStatus` unless the effective status is Open or Pending (an open
    /// campaign past its deadline reads Expired). A pending campaign past its deadline still
    /// takes withdrawals until `finalize` decides it.
    function withdraw(uint256 campaignId) external {
        _withdraw(campaignId, msg.sender, false, 0, msg.data[0:0], true);
    }

    /// @inheritdoc ISpartacus
    /// @dev Same rules as `withdraw`; `validUntil` and the signature are checked last, as in
    /// `pledgeWithSig`.
    function withdrawWithSig(
        uint256 campaignId,
        address account,
        uint64 validUntil,
        bytes calldata signature
    ) external {
        _withdraw(campaignId, account, true, validUntil, signature, true);
    }

    /// @inheritdoc ISpartacus
    /// @dev Reverts only with `BadBatchSize`, as `pledgeWithSigBatch`.
    function withdrawWithSigBatch(SignedWithdraw[] calldata items) external {
        _checkBatchSize(items.length);
        for (uint256 i; i < items.length; ++i) {
            SignedWithdraw calldata item = items[i];
            bytes4 refused = _withdraw(
                item.campaignId, item.account, true, item.validUntil, item.signature, false
            );
            if (refused != 0) emit BatchItemRefused(i, refused);
        }
    }

    /// @inheritdoc ISpartacus
    /// @dev Checks in order: the campaign exists (`UnknownCampaign`), the caller is its creator
    /// (`NotCreator`), it is Revealed (`WrongStatus`), the admission window is open
    /// (`AdmissionClosed`), the batch size (`BadBatchSize`), then each index
    /// (`NotLatePledge`, `AlreadyAdmitted`). Late pledges cannot be withdrawn, so an admitted
    /// pledge stays active.
    function admit(uint256 campaignId, uint32[] calldata indices) external {
        Campaign storage c = _campaigns[campaignId];
        Hot memory h = c.hot;
        if (h.status == Status.None) revert UnknownCampaign(campaignId);
        if (msg.sender != c.creator) revert NotCreator(campaignId, msg.sender);
        if (h.status != Status.Revealed) revert WrongStatus(campaignId, h.status);
        // Cannot overflow: a uint40 deadline plus seven days fits in 64 bits.
        uint64 closesAt = uint64(h.deadline) + uint64(ADMIT_WINDOW);
        if (block.timestamp > closesAt) {
            revert AdmissionClosed(campaignId, closesAt, block.timestamp);
        }
        _checkBatchSize(indices.length);
        uint32 revealPledges = c.revealPledges;
        mapping(uint256 => uint256) storage bitmap = _admitted[campaignId];
        for (uint256 i; i < indices.length; ++i) {
            uint32 index = indices[i];
            if (index <= revealPledges || index > h.pledges || !c.lateJoining) {
                revert NotLatePledge(campaignId, index);
            }
            uint256 bit = 1 << (index & 255);
            uint256 word = bitmap[index >> 8];
            if (word & bit != 0) revert AlreadyAdmitted(campaignId, index);
            bitmap[index >> 8] = word | bit;
            // Cannot overflow: each admitted index is a distinct pledge, so active <= pledges.
            unchecked {
                h.active += 1;
            }
            emit Admitted(campaignId, index, h.active, h.lastEventBlock);
            h.lastEventBlock = uint48(block.number);
        }
        c.hot.active = h.active;
        c.hot.lastEventBlock = h.lastEventBlock;
    }

    /// @inheritdoc ISpartacus
    /// @dev Reverts with `WrongStatus` unless the stored status is Pending, and with
    /// `GraceNotOver` before `graceEnd`. `graceEnd` may lie past the deadline: the grace
    /// period is never cut short, but no pledge is taken after the deadline.
    function finalize(uint256 campaignId) external {
        Campaign storage c = _campaigns[campaignId];
        Hot memory h = c.hot;
        if (h.status != Status.Pending) _revertStatus(campaignId, _effectiveStatus(h));
        if (block.timestamp < h.graceEnd) {
            revert GraceNotOver(campaignId, h.graceEnd, block.timestamp);
        }
        Hot storage hot = c.hot;
        hot.lastEventBlock = uint48(block.number);
        if (h.active >= h.threshold) {
            hot.status = Status.Revealed;
            if (c.lateJoining) c.revealPledges = h.pledges;
            emit ThresholdReached(campaignId, h.active, h.pledges, h.lastEventBlock);
        } else {
            // Past the deadline the reopened campaign reads as Expired; `expire` records it.
            hot.status = Status.Open;
            emit Reopened(campaignId, h.active, h.lastEventBlock);
        }
    }

    /// @inheritdoc ISpartacus
    /// @dev Reverts with `WrongStatus` unless the stored status is Open (a pending campaign is
    /// decided by `finalize`), and with `DeadlineNotPassed` until the deadline has passed.
    function expire(uint256 campaignId) external {
        Campaign storage c = _campaigns[campaignId];
        Hot memory h = c.hot;
        if (h.status != Status.Open) _revertStatus(campaignId, h.status);
        if (block.timestamp <= h.deadline) {
            revert DeadlineNotPassed(campaignId, h.deadline, block.timestamp);
        }
        c.hot.status = Status.Expired;
        c.hot.lastEventBlock = uint48(block.number);
        emit Expired(campaignId, h.active, h.lastEventBlock);
    }

    /// @inheritdoc ISpartacus
    /// @dev Checks in order: the campaign is Revealed (`WrongStatus`), the caller is one of its
    /// custodians (`NotCustodian`), the data is 1 to 98,304 bytes (`BadLength`). The data lives
    /// in the `Released` event only; storage records the block of this event, nothing else.
    function release(uint256 campaignId, bytes calldata data) external {
        Campaign storage c = _campaigns[campaignId];
        Hot memory h = c.hot;
        Status status = _effectiveStatus(h);
        if (status != Status.Revealed) _revertStatus(campaignId, status);
        uint256 index = _custodianIndex(c, h.custodianCount, msg.sender);
        if (index == MAX_CUSTODIANS) revert NotCustodian(campaignId, msg.sender);
        if (data.length == 0 || data.length > MAX_RELEASE) {
            revert BadLength(Field.ReleaseData, data.length, MAX_RELEASE);
        }
        c.hot.lastEventBlock = uint48(block.number);
        emit Released(campaignId, msg.sender, uint8(index), data, h.lastEventBlock);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISpartacus
    function campaignCount() external view returns (uint256) {
        return _campaignCount;
    }

    /// @inheritdoc ISpartacus
    /// @dev Reverts with `UnknownCampaign` for an unknown id.
    function campaign(uint256 campaignId) external view returns (CampaignInfo memory info) {
        Campaign storage c = _campaigns[campaignId];
        Hot memory h = c.hot;
        if (h.status == Status.None) revert UnknownCampaign(campaignId);
        address[] memory custodians = new address[](h.custodianCount);
        for (uint256 i; i < custodians.length; ++i) {
            custodians[i] = c.custodians[i];
        }
        info = CampaignInfo({
            status: h.status,
            creator: c.creator,
            threshold: h.threshold,
            active: h.active,
            pledges: h.pledges,
            deadline: h.deadline,
            gracePeriod: c.gracePeriod,
            graceEnd: h.graceEnd,
            custodianThreshold: h.custodianThreshold,
            rosterMode: h.rosterMode,
            metadataHash: c.metadataHash,
            lateJoining: c.lateJoining,
            revealPledges: c.revealPledges,
            custodians: custodians,
            group: c.group,
            lastEventBlock: h.lastEventBlock
        });
    }

    /// @inheritdoc ISpartacus
    /// @dev `None` for an unknown id.
    function statusOf(uint256 campaignId) external view returns (Status) {
        return _effectiveStatus(_campaigns[campaignId].hot);
    }

    /// @inheritdoc ISpartacus
    /// @dev Reverts with `UnknownCampaign` for an unknown id.
    function activeCount(uint256 campaignId) external view returns (uint32) {
        return _known(campaignId).active;
    }

    /// @inheritdoc ISpartacus
    /// @dev Reverts with `UnknownCampaign` for an unknown id.
    function thresholdOf(uint256 campaignId) external view returns (uint32) {
        return _known(campaignId).threshold;
    }

    /// @inheritdoc ISpartacus
    function pledgeOf(uint256 campaignId, address account)
        external
        view
        returns (bool active, uint32 index, uint32 nonce)
    {
        PledgeSlot memory p = _pledges[campaignId][account];
        return (p.active, p.index, p.nonce);
    }

    /// @inheritdoc ISpartacus
    function nonceOf(uint256 campaignId, address account) external view returns (uint256) {
        return _pledges[campaignId][account].nonce;
    }

    /// @inheritdoc ISpartacus
    function admitted(uint256 campaignId, uint32 index) external view returns (bool) {
        return _admitted[campaignId][index >> 8] & (1 << (index & 255)) != 0;
    }

    /// @inheritdoc ISpartacus
    function keyUsed(bytes32 campaignKey) external view returns (bool) {
        return _keyUsed[campaignKey];
    }

    /// @inheritdoc ISpartacus
    function nullifierHolder(uint256 campaignId, uint256 nullifier) external view returns (uint32) {
        return _holder(campaignId, nullifier);
    }

    /// @inheritdoc ISpartacus
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ---------------------------------------------------------------- internals

    /// @dev A pledge, strict (reverts) or soft (returns the error's selector, 0 on success);
    /// gated when `proof` is given (see `_noProof`).
    function _pledge(
        uint256 campaignId,
        address account,
        Sealed calldata sealedPledge,
        bool signed,
        uint64 validUntil,
        bytes calldata signature,
        ISemaphore.SemaphoreProof calldata proof,
        bool strict
    ) private returns (bytes4 refused) {
        uint32 nonce;
        (refused, nonce) = _checkPledge(campaignId, account, sealedPledge, strict);
        if (refused != 0) return refused;
        bool gated = _given(proof);
        {
            bytes32 structHash = bytes32(0); // unsigned pledges carry no proof (see _checkMember)
            if (signed) {
                structHash = _pledgeHash(campaignId, sealedPledge, nonce, validUntil);
                refused = _checkSignature(account, structHash, validUntil, signature, strict);
                if (refused != 0) return refused;
            }
            refused = _checkMember(campaignId, account, structHash, proof, gated, strict);
            if (refused != 0) return refused;
        }
        uint32 index = _recordPledge(campaignId, account, sealedPledge, nonce, gated);
        if (gated) _recordMember(campaignId, account, index, proof.nullifier);
        return 0;
    }

    /// @dev Signed pledges, open (`proofs` empty) or gated (`proofs[i]` for item i), soft.
    function _pledgeBatch(SignedPledge[] calldata items, ISemaphore.SemaphoreProof[] calldata proofs)
        private
    {
        _checkBatchSize(items.length);
        for (uint256 i; i < items.length; ++i) {
            SignedPledge calldata item = items[i];
            bytes4 refused = _pledge(
                item.campaignId,
                item.account,
                item.sealedPledge,
                true,
                item.validUntil,
                item.signature,
                proofs.length == 0 ? _noProof() : proofs[i],
                false
            );
            if (refused != 0) emit BatchItemRefused(i, refused);
        }
    }

    /// @dev "No proof": a calldata pointer at offset 0, where no real argument can start (the
    /// selector is there). Never read: `_given` tells it apart.
    function _noProof() private pure returns (ISemaphore.SemaphoreProof calldata proof) {
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            proof := 0
        }
    }

    function _given(ISemaphore.SemaphoreProof calldata proof) private pure returns (bool given) {
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            given := iszero(iszero(proof))
        }
    }

    /// @dev `MembershipRequired` (gated campaign, no proof) or `NotGated` (open campaign, a
    /// proof); with a proof, then `NullifierInUse` (cheap, so before the proof), then the
    /// proof (message: `keccak256(abi.encode(digest of the signed Pledge, account))`, see
    /// `pledgeGatedWithSig`). Strict or soft.
    function _checkMember(
        uint256 campaignId,
        address account,
        bytes32 pledgeStructHash,
        ISemaphore.SemaphoreProof calldata proof,
        bool gated,
        bool strict
    ) private view returns (bytes4) {
        uint256 group = _campaigns[campaignId].group;
        if (gated != (group != 0)) {
            bytes4 selector = gated ? NotGated.selector : MembershipRequired.selector;
            return _refuse(strict, abi.encodeWithSelector(selector, campaignId, group));
        }
        if (!gated) return 0;
        uint32 holder = _holder(campaignId, proof.nullifier);
        if (holder != 0) {
            return _refuse(
                strict,
                abi.encodeWithSelector(NullifierInUse.selector, campaignId, proof.nullifier, holder)
            );
        }
        uint256 gasBefore = gasleft();
        // A view (STATICCALL) of our own groups contract: it returns true or reverts. In a
        // batch it runs once per gated item, each failure caught and refused on its own.
        // slither-disable-next-line unused-return,calls-loop
        try ISpartacusGroups(groups).verifyMembership(
            group,
            MembershipScope.scope(address(this), campaignId),
            uint256(keccak256(abi.encode(_hashTypedDataV4(pledgeStructHash), account))),
            proof
        ) returns (bool) {
            return 0;
        } catch (bytes memory reason) {
            // With little gas left the verifier may have said no for want of gas (its pairing
            // precompile ran out): revert the whole call, so that estimates find enough gas.
            return _refuse(strict || gasleft() < gasBefore / 16, reason);
        }
    }

    /// @dev The nullifier's slot and event of a gated pledge recorded at `index`.
    function _recordMember(uint256 campaignId, address account, uint32 index, uint256 nullifier)
        private
    {
        _nullifiers[campaignId][nullifier] = NullifierSlot(account, index);
        // Right after the pledge's `Pledged`, in the same block.
        emit MemberPledged(campaignId, index, nullifier, uint48(block.number));
    }

    /// @dev The index of the active pledge that holds `nullifier` in the campaign, 0 if none.
    function _holder(uint256 campaignId, uint256 nullifier) private view returns (uint32) {
        NullifierSlot memory n = _nullifiers[campaignId][nullifier];
        // Index 0 is no pledge (indices start at 1): an exact test of a stored value.
        // slither-disable-next-line incorrect-equality
        if (n.index == 0) return 0;
        PledgeSlot memory p = _pledges[campaignId][n.account];
        // The holder's pledge is the one recorded with the nullifier, still active.
        // slither-disable-next-line incorrect-equality
        return p.active && p.index == n.index ? n.index : 0;
    }

    /// @dev The effects and events of a pledge that passed its checks; a member's late pledge
    /// (gated campaign, after the reveal) is admitted at once. Returns the pledge's index.
    function _recordPledge(
        uint256 campaignId,
        address account,
        Sealed calldata sealedPledge,
        uint32 nonce,
        bool member
    ) private returns (uint32) {
        Campaign storage c = _campaigns[campaignId];
        Hot memory h = c.hot;
        PledgeSlot storage slot = _pledges[campaignId][account];
        h.pledges += 1;
        // A late pledge (after the reveal) is recorded but counted only once admitted.
        bool late = h.status == Status.Revealed;
        // Cannot overflow: active <= pledges, and pledges was just incremented with a check.
        unchecked {
            if (!late || member) h.active += 1;
        }
        // Field by field: copying the whole struct back would rewrite every field.
        Hot storage hot = c.hot;
        hot.pledges = h.pledges;
        hot.active = h.active;
        hot.lastEventBlock = uint48(block.number); // `h` keeps the previous one for the events
        bool reached = h.status == Status.Open && h.active >= h.threshold;
        uint32 gracePeriod = 0;
        if (reached) {
            gracePeriod = c.gracePeriod;
            if (gracePeriod == 0) {
                hot.status = Status.Revealed;
                if (c.lateJoining) c.revealPledges = h.pledges;
            } else {
                // Fits in uint40 until the year 36812 (a block time plus a uint32 period).
                h.graceEnd = uint40(block.timestamp + gracePeriod);
                hot.status = Status.Pending;
                hot.graceEnd = h.graceEnd;
            }
        }
        slot.active = true;
        slot.index = h.pledges;
        slot.nonce = nonce + 1;

        _emitPledged(campaignId, account, h.pledges, sealedPledge, h.active, h.lastEventBlock);
        if (reached) {
            if (gracePeriod == 0) {
                emit ThresholdReached(campaignId, h.active, h.pledges, uint48(block.number));
            } else {
                emit GraceStarted(campaignId, h.graceEnd, h.active, uint48(block.number));
            }
        }
        if (late && member) {
            _admitted[campaignId][h.pledges >> 8] |= 1 << (h.pledges & 255);
            emit Admitted(campaignId, h.pledges, h.active, uint48(block.number));
        }
        return h.pledges;
    }

    /// @dev The checks of a pledge before its signature; returns the pair's nonce.
    function _checkPledge(
        uint256 campaignId,
        address account,
        Sealed calldata sealedPledge,
        bool strict
    ) private view returns (bytes4 refused, uint32 nonce) {
        Hot memory h = _campaigns[campaignId].hot;
        Status status = _effectiveStatus(h);
        if (status == Status.None) {
            return (_refuse(strict, abi.encodeWithSelector(UnknownCampaign.selector, campaignId)), 0);
        }
        if (
            status == Status.Expired || block.timestamp > h.deadline
                || (status == Status.Revealed && !_campaigns[campaignId].lateJoining)
        ) {
            bytes memory reason =
                abi.encodeWithSelector(CampaignClosed.selector, campaignId, status, h.deadline);
            return (_refuse(strict, reason), 0);
        }
        PledgeSlot memory p = _pledges[campaignId][account];
        if (p.active) {
            bytes memory reason =
                abi.encodeWithSelector(AlreadyPledged.selector, campaignId, account);
            return (_refuse(strict, reason), 0);
        }
        if (sealedPledge.memberKey == bytes32(0)) {
            return (_refuse(strict, abi.encodeWithSelector(ZeroKey.selector)), 0);
        }
        uint256 length = sealedPledge.ciphertext.length;
        if (length != PLEDGE_CIPHERTEXT) {
            return (_refuse(strict, _badLength(Field.Ciphertext, length, PLEDGE_CIPHERTEXT)), 0);
        }
        uint256 boxes = _boxesLength(h.custodianCount, h.custodianThreshold);
        length = sealedPledge.boxes.length;
        if (length != boxes) return (_refuse(strict, _badLength(Field.Boxes, length, boxes)), 0);
        return (0, p.nonce);
    }

    function _pledgeHash(
        uint256 campaignId,
        Sealed calldata sealedPledge,
        uint32 nonce,
        uint64 validUntil
    ) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                PLEDGE_TYPEHASH,
                campaignId,
                sealedPledge.memberKey,
                keccak256(sealedPledge.ciphertext),
                keccak256(sealedPledge.boxes),
                sealedPledge.commitment,
                nonce,
                validUntil
            )
        );
    }

    function _emitPledged(
        uint256 campaignId,
        address account,
        uint32 index,
        Sealed calldata sealedPledge,
        uint32 active,
        uint48 previousBlock
    ) private {
        emit Pledged(
            campaignId,
            account,
            index,
            sealedPledge.memberKey,
            sealedPledge.ciphertext,
            sealedPledge.boxes,
            sealedPledge.commitment,
            active,
            previousBlock
        );
    }

    /// @dev A withdrawal, strict or soft as `_pledge`.
    function _withdraw(
        uint256 campaignId,
        address account,
        bool signed,
        uint64 validUntil,
        bytes calldata signature,
        bool strict
    ) private returns (bytes4 refused) {
        Campaign storage c = _campaigns[campaignId];
        Hot memory h = c.hot;
        Status status = _effectiveStatus(h);
        if (status == Status.None) {
            return _refuse(strict, abi.encodeWithSelector(UnknownCampaign.selector, campaignId));
        }
        if (status != Status.Open && status != Status.Pending) {
            return _refuse(
                strict, abi.encodeWithSelector(WrongStatus.selector, campaignId, status)
            );
        }
        PledgeSlot storage slot = _pledges[campaignId][account];
        PledgeSlot memory p = slot;
        if (!p.active) {
            return _refuse(
                strict, abi.encodeWithSelector(NotPledged.selector, campaignId, account)
            );
        }
        if (signed) {
            bytes32 structHash =
                keccak256(abi.encode(WITHDRAW_TYPEHASH, campaignId, p.nonce, validUntil));
            refused = _checkSignature(account, structHash, validUntil, signature, strict);
            if (refused != 0) return refused;
        }

        // Cannot underflow: the account's active pledge is counted in `active`.
        unchecked {
            h.active -= 1;
        }
        c.hot.active = h.active;
        c.hot.lastEventBlock = uint48(block.number);
        slot.active = false;
        slot.nonce = p.nonce + 1;
        emit Withdrawn(campaignId, account, p.index, h.active, h.lastEventBlock);
        return 0;
    }

    function _checkTerms(Terms calldata terms) private view {
        uint256 length = bytes(terms.title).length;
        if (length == 0 || length > MAX_TITLE) revert BadLength(Field.Title, length, MAX_TITLE);
        length = bytes(terms.description).length;
        if (length > MAX_TEXT) revert BadLength(Field.Description, length, MAX_TEXT);
        length = bytes(terms.plan).length;
        if (length > MAX_TEXT) revert BadLength(Field.Plan, length, MAX_TEXT);
        if (terms.threshold < 2) revert ThresholdTooLow(terms.threshold);
        if (terms.deadline <= block.timestamp) {
            revert DeadlineNotInFuture(terms.deadline, block.timestamp);
        }
        if (terms.deadline > type(uint40).max) {
            revert DeadlineTooLate(terms.deadline, type(uint40).max);
        }
        if (terms.group != 0 && terms.group > ISpartacusGroups(groups).groupCount()) {
            revert UnknownGroup(terms.group);
        }
    }

    function _checkInstructions(Sealed calldata instructions, uint256 n, uint8 t) private pure {
        if (instructions.memberKey == bytes32(0)) revert ZeroKey();
        uint256 length = instructions.ciphertext.length;
        uint256 maxLength = CIPHERTEXT_OVERHEAD + BLOCK * MAX_INSTRUCTION_BLOCKS;
        if (
            length < CIPHERTEXT_OVERHEAD + BLOCK || length > maxLength
                || (length - CIPHERTEXT_OVERHEAD) % BLOCK != 0
        ) revert BadLength(Field.Ciphertext, length, maxLength);
        uint256 boxes = _boxesLength(n, t);
        if (instructions.boxes.length != boxes) {
            revert BadLength(Field.Boxes, instructions.boxes.length, boxes);
        }
    }

    /// @dev Checks every endorsement and marks its campaign key used (a revert undoes it), so
    /// that one key listed twice in the same call is caught too.
    function _checkEndorsements(Endorsement[] calldata endorsements) private {
        for (uint256 i; i < endorsements.length; ++i) {
            Endorsement calldata e = endorsements[i];
            for (uint256 j; j < i; ++j) {
                if (endorsements[j].custodian == e.custodian) {
                    revert DuplicateCustodian(e.custodian);
                }
            }
            if (e.expiry < block.timestamp) revert EndorsementExpired(i, e.expiry, block.timestamp);
            if (e.campaignKey == bytes32(0)) revert ZeroKey();
            if (_keyUsed[e.campaignKey]) revert CampaignKeyUsed(e.campaignKey);
            if (e.signature.length != SIGNATURE) {
                revert BadLength(Field.Signature, e.signature.length, SIGNATURE);
            }
            bytes32 structHash =
                keccak256(abi.encode(ENDORSEMENT_TYPEHASH, e.campaignKey, e.expiry));
            // The third value (the error's argument) says nothing the signer check misses.
            // slither-disable-next-line unused-return
            (address signer, ECDSA.RecoverError recoverError,) =
                ECDSA.tryRecoverCalldata(_hashTypedDataV4(structHash), e.signature);
            if (recoverError != ECDSA.RecoverError.NoError || signer != e.custodian) {
                revert BadEndorsement(i, e.custodian, signer);
            }
            _keyUsed[e.campaignKey] = true;
        }
    }

    /// @dev `validUntil`, then the signature's length, then its signer.
    function _checkSignature(
        address account,
        bytes32 structHash,
        uint64 validUntil,
        bytes calldata signature,
        bool strict
    ) private view returns (bytes4) {
        if (block.timestamp > validUntil) {
            return _refuse(
                strict,
                abi.encodeWithSelector(SignatureExpired.selector, validUntil, block.timestamp)
            );
        }
        if (signature.length != SIGNATURE) {
            return _refuse(strict, _badLength(Field.Signature, signature.length, SIGNATURE));
        }
        // slither-disable-next-line unused-return
        (address signer, ECDSA.RecoverError recoverError,) =
            ECDSA.tryRecoverCalldata(_hashTypedDataV4(structHash), signature);
        if (recoverError != ECDSA.RecoverError.NoError || signer != account) {
            return _refuse(
                strict, abi.encodeWithSelector(BadSignature.selector, account, signer)
            );
        }
        return 0;
    }

    function _checkBatchSize(uint256 size) private pure {
        if (size == 0 || size > MAX_BATCH) revert BadBatchSize(size, MAX_BATCH);
    }

    function _badLength(Field field, uint256 length, uint256 expected)
        private
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(BadLength.selector, field, length, expected);
    }

    /// @dev Strict: reverts with `reason`, an ABI-encoded custom error. Soft: returns its
    /// selector, for the batch to report.
    function _refuse(bool strict, bytes memory reason) private pure returns (bytes4) {
        if (strict) {
            // Re-throws an error already ABI-encoded: Solidity has no statement for it.
            // slither-disable-next-line assembly
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
        return bytes4(reason);
    }

    /// @dev The position of `account` among the campaign's custodians, or MAX_CUSTODIANS.
    function _custodianIndex(Campaign storage c, uint256 count, address account)
        private
        view
        returns (uint256)
    {
        for (uint256 i; i < count; ++i) {
            if (c.custodians[i] == account) return i;
        }
        return MAX_CUSTODIANS;
    }

    function _known(uint256 campaignId) private view returns (Hot memory h) {
        h = _campaigns[campaignId].hot;
        if (h.status == Status.None) revert UnknownCampaign(campaignId);
    }

    function _revertStatus(uint256 campaignId, Status status) private pure {
        if (status == Status.None) revert UnknownCampaign(campaignId);
        revert WrongStatus(campaignId, status);
    }

    function _effectiveStatus(Hot memory h) private view returns (Status) {
        if (h.status == Status.Open && block.timestamp > h.deadline) return Status.Expired;
        return h.status;
    }

    function _boxesLength(uint256 n, uint256 t) private pure returns (uint256) {
        return n * (t == 1 ? BOX_T1 : BOX_SHAMIR);
    }
}
