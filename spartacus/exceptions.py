"""One exception hierarchy for the whole package.

Every error says what was wrong and, where it can, what to do about it. The CLI prints
``str(error)`` on one line and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations


class SpartacusError(Exception):
    """Root of every error this package raises on purpose."""


# ------------------------------------------------------------------ protocol crypto


class CryptoError(SpartacusError):
    """A protocol object is malformed, tampered with, or does not match."""


class InvalidSecret(CryptoError):
    """A pledge secret is not 32 bytes, or derives an unusable account key."""


class PayloadTooLarge(CryptoError):
    """A pledge's contact details do not fit into one 256-byte block."""


class InvalidPayload(CryptoError):
    """Decrypted contact details are not the expected padded JSON."""


class InvalidKey(CryptoError):
    """A public or secret key has the wrong length or is zero."""


class InvalidCiphertext(CryptoError):
    """A ciphertext has the wrong length or fails authentication."""


class BoxOpenError(CryptoError):
    """A custodian box could not be opened with the campaign key."""


class BindingMismatch(CryptoError):
    """A box's binding does not name the pledge it arrived in (cut-and-paste)."""


class InvalidShare(CryptoError):
    """Shamir shares are malformed, too few, or inconsistent."""


class CommitmentMismatch(CryptoError):
    """A rebuilt pledge key does not match the pledge's commitment."""


class InvalidRelease(CryptoError):
    """Release data is malformed or fails authentication."""


class InvalidReceipt(CryptoError):
    """A receipt code is malformed or its checksum is wrong."""


class InvalidInvitation(CryptoError):
    """A group invitation code is malformed."""


class ProverError(SpartacusError):
    """The Semaphore prover (Node, tools/semaphore.mjs) failed or is missing."""


# ------------------------------------------------------------------ chain and storage


class ChainError(SpartacusError):
    """The chain could not be reached, or a transaction failed."""


class ContractRevert(ChainError):
    """The registry refused a call: ``name`` is its custom error ("Unknown" where it gave
    none this package knows)."""

    def __init__(self, name: str, args: dict[str, object], message: str) -> None:
        super().__init__(message)
        self.name = name
        self.args_by_name = args


class GroupsNotFound(ChainError):
    """No membership groups contract is configured or recorded for this chain."""


class RegistryNotFound(ChainError):
    """No registry address is configured or recorded for this chain."""


class StateRefused(ChainError):
    """The node keeps no state at the block asked (not an archive node): a campaign's
    ``lastEventBlock`` there is unknown, so its logs are read by scanning block ranges."""


class ResultCapped(ChainError):
    """A provider refused one block's logs for returning too many results."""


class TransactionRefused(ChainError):
    """The node would not take a signed transaction; nothing was sent."""


class FeeAboveCap(TransactionRefused):
    """The network's base fee is above the user's cap (``--max-fee-gwei``); nothing was sent."""


class InsufficientFunds(TransactionRefused):
    """The sending account cannot pay the most the transaction may cost (gas, and on an
    OP-stack chain the L1 data fee); nothing was sent."""


class TransactionInDoubt(ChainError):
    """A transaction was sent, and whether it will be mined is not known: check the chain
    before sending it again. ``tx_hash`` names it."""

    def __init__(self, message: str, tx_hash: str) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class SendInterrupted(TransactionInDoubt):
    """The node stopped answering while the transaction was being sent: it may have arrived."""


class TransactionDropped(TransactionInDoubt):
    """The node lost the transaction and its nonce went to another one: it should never be
    mined, but a node behind a load balancer may still be catching up."""


class Unconfirmed(ChainError):
    """The facts a custodian would act on are not confirmed: too few RPC sources answered,
    they disagree on the confirmed block or on a campaign, or the block's clock jumped.
    Nothing is done on them; the reason names sources by position, never by URL."""


class CampaignStateError(SpartacusError):
    """A step is not possible in the campaign's current state (checked before sending)."""


# ------------------------------------------------------------------ the registry's rules


class RuleViolation(SpartacusError):
    """A request breaks one of the registry's rules, found by ``spartacus.chain.rules``
    before anything is sent. Each subclass is named after the custom error the registry
    would revert with (contracts/interfaces/ISpartacus.sol)."""


class BadLength(RuleViolation):
    """A title, text, ciphertext, boxes or signature has a size the registry refuses."""


class ZeroKey(RuleViolation):
    """A member key is zero."""


class ThresholdTooLow(RuleViolation):
    """A campaign's threshold N is below 2."""


class DeadlineNotInFuture(RuleViolation):
    """A new campaign's deadline is not after the chain's current time."""


