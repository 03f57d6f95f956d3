"""What a custodian believes: facts read at one block that a quorum of RPC sources agree on.

A custodian must not release or destroy keys on the word of one node: a provider serving a
fork (the real chain up to some block, its own blocks after) can show a campaign revealed
or expired that is neither. So every pass:

1. each source names its *confirmed* height: the block at the ``finalized`` or ``safe`` tag,
   or ``latest`` minus a number of confirmations (local chains);
2. the lowest height named is the confirmed block; every source is asked for the block AT
   THAT NUMBER (``eth_getBlockByNumber``), and at least ``required`` of them must return
   the same hash and time. Never ask only by hash: a fork answers by-hash queries for the
   honest chain's blocks with honest data while serving its own state;
3. a campaign's facts (``statusOf`` and the stored campaign) are read at that block number
   from the agreeing sources, and before anything is released, the roster the release is
   built from (custodians, instructions, active pledges) too: ``required`` of them must
   give the same answer.

The campaigns that name the custodian (its ``CustodianAssigned`` logs) are taken only as
``required`` of those sources report them. The first source is the *primary*: it sends the
transactions, and its logs are what the daemon plans from, so it must be among the sources
that agree. Anything short of that
raises ``Unconfirmed``; so does a confirmed block whose clock jumps (``check_clock``).
With a single source nothing is compared, and its errors reach the caller unchanged.
Sources are named by position ("source 2"), never by URL: a hosted node's URL holds its
API key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from hexbytes import HexBytes

from ..exceptions import Unconfirmed
from .checkpoint import Checkpoints, history_of
from .events import custodian_assignments
from .health import describe_failure
from .records import Assignment, CampaignInfo, History, Status, iso
from .registry import Registry
from .registry_reader import status_at

TAGS = ("finalized", "safe", "latest")

T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True)
class Confirmed:
    """The block a pass acts on, and the sources (by position, 0 = primary) that agree."""

    number: int
    hash: str
    timestamp: int
    sources: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "block": self.number,
            "hash": self.hash,
            "time": self.timestamp,
            "sources": [label(i) for i in self.sources],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Confirmed:
        return cls(int(data["block"]), str(data["hash"]), int(data["time"]), ())


@dataclass(frozen=True)
class CampaignFacts:
    """A campaign as the quorum sees it at the confirmed block."""

    status: Status  # statusOf
    info: CampaignInfo  # the stored campaign


def label(position: int) -> str:
    return f"source {position + 1}"


class Quorum:
    """Reads one registry through several RPC sources (``registries``, one per source, the
    primary first) and returns only what ``required`` of them agree on."""

    def __init__(
        self,
        registries: Sequence[Registry],
        required: int | None = None,
        *,
        tag: str = "finalized",
        confirmations: int = 0,
    ) -> None:
        if not registries:
            raise ValueError("a quorum needs at least one source")
        if tag not in TAGS:
            raise ValueError(f"unknown block tag {tag!r}; use one of {', '.join(TAGS)}")
        self.registries = list(registries)
        self.required = len(self.registries) if required is None else required
        if not 1 <= self.required <= len(self.registries):
            raise ValueError(f"a quorum of {self.required} from {len(self.registries)} source(s)")
        self.tag = tag
        self.confirmations = confirmations if tag == "latest" else 0
        self.confirmed: Confirmed | None = None
        self._chain_checked: set[int] = set()
        self._facts: dict[int, CampaignFacts] = {}
        self._pool: ThreadPoolExecutor | None = None
        # The custodian daemon's checkpoints (its state folder): what was agreed at an earlier
        # confirmed block is not read again (spartacus.chain.checkpoint).
        self.checkpoints: Checkpoints | None = None

    @property
    def primary(self) -> Registry:
        return self.registries[0]

    @property
    def size(self) -> int:
        return len(self.registries)

    def describe(self) -> dict[str, Any]:
        """How the daemon decides, for logs and ``/health``."""
        out: dict[str, Any] = {"sources": self.size, "quorum": self.required, "tag": self.tag}
        if self.tag == "latest":
            out["confirmations"] = self.confirmations
        return out

    # ------------------------------------------------------------ the confirmed block

    def confirm(self) -> Confirmed | None:
        """The block this pass acts on (None while it is older than the registry)."""
        self.confirmed = None
        self._facts.clear()
        if self.checkpoints is not None:
            self.checkpoints.new_pass()
        heights = self._ask(self._height, range(self.size))
        answered = {i: h for i, h in heights.items() if isinstance(h, int)}
        self._enough(heights, "the confirmed block")
        number = min(answered.values())
        if number < self.primary.from_block:
            return None
        blocks = self._ask(lambda i: self._block(i, number), answered)
        (_, block_hash, timestamp), agreeing = self._agree(
            blocks, f"block {number}", lambda b: f"{b[1][:12]}… at {iso(b[2])}"
        )
        if 0 not in agreeing:
            raise Unconfirmed(
                f"{label(0)}, which sends the transactions, disagrees with the quorum on "
                f"block {number}: {self._show(blocks, lambda b: b[1][:12] + '…')}"
            )
        self.confirmed = Confirmed(number, block_hash, timestamp, agreeing)
        return self.confirmed

    def _height(self, i: int) -> int:
        w3 = self.registries[i].w3
        if i not in self._chain_checked:
            chain_id = int(w3.eth.chain_id)
            if chain_id != self.primary.chain_id:
                raise Unconfirmed(f"it serves chain {chain_id}, not {self.primary.chain_id}")
            self._chain_checked.add(i)
        if self.tag == "latest":
            return int(w3.eth.block_number) - self.confirmations
        return int(w3.eth.get_block(self.tag)["number"])  # type: ignore[arg-type]

    def _block(self, i: int, number: int) -> tuple[int, str, int]:
        block = self.registries[i].w3.eth.get_block(number)
        return int(block["number"]), HexBytes(block["hash"]).to_0x_hex(), int(block["timestamp"])

    # ------------------------------------------------------------ campaigns

    def campaign(self, campaign_id: int) -> CampaignFacts:
        """``statusOf`` and the stored campaign at the confirmed block, agreed."""
        known = self._facts.get(campaign_id)
        if known is not None:
            return known
        confirmed = self._current()

        def read(i: int) -> tuple[Status, CampaignInfo | None]:
            registry = self.registries[i]
            status = status_at(registry, campaign_id, confirmed.number)
            if status == Status.NONE:
                return status, None
            return status, registry.info(campaign_id, block=confirmed.number)

        answers = self._ask(read, confirmed.sources)
        (status, info), _ = self._agree(
            answers,
            f"campaign {campaign_id} at block {confirmed.number}",
            lambda a: f"{a[0].label}, {a[1].active if a[1] else 0} active",
        )
        if info is None:
            raise Unconfirmed(f"campaign {campaign_id} does not exist at block {confirmed.number}")
        self._facts[campaign_id] = CampaignFacts(status, info)
        return self._facts[campaign_id]

    def history(self, campaign_id: int) -> History:
        """The primary's history of a campaign up to the confirmed block, once the agreeing
        sources give the same custodians, instructions and active pledges."""
        confirmed = self._current()
        histories: dict[int, History] = {}

        logs: dict[int, list[Any]] = {}
        checkpoints = self.checkpoints

        def read(i: int) -> str:
            registry = self.registries[i]
            if checkpoints is None:
                histories[i] = registry.history(campaign_id, to_block=confirmed.number)
            else:  # what was agreed before, then each source's newer events
                logs[i] = checkpoints.read(campaign_id, confirmed.number, registry)
                histories[i] = history_of(registry, campaign_id, logs[i])
            return roster_digest(histories[i])

        answers = self._ask(read, confirmed.sources)
        _, agreeing = self._agree(
            answers,
            f"the roster of campaign {campaign_id} at block {confirmed.number}",
            lambda d: f"digest {d[:12]}…",
        )
        if 0 not in agreeing:
            raise Unconfirmed(
                f"{label(0)} disagrees with the quorum on the roster of campaign {campaign_id}"
            )
        if checkpoints is not None:  # agreed at the confirmed (finalized/safe) block
            checkpoints.keep(campaign_id, confirmed.number, confirmed.hash, logs[0])
        return histories[0]

    def assignments(self, custodian: str, from_block: int) -> tuple[list[Assignment], set[int]]:
        """The campaigns that list ``custodian`` (``CustodianAssigned`` logs from ``from_block``
        to the confirmed block), each as at least ``required`` of the agreeing sources report
        it; and the ids of campaigns some source reports otherwise.

        Never one source's word: a primary that forged an assignment naming this custodian's
        key of another campaign would have that key used, and destroyed, for a campaign that
        had expired. A source that hides an assignment is outvoted where enough others agree.
        """
        confirmed = self._current()
        if confirmed.number < from_block:
            return [], set()

        def read(i: int) -> frozenset[Assignment]:
            return frozenset(
                custodian_assignments(
                    self.registries[i], custodian, from_block=from_block, to_block=confirmed.number
                )
            )

        answers = self._ask(read, confirmed.sources)
        self._enough(answers, f"the campaigns of {custodian} up to block {confirmed.number}")
        votes: dict[Assignment, int] = {}
        for answer in answers.values():
            if not isinstance(answer, Exception):
                for assignment in answer:
                    votes[assignment] = votes.get(assignment, 0) + 1
        agreed = sorted(
            (a for a, n in votes.items() if n >= self.required),
            key=lambda a: (a.block_number, a.campaign_id, a.index),
        )
        disputed = {a.campaign_id for a, n in votes.items() if n < self.required}
        return agreed, disputed

    def _current(self) -> Confirmed:
        if self.confirmed is None:
            raise Unconfirmed("no block is confirmed yet")
        return self.confirmed

    # ------------------------------------------------------------ agreement

    def _ask(self, read: Callable[[int], T], sources: Iterable[int]) -> dict[int, T | Exception]:
        """``read`` for every source, in parallel; each answer or the error it raised. With
        a single source the error is raised, as the daemon did before it had a quorum."""
        positions = list(sources)
        if self.size == 1:
            return {i: read(i) for i in positions}

        def attempt(i: int) -> T | Exception:
            try:
                return read(i)
            except Exception as exc:  # noqa: BLE001 - a failing source is a missing answer
                return exc

        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.size, thread_name_prefix="spartacus-source")
        return dict(zip(positions, self._pool.map(attempt, positions), strict=True))

    def _enough(self, answers: dict[int, Any], what: str) -> None:
        good = sum(not isinstance(a, Exception) for a in answers.values())
        if good < self.required:
            failed = "; ".join(
                f"{label(i)}: {_failure(a)}" for i, a in answers.items() if isinstance(a, Exception)
            )
            raise Unconfirmed(
                f"only {good} of {self.size} sources answered for {what} ({failed}); "
                f"{self.required} must agree"
            )

    def _agree(
        self, answers: dict[int, T | Exception], what: str, show: Callable[[T], str]
    ) -> tuple[T, tuple[int, ...]]:
        """The one answer given by at least ``required`` sources, and who gave it."""
        self._enough(answers, what)
        groups: dict[T, list[int]] = {}
        for i, answer in answers.items():
            if not isinstance(answer, Exception):
                groups.setdefault(answer, []).append(i)
        winners = [(value, who) for value, who in groups.items() if len(who) >= self.required]
        if len(winners) != 1:
            raise Unconfirmed(
                f"sources disagree on {what}: {self._show(answers, show)}; "
                f"{self.required} of {self.size} must agree"
            )
        value, who = winners[0]
        return value, tuple(who)

    @staticmethod
    def _show(answers: dict[int, Any], show: Callable[[Any], str]) -> str:
        return "; ".join(
            f"{label(i)}: {_failure(a) if isinstance(a, Exception) else show(a)}"
            for i, a in sorted(answers.items())
        )


def _failure(exc: Exception) -> str:
    return str(exc) if isinstance(exc, Unconfirmed) else describe_failure(exc)


def roster_digest(history: History) -> str:
    """What a release is built from, as one hash: the custodians, the roster records (the
    instructions and every active pledge, all their fields) and the releases already made.

    Releases count too: the daemon reads from them what it has already sealed to whom and
    whether its releases are final, which decides when a key is destroyed; a primary that
    forged one would otherwise have a member left out and the key destroyed."""
    digest = hashlib.sha256()
    for c in history.custodians:
        digest.update(f"c{c.index}:{c.account.lower()}:{c.campaign_key.hex()};".encode())
    for r in history.roster_records():
        fields = ":".join(f.hex() for f in (r.member_key, r.ciphertext, r.boxes, r.commitment))
        digest.update(f"p{r.index}:{r.account.lower()}:{fields};".encode())
    for x in history.releases:
        data = hashlib.sha256(x.data).hexdigest()
        digest.update(
            f"r{x.custodian_index}:{x.custodian.lower()}:{x.block_number}:{x.tx_hash}:{data};".encode()
        )
    return digest.hexdigest()


def check_clock(block: Confirmed, last: Confirmed | None, now: float, margin: float | None) -> None:
    """Refuse a confirmed block whose time jumps: more than ``margin`` seconds ahead of this
    machine's clock (``None``: not checked, for development chains moved in time by hand),
    or behind ``last``, the block the previous pass acted on (nor may the confirmed block go
    back, or change its hash)."""
    if margin is not None and block.timestamp > now + margin:
        raise Unconfirmed(
            f"the confirmed block {block.number} is dated {iso(block.timestamp)}, "
            f"{int(block.timestamp - now)} s ahead of this machine's clock (at most "
            f"{margin:g} s allowed): the sources' clock jumped, or this machine's clock is wrong"
        )
    if last is None:
        return
    if block.number < last.number:
        raise Unconfirmed(
            f"the confirmed block went back from {last.number} to {block.number}: a reorg "
            "deeper than the confirmation depth, or the sources fell behind"
        )
    if block.number == last.number and block.hash != last.hash:
        raise Unconfirmed(f"the confirmed block {block.number} changed its hash: a reorg")
    if block.timestamp < last.timestamp:
        raise Unconfirmed(
            f"the confirmed block {block.number} is dated {iso(block.timestamp)}, before "
            f"block {last.number} confirmed earlier ({iso(last.timestamp)}): a clock jump"
        )
