"""Checking a campaign's custodian keys before a pledge is sealed to them.

A lying node (or a proxy in front of it) can rewrite the keys in ``CustodianAssigned`` logs;
a pledge sealed to its key is readable by it at once. The ``CustodianAssigned`` event does
not carry the custodian's endorsement signature, but the ``createCampaign`` call that
emitted it does: the creation transaction is read (``eth_getTransactionByHash`` of the
``CampaignCreated`` log) and its input decoded with the registry's ABI. Each key the logs
name must be the key in the call, and the endorsement signature must recover to the
custodian the logs name (``spartacus.protocol.endorsement_signer``). A node can invent a
whole custodian (its own account, key and signature), but not a signature by a real
custodian's account: the directory (``spartacus.chain.directory``) names a custodian only
when its known account signed the key, so an invented one shows as unknown.

Campaigns created through another contract (a multisig, a batching contract) have no
``createCampaign`` call in their transaction's input: ``KeysUnchecked`` says so, and the
caller decides (the CLI refuses unless told ``--unchecked-keys``; the page refuses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_utils import to_checksum_address
from web3.exceptions import TransactionNotFound

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


def creation_endorsements(registry: Registry, history: History) -> list[Endorsement]:
    """The endorsements in the ``createCampaign`` call that created the campaign.

    ``KeysUnchecked`` when the transaction cannot be read or is not a direct call.
    """
    campaign = history.campaign_id
    terms = history.terms
    if terms is None or not terms.transaction_hash:
        raise KeysUnchecked(f"campaign {campaign}'s creation transaction is not known")
    try:
        tx = registry.w3.eth.get_transaction(terms.transaction_hash)  # type: ignore[arg-type]
    except (TransactionNotFound, ValueError) as exc:  # a node that cannot reply still raises
        raise KeysUnchecked(
            f"the node did not return campaign {campaign}'s creation transaction "
            f"{terms.transaction_hash} ({type(exc).__name__})"
        ) from None
    target = tx.get("to")
    if not target or to_checksum_address(target) != registry.address:
        raise KeysUnchecked(
            f"campaign {campaign} was created by a call to {target}, not directly to the "
            "registry (through another contract?), so its endorsement signatures cannot be "
            "read from the transaction"
        )
    try:
        function, args = registry.contract.decode_function_input(bytes(tx["input"]))
    except Exception:  # noqa: BLE001 - any undecodable input is the same answer
        function, args = None, {}
    if function is None or function.fn_name != "createCampaign":
        raise KeysUnchecked(
            f"campaign {campaign}'s creation transaction {terms.transaction_hash} is not a "
            "createCampaign call, so its endorsement signatures cannot be read"
        )
    return [
        Endorsement(
            to_checksum_address(_field(e, "custodian", 0)),
            bytes(_field(e, "campaignKey", 1)),
            int(_field(e, "expiry", 2)),
            bytes(_field(e, "signature", 3)),
        )
        for e in args["endorsements"]
    ]


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
    """Read the creation call's endorsements and check every custodian key of ``history``."""
    endorsements = creation_endorsements(registry, history)
    return check_keys(
        registry.chain_id,
        registry.address,
        history.custodians,
        endorsements,
        directory,
        listed=listed,
    )
