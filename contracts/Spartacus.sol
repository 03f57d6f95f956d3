// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.37;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {ISpartacus} from "./interfaces/ISpartacus.sol";

/// @title Spartacus registry
/// @notice Holds every collective-action campaign by sequential id; see ISpartacus.
/// @dev Storage layout, chosen so that a pledge touches two slots only:
/// - `Campaign.hot`: everything a pledge or a withdrawal reads and writes, packed into ONE slot;
/// - `Campaign.creator`, `Campaign.gracePeriod`: a second slot, read at the transition to N only;
/// - `Campaign.metadataHash`, then up to 5 custodian slots, read by `release` and views only;
/// - `_pledges[campaignId][account]`: the one slot per (campaign, account).
/// No function loops over pledges or campaigns; loops run over at most 5 custodians.
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

    /// @dev The fields of a campaign a pledge reads and writes: 8+8+4+4+4+1+1+1+1 = 32 bytes.
    struct Hot {
        uint64 deadline;
        uint64 graceEnd;
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
        bytes32 metadataHash;
        address[MAX_CUSTODIANS] custodians;
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
        "bytes32 commitment,uint256 nonce)"
    );
    bytes32 private constant WITHDRAW_TYPEHASH =
        keccak256("Withdraw(uint256 campaignId,uint256 nonce)");

    uint256 private _campaignCount;
    mapping(uint256 campaignId => Campaign) private _campaigns;
    mapping(uint256 campaignId => mapping(address account => PledgeSlot)) private _pledges;
    mapping(bytes32 campaignKey => bool) private _keyUsed;

    constructor() EIP712("Spartacus", "1") {}

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
        c.hot = Hot({
            deadline: terms.deadline,
            graceEnd: 0,
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
        c.metadataHash = metadataHash;
        for (uint256 i; i < n; ++i) {
            c.custodians[i] = endorsements[i].custodian;
        }

        emit CampaignCreated(campaignId, msg.sender, terms, metadataHash);
        for (uint256 i; i < n; ++i) {
            Endorsement calldata e = endorsements[i];
            emit CustodianAssigned(campaignId, e.custodian, uint8(i), e.campaignKey);
        }
        emit InstructionsSealed(campaignId, instructions);
    }

    /// @inheritdoc ISpartacus
    /// @dev Reverts with `CampaignClosed` once the effective status is Expired or the deadline
    /// has passed; pledges after the reveal are accepted until the deadline.
    function pledge(uint256 campaignId, Sealed calldata sealedPledge) external {
        _pledge(campaignId, msg.sender, sealedPledge, false, msg.data[0:0]);
    }

    /// @inheritdoc ISpartacus
    /// @dev The campaign and size checks come first, then the signature: `BadLength(Signature)`
    /// for a signature that is not 65 bytes, `BadSignature(account, signer)` otherwise, with
    /// `signer` 0 when nothing can be recovered.
    function pledgeWithSig(
        uint256 campaignId,
        address account,
        Sealed calldata sealedPledge,
        bytes calldata signature
    ) external {
        _pledge(campaignId, account, sealedPledge, true, signature);
    }

    /// @inheritdoc ISpartacus
    /// @dev Reverts with `WrongStatus` unless the effective status is Open or Pending (an open
    /// campaign past its deadline reads Expired). A pending campaign past its deadline still
    /// takes withdrawals until `finalize` decides it.
    function withdraw(uint256 campaignId) external {
        _withdraw(campaignId, msg.sender, false, msg.data[0:0]);
    }

    /// @inheritdoc ISpartacus
    /// @dev Same rules as `withdraw`; the signature is checked last, as in `pledgeWithSig`.
    function withdrawWithSig(uint256 campaignId, address account, bytes calldata signature)
        external
    {
        _withdraw(campaignId, account, true, signature);
    }

    /// @inheritdoc ISpartacus
    /// @dev Reverts with `WrongStatus` unless the stored status is Pending, and with
    /// `GraceNotOver` before `graceEnd`.
    function finalize(uint256 campaignId) external {
        Campaign storage c = _campaigns[campaignId];
        Hot memory h = c.hot;
        if (h.status != Status.Pending) _revertStatus(campaignId, _effectiveStatus(h));
        if (block.timestamp < h.graceEnd) {
            revert GraceNotOver(campaignId, h.graceEnd, block.timestamp);
        }
        if (h.active >= h.threshold) {
            c.hot.status = Status.Revealed;
            emit ThresholdReached(campaignId, h.active, h.pledges);
        } else if (block.timestamp > h.deadline) {
            c.hot.status = Status.Expired;
            emit Expired(campaignId, h.active);
        } else {
            c.hot.status = Status.Open;
            emit Reopened(campaignId, h.active);
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
        emit Expired(campaignId, h.active);
    }

    /// @inheritdoc ISpartacus
    /// @dev Checks in order: the campaign is Revealed (`WrongStatus`), the caller is one of its
    /// custodians (`NotCustodian`), the data is 1 to 98,304 bytes (`BadLength`). Storage is
    /// not written; the data lives in the `Released` event only.
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
        emit Released(campaignId, msg.sender, uint8(index), data);
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
            custodians: custodians
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
    function keyUsed(bytes32 campaignKey) external view returns (bool) {
        return _keyUsed[campaignKey];
    }

    /// @inheritdoc ISpartacus
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ---------------------------------------------------------------- internals

    function _pledge(
        uint256 campaignId,
        address account,
        Sealed calldata sealedPledge,
        bool signed,
        bytes calldata signature
    ) private {
        Campaign storage c = _campaigns[campaignId];
        Hot memory h = c.hot;
        PledgeSlot storage slot = _pledges[campaignId][account];
        uint32 nonce = _checkPledge(campaignId, account, h, slot, sealedPledge);
        if (signed) {
            _checkSignature(account, _pledgeHash(campaignId, sealedPledge, nonce), signature);
        }

        h.pledges += 1;
        // Cannot overflow: active <= pledges, and pledges was just incremented with a check.
        unchecked {
            h.active += 1;
        }
        // Field by field: copying the whole struct back would rewrite every field.
        Hot storage hot = c.hot;
        hot.pledges = h.pledges;
        hot.active = h.active;
        bool reached = h.status == Status.Open && h.active >= h.threshold;
        uint32 gracePeriod;
        if (reached) {
            gracePeriod = c.gracePeriod;
            if (gracePeriod == 0) {
                hot.status = Status.Revealed;
            } else {
                uint256 end = block.timestamp + gracePeriod;
                // Fits in uint64: it is at most the deadline.
                h.graceEnd = end < h.deadline ? uint64(end) : h.deadline;
                hot.status = Status.Pending;
                hot.graceEnd = h.graceEnd;
            }
        }
        slot.active = true;
        slot.index = h.pledges;
        slot.nonce = nonce + 1;

        _emitPledged(campaignId, account, h.pledges, sealedPledge, h.active);
        if (reached) {
            if (gracePeriod == 0) emit ThresholdReached(campaignId, h.active, h.pledges);
            else emit GraceStarted(campaignId, h.graceEnd, h.active);
        }
    }

    /// @dev The checks of a pledge before its signature; returns the pair's nonce.
    function _checkPledge(
        uint256 campaignId,
        address account,
        Hot memory h,
        PledgeSlot storage slot,
        Sealed calldata sealedPledge
    ) private view returns (uint32 nonce) {
        Status status = _effectiveStatus(h);
        if (status == Status.None) revert UnknownCampaign(campaignId);
        if (status == Status.Expired || block.timestamp > h.deadline) {
            revert CampaignClosed(campaignId, status, h.deadline);
        }
        PledgeSlot memory p = slot;
        if (p.active) revert AlreadyPledged(campaignId, account);
        if (sealedPledge.memberKey == bytes32(0)) revert ZeroKey();
        uint256 length = sealedPledge.ciphertext.length;
        if (length != PLEDGE_CIPHERTEXT) {
            revert BadLength(Field.Ciphertext, length, PLEDGE_CIPHERTEXT);
        }
        uint256 boxes = _boxesLength(h.custodianCount, h.custodianThreshold);
        length = sealedPledge.boxes.length;
        if (length != boxes) revert BadLength(Field.Boxes, length, boxes);
        return p.nonce;
    }

    function _pledgeHash(uint256 campaignId, Sealed calldata sealedPledge, uint32 nonce)
        private
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                PLEDGE_TYPEHASH,
                campaignId,
                sealedPledge.memberKey,
                keccak256(sealedPledge.ciphertext),
                keccak256(sealedPledge.boxes),
                sealedPledge.commitment,
                nonce
            )
        );
    }

    function _emitPledged(
        uint256 campaignId,
        address account,
        uint32 index,
        Sealed calldata sealedPledge,
        uint32 active
    ) private {
        emit Pledged(
            campaignId,
            account,
            index,
            sealedPledge.memberKey,
            sealedPledge.ciphertext,
            sealedPledge.boxes,
            sealedPledge.commitment,
            active
        );
    }

    function _withdraw(uint256 campaignId, address account, bool signed, bytes calldata signature)
        private
    {
        Campaign storage c = _campaigns[campaignId];
        Hot memory h = c.hot;
        Status status = _effectiveStatus(h);
        if (status != Status.Open && status != Status.Pending) _revertStatus(campaignId, status);
        PledgeSlot storage slot = _pledges[campaignId][account];
        PledgeSlot memory p = slot;
        if (!p.active) revert NotPledged(campaignId, account);
        if (signed) {
            _checkSignature(
                account, keccak256(abi.encode(WITHDRAW_TYPEHASH, campaignId, p.nonce)), signature
            );
        }

        // Cannot underflow: the account's active pledge is counted in `active`.
        unchecked {
            h.active -= 1;
        }
        c.hot.active = h.active;
        slot.active = false;
        slot.nonce = p.nonce + 1;
        emit Withdrawn(campaignId, account, p.index, h.active);
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
            (address signer, ECDSA.RecoverError recoverError,) =
                ECDSA.tryRecoverCalldata(_hashTypedDataV4(structHash), e.signature);
            if (recoverError != ECDSA.RecoverError.NoError || signer != e.custodian) {
                revert BadEndorsement(i, e.custodian, signer);
            }
            _keyUsed[e.campaignKey] = true;
        }
    }

    function _checkSignature(address account, bytes32 structHash, bytes calldata signature)
        private
        view
    {
        if (signature.length != SIGNATURE) {
            revert BadLength(Field.Signature, signature.length, SIGNATURE);
        }
        (address signer, ECDSA.RecoverError recoverError,) =
            ECDSA.tryRecoverCalldata(_hashTypedDataV4(structHash), signature);
        if (recoverError != ECDSA.RecoverError.NoError || signer != account) {
            revert BadSignature(account, signer);
        }
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
