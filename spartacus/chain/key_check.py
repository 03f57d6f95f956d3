"""Checking a campaign's custodian keys before a pledge is sealed to them.

A lying node (or a proxy in front of it) can rewrite the keys in ``CustodianAssigned`` logs;
a pledge sealed to its key is readable by it at once. Since v2 the ``CustodianAssigned``
event carries the custodian's endorsement (expiry and EIP-712 signature), so the check needs
the logs alone: each signature must recover to the custodian the log names, over the key
the log names, for this chain and registry (``spartacus.protocol.endorsement_signer``). A
node can invent a whole custodian (its own account, key and signature), but not a signature
by a real custodian's account: the directory (``spartacus.chain.directory``) names a
custodian only when its known account signed the key, so an invented one shows as unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import protocol
from ..exceptions import CryptoError, CustodianKeyMismatch, KeysUnchecked
from .creation import Endorsement
from .directory import CustodianDirectory, custodian_label
from .records import Custodian, History

if TYPE_CHECKING:
    from .registry import Registry

NOTHING_SENT = "the node (or the site) may be lying: nothing was sealed or sent"


@dataclass(frozen=True)
class CheckedKey:
    """A custodian whose campaign key was checked against its endorsement signature."""

    index: int
    account: str
    campaign_key: bytes
    label: dict[str, Any]  # spartacus.chain.directory.custodian_label


def logged_endorsements(history: History) -> list[Endorsement]:
    """The endorsements the ``CustodianAssigned`` logs carry, in custodian order.

    ``KeysUnchecked`` if a log carries no signature (a registry older than v2).
    """
    ordered = sorted(history.custodians, key=lambda c: c.index)
    if any(not c.signature for c in ordered):
        raise KeysUnchecked(
            f"campaign {history.campaign_id}'s CustodianAssigned logs carry no endorsement "
            "signatures (a registry older than protocol v2?)"
        )
    return [Endorsement(c.account, c.campaign_key, c.expiry, c.signature) for c in ordered]


def _field(value: Any, key: str, position: int) -> Any:
    return value[key] if hasattr(value, "keys") else value[position]


def check_keys(
    chain_id: int,
    registry: str,
    custodians: Sequence[Custodian],
    endorsements: Sequence[Endorsement],
    directory: CustodianDirectory,
    *,
    operator_account: str | None = None,
    listed: str = "listed by this site",
) -> list[CheckedKey]:
    """Each custodian's key, as the logs name it, checked against the endorsement in the
    creation call; ``CustodianKeyMismatch`` naming the custodian at the first that fails.

    A key matches when the call endorsed that same key for that same custodian at the same
    position, and the signature over (chain, registry, key, expiry) recovers to the
    custodian's account. The label names the custodian only when the directory knows the
    signing account.
    """
    ordered = sorted(custodians, key=lambda c: c.index)
    if [c.index for c in ordered] != list(range(len(endorsements))):
        raise CustodianKeyMismatch(
            f"the node lists {len(ordered)} custodians (positions "
            f"{[c.index + 1 for c in ordered]}) but the creation transaction endorses "
            f"{len(endorsements)}; {NOTHING_SENT}"
        )
    out = []
    for custodian, endorsement in zip(ordered, endorsements, strict=True):
        label = custodian_label(
            custodian.account, directory, operator_account=operator_account, listed=listed
        )
        who = f"custodian {custodian.index + 1} ({label['name'] or custodian.account})"
        served = "0x" + custodian.campaign_key.hex()
        if endorsement.custodian.lower() != custodian.account.lower():
            raise CustodianKeyMismatch(
                f"{who}: the node names account {custodian.account}, but the creation "
                f"transaction names {endorsement.custodian}; {NOTHING_SENT}"
            )
        if endorsement.campaign_key != custodian.campaign_key:
            raise CustodianKeyMismatch(
                f"{who}: the campaign key the node serves ({served}) is not the key this "
                f"custodian signed (0x{endorsement.campaign_key.hex()}); {NOTHING_SENT}"
            )
        try:
            signer = protocol.endorsement_signer(
                chain_id,
                registry,
                custodian.campaign_key,
                endorsement.expiry,
                endorsement.signature,
            )
        except CryptoError as exc:
            raise CustodianKeyMismatch(f"{who}: {exc}; {NOTHING_SENT}") from None
        if signer.lower() != custodian.account.lower():
            raise CustodianKeyMismatch(
                f"{who}: the campaign key the node serves ({served}) was not signed by this "
                f"custodian (the signature is by {signer}); {NOTHING_SENT}"
            )
        out.append(CheckedKey(custodian.index, custodian.account, custodian.campaign_key, label))
    return out


def verify_campaign_keys(
    registry: Registry,
    history: History,
    directory: CustodianDirectory,
    *,
    listed: str = "listed by this site",
) -> list[CheckedKey]:
    """Check every custodian key of ``history`` against the endorsement its log carries."""
    endorsements = logged_endorsements(history)
    return check_keys(
        registry.chain_id,
        registry.address,
        history.custodians,
        endorsements,
        directory,
        listed=listed,
    )
