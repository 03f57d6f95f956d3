"""Reading a campaign event to event (docs/protocol.md, "Reading a campaign").

Every campaign event carries ``previousBlock``, the block of the campaign's event before it,
and ``campaign(id).lastEventBlock`` names the block of its latest. ``campaign_logs`` starts
there (one ``eth_call``), asks ``eth_getLogs`` for that one block filtered by the campaign's
id topic, and follows the smallest ``previousBlock`` of that block's logs back to
``CampaignCreated``: events + 1 calls, whatever the campaign's age and whatever range cap the
provider sets (any cap admits one block). A block whose logs exceed a provider's result cap
is asked again event kind by event kind. ``after`` stops the walk at a block the caller
already holds (a checkpoint), so a restart reads only what is newer.

Only a node that refuses the ``eth_call`` (no state at that block: not an archive node)
sends the reader back to scanning block ranges, which is said in a log line.

A node that times out or answers HTTP 5xx is asked again by web3's own retry
(``HTTPProvider``'s ``exception_retry_configuration``: five attempts with back-off for
``eth_call`` and ``eth_getLogs``); one that keeps failing, or answers a JSON-RPC error,
ends the read with a ``ChainError`` naming the call (``unanswered``), never with a
partial history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from web3.exceptions import ContractLogicError, Web3Exception
from web3.types import BlockIdentifier

from ..exceptions import ChainError, ResultCapped, StateRefused

if TYPE_CHECKING:
    from .events import EventDecoder
    from .registry_reader import RegistryReader

log = logging.getLogger("spartacus.chain")


@dataclass(frozen=True)
class CampaignLog:
    """One raw log of a campaign (``plain_log``'s shape), its decoder and its arguments."""

    log: dict[str, Any]
    decoder: EventDecoder
    args: dict[str, Any]

    @property
    def block(self) -> int:
        return int(self.log["blockNumber"])


def campaign_topic(campaign_id: int) -> str:
    return "0x" + campaign_id.to_bytes(32, "big").hex()


def last_event_block(registry: RegistryReader, campaign_id: int, block: BlockIdentifier) -> int:
    """``campaign(id).lastEventBlock`` as of ``block``; ``StateRefused`` if the node keeps no
    state there (or the call fails otherwise)."""
    try:
        return registry.info(campaign_id, block=block).last_event_block
    except requests.RequestException as exc:
        raise unanswered(f"eth_call campaign({campaign_id}) at block {block!r}", exc) from exc
    except ContractLogicError:
        raise  # the campaign did not exist at that block
    except (Web3Exception, ValueError) as exc:
        raise StateRefused(
            f"the node refused campaign({campaign_id}) at block {block!r}: {exc}"
        ) from exc


def unanswered(call: str, exc: BaseException) -> ChainError:
    """The error for a call the node did not answer even when asked again. It names the
    failure's kind only: a hosted node's URL, which requests puts in its text, holds its key."""
    return ChainError(
        f"{call} failed: the node did not answer ({type(exc).__name__}) after retries; "
        "nothing was read. Try again later, or use another node (--rpc / SPARTACUS_RPC)"
    )


def walk(
    registry: RegistryReader, campaign_id: int, start: int, *, after: int = -1
) -> list[CampaignLog]:
    """The campaign's logs in blocks ``after + 1`` to ``start`` (``start`` being the block of
    an event of it, normally ``lastEventBlock``), oldest first, walking ``previousBlock`` back.
    """
    topics = [None, campaign_topic(campaign_id)]
    found: list[list[CampaignLog]] = []
    block = start
    while block > after and block > 0:
        logs = sorted(
            (
                CampaignLog(raw, decoder, decoder.decode(raw))
                for raw in block_logs(registry, block, topics)
                if (decoder := registry._decoders.get(raw["topics"][0])) is not None
            ),
            key=lambda item: int(item.log["logIndex"]),
        )
        if not logs:
            raise ChainError(
                f"block {block} holds no event of campaign {campaign_id}, though the registry "
                "points there: the node dropped logs or serves another chain"
            )
        found.append(logs)
        previous = min(int(item.args["previousBlock"]) for item in logs)
        if previous >= block:
            raise ChainError(
                f"the events of campaign {campaign_id} in block {block} point to block "
                f"{previous}, not to an earlier one"
            )
        block = previous
    return [item for logs in reversed(found) for item in logs]


def block_logs(registry: RegistryReader, block: int, topics: list[Any]) -> list[dict[str, Any]]:
    """One block's logs of the registry matching ``topics``. A provider that refuses them for
    too many results is asked again for half the event kinds at a time."""
    try:
        return registry.raw_logs(block, block, topics)
    except ResultCapped:
        kinds = (
            list(registry._decoders)
            if topics[0] is None
            else [bytes.fromhex(kind[2:]) for kind in topics[0]]
        )
        if len(kinds) == 1:
            raise
        middle = len(kinds) // 2
        return [
            raw
            for part in (kinds[:middle], kinds[middle:])
            for raw in block_logs(registry, block, [["0x" + k.hex() for k in part], *topics[1:]])
        ]


def scan_fallback(reason: Exception, campaign_id: int, first: int, end: int) -> None:
    log.warning(
        "reading campaign %s by scanning blocks %s to %s, not event to event: %s",
        campaign_id,
        first,
        end,
        reason,
    )


def scan(registry: RegistryReader, campaign_id: int, first: int, end: int) -> list[CampaignLog]:
    """The campaign's logs in blocks ``first..end``, oldest first, read by ranges of
    ``LOG_CHUNK_BLOCKS`` (a range the provider still refuses is halved: ``raw_logs``): the
    fallback when the node refuses the state the walk starts from. It costs one call per
    range however few events the campaign has."""
    topics = [None, campaign_topic(campaign_id)]
    out = []
    for start in range(first, end + 1, LOG_CHUNK_BLOCKS):
        stop = min(end, start + LOG_CHUNK_BLOCKS - 1)
        for raw in registry.raw_logs(start, stop, topics):
            decoder = registry._decoders.get(raw["topics"][0])
            if decoder is not None:
                out.append(CampaignLog(raw, decoder, decoder.decode(raw)))
    return out


# Blocks per eth_getLogs call when scanning: the widest range most hosted providers accept
# (narrower caps are met by halving on their refusal).
LOG_CHUNK_BLOCKS = 10_000
