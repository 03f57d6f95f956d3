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


# ------------------------------------------------------------------ chain and storage


class ChainError(SpartacusError):
    """The chain could not be reached, or a transaction failed."""


class ContractRevert(ChainError):
    """The registry refused a call with one of its custom errors."""

    def __init__(self, name: str, args: dict[str, object], message: str) -> None:
        super().__init__(message)
        self.name = name
        self.args_by_name = args


class RegistryNotFound(ChainError):
    """No registry address is configured or recorded for this chain."""


class CampaignStateError(SpartacusError):
    """A step is not possible in the campaign's current state (checked before sending)."""


class KeystoreError(SpartacusError):
    """A keystore file is missing, unreadable, or the passphrase is wrong."""


class MailError(SpartacusError):
    """The mail server could not be reached, refused a login, or failed while sending."""


class UsageError(SpartacusError):
    """A command-line argument or file is invalid."""


class RequestRefused(SpartacusError):
    """The web app or its relayer refused a request; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