class DeadlineTooSoon(DeadlineNotInFuture):
    """A new campaign's deadline is in the future, but sooner than the tools allow
    (``chain.rules.MIN_DEADLINE``): too little time for anyone to join."""


class BadCustodianCount(RuleViolation):
    """A campaign names no custodian, or more than the registry allows."""


class BadCustodianThreshold(RuleViolation):
    """The custodian threshold t is not between 1 and the number of custodians."""


class EndorsementExpired(RuleViolation):
    """A custodian's endorsement expired before the campaign could be created."""


class BadSignature(RuleViolation):
    """A signed pledge or withdrawal is not signed by its account for the expected nonce."""


class MalformedSignature(BadSignature):
    """A signature is not one that any account could have made."""


class CampaignClosed(RuleViolation, CampaignStateError):
    """The campaign takes no more pledges: it expired, or its deadline passed."""


class WrongStatus(RuleViolation, CampaignStateError):
    """The campaign's status does not allow the step (a withdrawal after the reveal)."""


class AlreadyPledged(RuleViolation, CampaignStateError):
    """The account already has an active pledge in the campaign."""


class NotPledged(RuleViolation, CampaignStateError):
    """The account has no active pledge in the campaign."""


class SignatureExpired(RuleViolation):
    """A signed pledge or withdrawal is past its ``validUntil`` (or valid for too long)."""


class NotCreator(RuleViolation, CampaignStateError):
    """Only the campaign's creator may do this (admit late pledges)."""


class NotLatePledge(RuleViolation, CampaignStateError):
    """The index is not a late pledge awaiting admission."""


class AdmissionClosed(RuleViolation, CampaignStateError):
    """The campaign's admission window (its deadline plus ADMIT_WINDOW) has passed."""


class MembershipRequired(RuleViolation):
    """The campaign is gated: a pledge must carry a membership proof of its group."""


class NotGated(RuleViolation):
    """The campaign is open: a pledge to it carries no membership proof."""


class ProofMismatch(RuleViolation):
    """A membership proof was made for another campaign, pledge, account or nonce."""


class NotAMember(RuleViolation):
    """A membership proof does not show membership of the campaign's group (the groups
    contract refuses it: another group, a root no longer accepted, a forged proof)."""


class NullifierInUse(RuleViolation, CampaignStateError):
    """The member already holds an active pledge in the campaign (one per member)."""


class KeystoreError(SpartacusError):
    """A keystore file is missing, unreadable, or the passphrase is wrong."""


class KeyNotForThisRegistry(SpartacusError):
    """A campaign key was issued for another chain or registry than the one asked to use it
    (a copycat registry naming a real custodian's key): nothing is done with it there, and
    the key is kept for the campaign it was issued for."""

    def __init__(self, campaign_key: bytes, issued_for: str, here: str) -> None:
        super().__init__(
            f"campaign key issued for {issued_for}, not this registry ({here}): key "
            f"0x{campaign_key.hex()} is kept for its own registry and never used here "
            "(check --registry or SPARTACUS_REGISTRY)"
        )
        self.campaign_key = campaign_key
        self.issued_for = issued_for
        self.here = here


class CustodianKeyMismatch(SpartacusError):
    """A campaign key the node serves does not match what its custodian signed (or the
    node's own answers disagree): the node, or the site, may be lying. Nothing was sealed
    or sent."""


class KeysUnchecked(SpartacusError):
    """A campaign's custodian keys cannot be checked: its creation transaction cannot be
    read or decoded (created through another contract, or the node would not say)."""


class MailError(SpartacusError):
    """The mail server could not be reached, refused a login, or failed while sending."""


class UsageError(SpartacusError):
    """A command-line argument or file is invalid."""


class DirectoryError(UsageError):
    """A custodian directory file is missing, not JSON, or has a bad entry."""


class ManifestError(UsageError):
    """A site manifest (``static/dist/manifest.json``) is missing, unreadable or malformed,
    or a release's manifest could not be fetched."""


class TooManyReports(UsageError):
    """A campaign already has as many reports waiting as the moderation store keeps."""


class NotPublicAddress(UsageError):
    """A custodian URL names a host that cannot be resolved or is not at public addresses
    only (the web app fetches keys for creators from public custodian daemons only)."""


class RequestRefused(SpartacusError):
    """The web app or its relayer refused a request; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RelayRefused(SpartacusError):
    """A web app's relayer said that nothing was recorded (its own refusal: a 4xx, or 502
    or 503); ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class RelayInDoubt(SpartacusError):
    """A web app's relayer gave no clear answer (504, 500, a proxy's error page, a broken
    connection): what was sent may have been recorded, or may still be. Keep the receipt
    and check before sending again."""
