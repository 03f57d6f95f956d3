"""Signed items sent together through the registry's batch entry points.

The registry takes signed pledges and withdrawals one by one (``pledgeWithSig``,
``withdrawWithSig``) or up to ``MAX_BATCH`` at a time (``pledgeWithSigBatch``,
``withdrawWithSigBatch``). A batch reverts only for its size; an item that would revert on
its own is skipped with ``BatchItemRefused(index, errorSelector)`` and the others go on.

A ``BatchKind`` names one such pair of entry points and the event an accepted item emits.
Each batch struct has the single call's arguments in the same order (a gated pledge's
proof, the last one, goes in an array of its own next to the structs), so an item is one
tuple of arguments whichever way it is sent, and each kind is one ``BatchKind``. Sending
is the caller's (``Registry.pledge_with_sig_batch``, the web relayer's mixer): this module
builds the calls, checks an item alone against the latest state, and reads each item's
outcome from a mined batch's receipt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from web3.exceptions import ContractCustomError, ContractLogicError

from ..exceptions import ContractRevert
from .events import decode_receipt
from .reverts import decode_revert

if TYPE_CHECKING:
    from .registry import Registry


@dataclass(frozen=True)
class BatchKind:
    """One kind of signed item and the registry's entry points for it."""

    name: str  # "pledge", "withdraw": what the relayer and its queue call it
    single: str  # the entry point for one item
    batch: str  # the entry point for many
    event: str  # the event an accepted item emits
    leaving: bool = False  # a withdrawal: may spend the relayer's withdraw reserve
    # The single call's last ``parallel`` arguments go to the batch as arrays of their own,
    # one entry per item, after the array of structs (a gated pledge's proofs).
    parallel: int = 0


PLEDGE = BatchKind("pledge", "pledgeWithSig", "pledgeWithSigBatch", "Pledged")
GATED = BatchKind("gated", "pledgeGatedWithSig", "pledgeGatedWithSigBatch", "Pledged", parallel=1)
WITHDRAW = BatchKind(
    "withdraw", "withdrawWithSig", "withdrawWithSigBatch", "Withdrawn", leaving=True
)
KINDS: dict[str, BatchKind] = {kind.name: kind for kind in (PLEDGE, GATED, WITHDRAW)}


@dataclass(frozen=True)
class BatchOutcome:
    """One item of a batch: accepted (``event`` holds its event's arguments, and ``index``
    a pledge's index), or refused with the custom error named ``refused``."""

    item: int
    index: int | None = None
    refused: str | None = None
    event: dict[str, Any] = field(default_factory=dict, compare=False)
    selector: bytes = b""


def single_call(registry: Registry, kind: BatchKind, args: tuple[Any, ...]) -> Any:
    """The contract function sending one item alone."""
    return getattr(registry.contract.functions, kind.single)(*args)


def batch_call(registry: Registry, kind: BatchKind, items: list[tuple[Any, ...]]) -> Any:
    """The contract function sending ``items`` (each the single call's arguments) at once."""
    cut = len(items[0]) - kind.parallel if items else 0
    structs = [item[:cut] for item in items]
    arrays = [[item[cut + j] for item in items] for j in range(kind.parallel)]
    return getattr(registry.contract.functions, kind.batch)(structs, *arrays)


def check_alone(
    registry: Registry,
    kind: BatchKind,
    args: tuple[Any, ...],
    sender: str,
    block: int | str = "latest",
) -> None:
    """Run the item alone as a call from ``sender`` on the state of ``block``: the
    registry's own checks (status, deadline, nonce, signature, ``validUntil``). Raises
    ``ContractRevert`` with the custom error in words when it would revert."""
    try:
        single_call(registry, kind, args).call({"from": sender}, block_identifier=block)
    except ContractCustomError as exc:
        data = exc.data if isinstance(exc.data, str) else ""
        raise decode_revert(registry.errors, data) from None
    except ContractLogicError as exc:
        raise ContractRevert("Unknown", {}, f"the registry refused the call: {exc}") from None


def outcomes(registry: Registry, kind: BatchKind, receipt: Any, size: int) -> list[BatchOutcome]:
    """Each item's outcome, in order, from the receipt of a mined batch of ``size`` items.

    Accepted items emit ``kind.event`` in item order; refused ones ``BatchItemRefused``."""
    refused: dict[int, bytes] = {}
    accepted: list[dict[str, Any]] = []
    for name, args in decode_receipt(registry, receipt):
        if name == "BatchItemRefused":
            refused[int(args["index"])] = bytes(args["errorSelector"])
        elif name == kind.event:
            accepted.append(dict(args))
    events = iter(accepted)
    out = []
    for i in range(size):
        if i in refused:
            out.append(
                BatchOutcome(i, refused=registry.error_name(refused[i]), selector=refused[i])
            )
        else:
            event = next(events, {})
            index = int(event["index"]) if "index" in event and kind.event == "Pledged" else None
            out.append(BatchOutcome(i, index, event=event))
    return out


def explain_refusal(
    registry: Registry, kind: BatchKind, args: tuple[Any, ...], name: str, sender: str, block: int
) -> str:
    """Why an item was refused in a batch mined in ``block``, in words.

    The event carries only the error's selector; the item is replayed alone on the state
    after that block, which names the values (the status, the deadline, the signer) when it
    fails the same way. Otherwise the error's name is all that can be said."""
    try:
        check_alone(registry, kind, args, sender, block)
    except ContractRevert as revert:
        if revert.name == name:
            return str(revert)
    except Exception:  # noqa: BLE001 - a replay that cannot run still leaves the name
        pass
    return f"the registry refused it ({name})"
