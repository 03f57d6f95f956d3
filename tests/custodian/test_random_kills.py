"""A stateful fuzz of the watcher (issue #6): kill -9 at random points, no release lost or doubled.

Three custodians (2 of 3), each with its own `spartacus watch`, watch three campaigns on
the shared anvil:

- M, members roster: Bob pledges and withdraws before the reveal (never released); the
  reveal, then late pledges released in later rounds (with earlier rounds' keys sealed to
  the late members), so each custodian sends several parts;
- P, public roster with a grace period: the daemons call ``finalize``, then release; a
  late pledge goes in a later round;
- E: left to expire; its keys are destroyed and nothing is released.

While the test drives these steps, every daemon is killed with SIGKILL at seeded-random
points and restarted at once, in three ways:

- each life draws a plan: die right after its k-th JSON log line, or right after a given
  event (``release_sent``, ``release_mined``, ``finalize_sent``, ...), plus 0 to 300 ms,
  and in any case at a random time (up to 2.5 s) after it found work;
- every step (a chain action: pledge, withdraw, time jump) kills each daemon two times in
  five, at a random moment up to 1.2 s after it, whatever it is doing then (starting up,
  planning, waiting for a receipt, destroying a key, ...);
- each daemon talks to anvil through its own JSON-RPC pass-through (a "gate"), which at
  seeded-random sends kills it just before the transaction reaches the node (the hash is
  saved, the transaction never leaves) or just after (the node has it, the daemon never
  hears back): windows no log line or timer can aim at.

Plan and gate kills stop after 2 of each per daemon, so every run ends. Odd seeds run with
anvil's automine and no confirmations; even seeds switch automine off and mine from a
thread at random intervals (mostly 50 to 200 ms, with stalls of a few seconds) with one
confirmation, so a release can be killed while it waits in the pool and still be there
when the daemon comes back.

At the end, from the chain alone: each custodian released the share of every active pledge
(and of the sealed instructions) exactly once and sealed every round's key to every active
member exactly once; nothing for the withdrawn pledge, the expired campaign, or before the
reveal; the custodians' accounts sent no release transaction beyond those (counted by
scanning the blocks, and by nonces, so a reverted duplicate would count too); members read
the full roster. After a last restart without kills the daemons send nothing more, exit
cleanly on SIGTERM, and their saved state agrees with the chain.

Seeds: 1 and 2 by default; ``SPARTACUS_KILL_SEEDS=n`` runs seeds 1..n, and
``SPARTACUS_KILL_SEED=7`` (or ``7,9``) replays given seeds. Every failure message names the
seed and carries the kill history.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_utils import keccak
from web3 import Web3

from spartacus import protocol
from spartacus.chain.records import History
from spartacus.chain.registry import Registry
from spartacus.custodian.endorsement import endorse
from spartacus.custodian.keystore import Keystore
from spartacus.exceptions import InvalidRelease
from spartacus.files import write_json

from .conftest import CustodianRole, Daemon, Spartacus, pledge

KILLS_PER_DAEMON = 2  # then its lives have no kill plan, so every run ends
STEP_KILL_WITHIN = 1.2  # a step kills a daemon (two in five), this long after it at most
STEP_TIMEOUT = 120.0  # a liveness bound: each restart re-imports web3 (seconds on a loaded machine)
GATE_ODDS = 0.3  # that a send is killed: before reaching the node, then after, in turn
GATE_KILLS_PER_DAEMON = 2  # on top of KILLS_PER_DAEMON
LATE = [("M", "Hank", 9), ("P", "Ivy", 2), ("M", "Jack", 3)]
RELEASE = keccak(text="release(uint256,bytes)")[:4]
FINALIZE = keccak(text="finalize(uint256)")[:4]
EXPIRE = keccak(text="expire(uint256)")[:4]
# Events a kill is aimed right after (with a random delay of 0 to 300 ms).
# (campaign_found comes once per campaign and custodian: the line-count plans cover it.)
AIMED = ["release_sent", "release_sent", "release_mined", "release_mined", "finalize_sent",
         "key_destroyed", "expire_sent", "release_dropped", "release_pending"]  # fmt: skip


def _seeds() -> list[int]:
    replay = os.environ.get("SPARTACUS_KILL_SEED", "").strip()
    if replay:
        return [int(s) for s in replay.split(",") if s.strip()]
    return list(range(1, int(os.environ.get("SPARTACUS_KILL_SEEDS", "2")) + 1))


# ---------------------------------------------------------------------- kill plans


@dataclass
class Plan:
    """When to kill one life of a daemon: after ``events`` lines or after an ``aim`` event
    (then ``delay`` later), and at the latest ``at`` seconds after its second line: the
    first after ``watcher_started``, when the life finds work (so the slow start-up under
    load does not eat the time, and a daemon with nothing to do is left alone)."""

    events: int | None = None
    aim: str | None = None
    delay: float = 0.0
    at: float | None = None

    def __str__(self) -> str:
        parts = []
        if self.events is not None:
            parts.append(f"after line {self.events}+{self.delay * 1000:.0f}ms")
        if self.aim is not None:
            parts.append(f"after {self.aim}+{self.delay * 1000:.0f}ms")
        if self.at is not None:
            parts.append(f"by {self.at:.2f}s")
        return " or ".join(parts) or "never"


def draw_plan(rng: random.Random) -> Plan:
    delay = rng.choice([0.0, 0.0, rng.uniform(0.0, 0.03), rng.uniform(0.0, 0.3)])
    at = rng.uniform(0.0, 2.5)
    kind = rng.random()
    if kind < 0.35:
        return Plan(events=rng.randint(1, 6), delay=delay, at=at)
    if kind < 0.7:
        return Plan(aim=rng.choice(AIMED), delay=delay, at=at)
    return Plan(at=at)


@dataclass
class Kill:
    custodian: int
    by: str  # "plan", "step" or "gate"
    life: int
    plan: str
    last_event: str
    lines: int
    pending: str | None  # the release the saved state awaited at the kill
    at: float

    def __str__(self) -> str:
        pending = f" pending={self.pending[:10]}" if self.pending else ""
        return (
            f"c{self.custodian}/life{self.life} {self.plan} "
            f"last={self.last_event}#{self.lines}{pending} t={self.at:.1f}"
        )


class Life(Daemon):
    """One run of a custodian's daemon, killed by its plan (from the reader thread)."""

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.working_at: float | None = None  # when its second line came
        self.killed_by_plan = False
        self.step_kill: float | None = None  # killed by a step, this long after it
        self.gate_kill: str | None = None  # killed by its gate at a send: "before" / "after"
        self._kill_lock = threading.Lock()

    def _read(self, process: Any) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self.raw.append(line)
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            self.lines.append(event)
            if len(self.lines) == 2:
                self.working_at = time.monotonic()
            plan = self.plan
            if (plan.events is not None and len(self.lines) == plan.events) or (
                plan.aim is not None and event.get("event") == plan.aim
            ):
                if plan.delay:
                    time.sleep(plan.delay)
                self.kill_by_plan()

    def kill_by_plan(self) -> None:
        with self._kill_lock:
            if self.process is not None and self.process.poll() is None:
                self.killed_by_plan = True
                self.process.send_signal(signal.SIGKILL)

    def last_event(self) -> str:
        return str(self.lines[-1].get("event")) if self.lines else "-"


# ---------------------------------------------------------------------- the chain's view


@dataclass
class Coverage:
    """What the Released logs of one campaign say, per custodian index."""

    shares: Counter[tuple[int, int]] = field(default_factory=Counter)  # (custodian, pledge)
    seals: Counter[tuple[int, int, int]] = field(default_factory=Counter)  # (c, round, member)
    rounds: dict[int, set[int]] = field(default_factory=dict)
    kinds: Counter[int] = field(default_factory=Counter)
    unread: list[str] = field(default_factory=list)  # sealed parts no reader could open

    def share_counts(self, custodian: int) -> dict[int, int]:
        return {i: n for (c, i), n in sorted(self.shares.items()) if c == custodian}

    def seal_counts(self, custodian: int, round_: int) -> dict[int, int]:
        return {
            i: n for (c, r, i), n in sorted(self.seals.items()) if (c, r) == (custodian, round_)
        }


def coverage(
    deployment: protocol.Deployment, history: History, t: int, readers: dict[int, bytes]
) -> Coverage:
    """Count every share and every key seal released, opening sealed parts as the members."""
    out = Coverage()
    parts = [(r.custodian_index, protocol.parse_release(r.data)) for r in history.releases]
    keys: dict[tuple[int, int], set[bytes]] = {}
    for custodian, part in parts:
        out.kinds[part.kind] += 1
        out.rounds.setdefault(custodian, set()).add(part.round)
        if part.kind == protocol.KIND_PUBLIC:
            for index in protocol.release_entries(part.body, t):
                out.shares[(custodian, index)] += 1
        elif part.kind == protocol.KIND_KEYS:
            for index in protocol.key_seal_indices(part):
                out.seals[(custodian, part.round, index)] += 1
                if index in readers:
                    key = protocol.open_key_seal(part, index, readers[index])
                    if key is not None:
                        keys.setdefault((custodian, part.round), set()).add(key)
    for custodian, part in parts:
        if part.kind != protocol.KIND_SEALED:
            continue
        opened = None
        for key in keys.get((custodian, part.round), set()):
            try:
                opened = protocol.open_sealed_shares(
                    part, key, deployment, history.campaign_id, custodian, t
                )
            except InvalidRelease:
                continue
            break
        if opened is None:
            out.unread.append(f"custodian {custodian} round {part.round}")
            continue
        for index in opened:
            out.shares[(custodian, index)] += 1
    return out


@dataclass
class Member:
    name: str
    index: int
    secret: bytes  # member secret key, to open key seals as this member


@dataclass
class Campaign:
    id: int
    label: str
    public: bool
    members: list[Member] = field(default_factory=list)
    withdrawn: list[Member] = field(default_factory=list)

    @property
    def active(self) -> set[int]:
        gone = {m.index for m in self.withdrawn}
        return {m.index for m in self.members if m.index not in gone}

    def readers(self) -> dict[int, bytes]:
        return {m.index: m.secret for m in self.members}


# ---------------------------------------------------------------------- the send gate


class Gate(http.server.ThreadingHTTPServer):
    """A JSON-RPC pass-through between one custodian's daemon and anvil.

    At a seeded-random ``eth_sendRawTransaction`` it kills the daemon either before the
    transaction reaches the node (the hash is saved, the transaction never sent: the
    restart must find it dropped and plan again) or after the node took it but before the
    daemon hears back. No wait can aim at these two windows: between saving the hash and
    sending there is no log line, and a send takes a millisecond.
    """

    daemon_threads = True

    def __init__(
        self, upstream: str, decide: Callable[[], str | None], kill: Callable[[str], None]
    ) -> None:
        super().__init__(("127.0.0.1", 0), _GateHandler)
        self.upstream = upstream
        self.decide = decide  # at a send: "before", "after" or None
        self.kill = kill  # kills the daemon, and returns once it is dead
        self.session = requests.Session()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a killed daemon's connection breaks: expected, and nothing to report


class _GateHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Gate

    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            method = json.loads(body).get("method")
        except (ValueError, AttributeError):
            method = None
        kill = self.server.decide() if method == "eth_sendRawTransaction" else None
        if kill == "before":
            self.server.kill("before")
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        answer = self.server.session.post(
            self.server.upstream,
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        if kill == "after":
            self.server.kill("after")
        self.send_response(answer.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


# ---------------------------------------------------------------------- the run


class Fuzz:
    """Three daemons under random kills, the chain, and what happened (for messages)."""

    def __init__(
        self,
        seed: int,
        spartacus: Spartacus,
        custodians: list[CustodianRole],
        args: list[str],
        w3: Web3,
    ) -> None:
        self.seed = seed
        self.spartacus = spartacus
        self.custodians = custodians
        self.args = args
        self.w3 = w3
        self.registry = Registry(w3, spartacus.registry)
        self.rngs = [random.Random(f"{seed}/custodian{i}") for i in range(len(custodians))]
        self.step_rng = random.Random(f"{seed}/steps")
        self.gate_rngs = [random.Random(f"{seed}/gate{i}") for i in range(len(custodians))]
        self.gates = [
            Gate(spartacus.rpc, functools.partial(self.gate_decide, i),
                 functools.partial(self.gate_kill, i))
            for i in range(len(custodians))
        ]  # fmt: skip
        self.step_kills: list[tuple[float, float] | None] = [None] * len(custodians)
        self.gate_kills = [0] * len(custodians)
        self.lives: list[Life | None] = [None] * len(custodians)
        self.life_count = [0] * len(custodians)
        self.kills: list[Kill] = []
        self.all_lives: list[Life] = []
        self.fuzzing = True
        self.t0 = time.monotonic()
        self.marks: list[str] = []

    def context(self) -> str:
        kills = "\n  ".join(str(k) for k in self.kills)
        return f"seed={self.seed} args={self.args} kills={len(self.kills)}:\n  {kills}"

    def summary(self) -> str:
        """Where the kills landed, and which recovery paths the restarts then took."""
        after = Counter(k.last_event for k in self.kills)
        pending = sum(1 for k in self.kills if k.pending)
        recovered = Counter(
            f"{e.get('problem') or e['event']}: {str(e.get('error', ''))[:60]}"
            for life in self.all_lives
            for e in life.lines
            if e.get("event") in ("release_dropped", "release_pending", "problem")
        )
        return (
            f"{len(self.kills)} kills, after: {dict(after)}; with a release awaiting its "
            f"receipt on disk: {pending}; then: {dict(recovered)}; steps: {self.marks}"
        )

    def logs(self) -> str:
        return "".join(
            f"--- c{i} life {self.life_count[i]}\n" + "".join(life.raw[-15:])
            for i, life in enumerate(self.lives)
            if life is not None
        )

    def budget(self, i: int) -> bool:
        """Whether custodian i's next life may have a kill plan."""
        planned = [k for k in self.kills if k.custodian == i and k.by == "plan"]
        return self.fuzzing and len(planned) < KILLS_PER_DAEMON

    def gate_decide(self, i: int) -> str | None:
        """For custodian i's gate, at each send: kill "before", "after", or not (None)."""
        gated = self.gate_kills[i]
        if not self.fuzzing or gated >= GATE_KILLS_PER_DAEMON:
            return None
        if self.gate_rngs[i].random() >= GATE_ODDS:
            return None
        self.gate_kills[i] += 1
        return "after" if gated % 2 else "before"

    def gate_kill(self, i: int, when: str) -> None:
        life = self.lives[i]
        if life is not None and life.process is not None and life.alive():
            life.gate_kill = when
            life.kill_by_plan()
            life.process.wait(timeout=10)

    def start(self, i: int) -> Life:
        plan = draw_plan(self.rngs[i]) if self.budget(i) else Plan()
        self.life_count[i] += 1
        life = Life(self.spartacus, self.custodians[i], self.args, self.gates[i].url, plan=plan)
        life.start()
        self.lives[i] = life
        self.all_lives.append(life)
        return life

    def tend(self) -> None:
        """Kill what is due, record kills, restart the dead; a daemon must never exit itself."""
        now = time.monotonic()
        for i, life in enumerate(self.lives):
            if life is None:
                self.start(i)
                continue
            begun = life.working_at
            if life.plan.at is not None and begun is not None and now - begun >= life.plan.at:
                life.kill_by_plan()
            due = self.step_kills[i]
            if due is not None and now >= due[0]:
                self.step_kills[i] = None
                if life.alive():
                    life.step_kill = due[1]
                    life.kill_by_plan()
            if life.alive():
                continue
            assert life.process is not None
            code = life.process.wait(timeout=10)
            assert life.killed_by_plan, (
                f"daemon c{i} exited by itself with {code}\n{self.context()}\n"
                + "".join(life.raw[-30:])
            )
            saved = life.state().get("campaigns", {})
            pending = next((r["pending"]["tx"] for r in saved.values() if r.get("pending")), None)
            by, plan = "plan", str(life.plan)
            if life.step_kill is not None:
                by, plan = "step", f"step+{life.step_kill:.2f}s"
            if life.gate_kill is not None:
                by, plan = "gate", f"{life.gate_kill} a send reached the node"
            self.kills.append(
                Kill(i, by, self.life_count[i], plan, life.last_event(), len(life.lines),
                     pending, now - self.t0)
            )  # fmt: skip
            self.start(i)

    def run_until(self, condition: Callable[[], Any], what: str) -> None:
        """Tend the daemons until ``condition`` (checked every 0.25 s) holds.

        While fuzzing, each daemon is also killed (two times in five) at a random moment
        shortly after the step began (the chain action just before this call), when it has
        work to do: this keeps the number of kills landing in work independent of the
        machine's speed.
        """
        now = time.monotonic()
        deadline = now + STEP_TIMEOUT
        self.step_kills = [None] * len(self.custodians)  # a step's kills end with it
        if self.fuzzing:
            for i in range(len(self.custodians)):
                after = self.step_rng.uniform(0.0, STEP_KILL_WITHIN)
                if self.step_rng.random() < 0.4:
                    self.step_kills[i] = (now + after, after)
        next_check = 0.0
        self.marks.append(f"{what}@{time.monotonic() - self.t0:.1f}")
        while time.monotonic() < deadline:
            self.tend()
            if time.monotonic() >= next_check:
                if condition():
                    return
                next_check = time.monotonic() + 0.25
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}\n{self.context()}\n{self.logs()}")

    def stop_all(self) -> None:
        for life in self.lives:
            if life is not None:
                life.kill()

    def close(self) -> None:
        self.stop_all()
        for gate in self.gates:
            gate.shutdown()
            gate.server_close()

    def history(self, campaign: Campaign) -> History:
        return self.registry.history(campaign.id)

    def released(self, campaign: Campaign) -> bool:
        """Every custodian covered every active pledge (and sealed its keys), counts aside."""
        history = self.history(campaign)
        seen = coverage(self.registry.deployment, history, 2, campaign.readers())
        everyone = {0, *campaign.active}
        for c in range(len(self.custodians)):
            if set(seen.share_counts(c)) < everyone:
                return False
            if not campaign.public and any(
                set(seen.seal_counts(c, r)) < everyone for r in seen.rounds.get(c, set())
            ):
                return False
        return True

    def caught_up(self, block: int) -> bool:
        """Every daemon saved a pass at ``block`` or later for each campaign it still watches."""
        for life in self.lives:
            if life is None:
                return False
            campaigns = life.state().get("campaigns", {})
            if len(campaigns) < 3:
                return False
            for record in campaigns.values():
                if not record.get("keyDestroyed") and (record.get("lastBlock") or -1) < block:
                    return False
        return True


def _create(
    spartacus: Spartacus,
    w3: Web3,
    custodians: list[CustodianRole],
    keystores: list[Keystore],
    *,
    threshold: int,
    deadline: str,
    grace: str = "0",
    public: bool = False,
) -> int:
    """Each custodian issues a fresh key (as `custodian endorse` does); the creator creates."""
    registry = Registry(w3, spartacus.registry)
    expiry = int(w3.eth.get_block("latest")["timestamp"]) + 7 * 86400
    files = []
    for custodian, keystore in zip(custodians, keystores, strict=True):
        path = spartacus.home(custodian.role) / f"endorsement-{time.monotonic_ns()}.json"
        write_json(path, endorse(keystore, registry, expiry))
        files += ["--endorsement", str(path)]
    args = [
        "create", "--title", "Fix the heating", "--plan", "We write to facilities together",
        "--instructions", "Meet Monday 9:00 at the canteen",
        "--threshold", str(threshold), "--deadline", deadline, "--grace", grace,
        "--custodian-threshold", "2", "--late-joining", *files,
    ]  # fmt: skip
    if public:
        args.append("--public-roster")
    return int(spartacus.ok(*args, role="creator", dev=1)["campaign"])


def _join(spartacus: Spartacus, campaign: Campaign, name: str, dev: int) -> Member:
    data = pledge(spartacus, campaign.id, name, dev)
    secret = protocol.decode_receipt(str(data["receipt"]))[1]
    member = Member(name, int(data["index"]), protocol.derive_keys(secret).member_secret)
    campaign.members.append(member)
    return member


@pytest.fixture
def miner(w3: Web3) -> Iterator[Callable[[random.Random], None]]:
    """Automine off; a thread mines at seeded-random intervals, mostly 50 to 200 ms with a
    stall of 1.5 to 3.5 s now and then (longer than a restart: a restarted daemon finds its
    release still in the pool). Automine is back on after the test."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(rng: random.Random) -> None:
        w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]

        def mine() -> None:
            while not stop.wait(
                rng.uniform(0.05, 0.2) if rng.random() < 0.9 else rng.uniform(1.5, 3.5)
            ):
                w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

        threads.append(threading.Thread(target=mine, daemon=True))
        threads[-1].start()

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", _seeds())
def test_random_kill_9_never_loses_or_repeats_a_release(
    seed: int,
    spartacus: Spartacus,
    w3: Web3,
    make_custodians: Callable[[int], list[CustodianRole]],
    travel: Callable[[int], None],
    miner: Callable[[random.Random], None],
) -> None:
    rng = random.Random(seed)
    start_block = int(w3.eth.block_number)
    custodians = make_custodians(3)
    keystores = [Keystore(spartacus.home(c.role), c.passphrase) for c in custodians]
    for keystore in keystores:  # this process unlocks each account once, not per key (speed)
        keystore.account = functools.cache(keystore.account)  # type: ignore[method-assign]
    m = Campaign(
        _create(spartacus, w3, custodians, keystores, threshold=3, deadline="7d"), "M", False
    )
    p_id = _create(
        spartacus, w3, custodians, keystores, threshold=2, deadline="7d", grace="1h", public=True
    )
    p = Campaign(p_id, "P", True)
    e = Campaign(
        _create(spartacus, w3, custodians, keystores, threshold=3, deadline="2h"), "E", False
    )
    alice = _join(spartacus, m, "Alice", 2)
    bob = _join(spartacus, m, "Bob", 3)
    _join(spartacus, e, "Erin", 6)

    if seed % 2:
        args = ["--confirmations", "0"]
    else:
        args = ["--confirmations", "1"]
        miner(random.Random(f"{seed}/miner"))
    confirmations = int(args[1])
    fuzz = Fuzz(seed, spartacus, custodians, args, w3)
    try:
        # While the daemons start (and find the campaigns open): Bob withdraws, Carol joins
        # (2 of 3 active). Not waited for: the start-up and the reveal overlap.
        fuzz.tend()
        assert spartacus.ok("withdraw", str(m.id), role="bob", dev=3)["active"] == 1
        m.withdrawn.append(bob)
        _join(spartacus, m, "Carol", 4)

        # M reveals on Dave's pledge; P reaches its threshold and waits out its grace.
        _join(spartacus, m, "Dave", 5)
        _join(spartacus, p, "Frank", 7)
        _join(spartacus, p, "Gina", 8)
        assert spartacus.ok("status", str(p.id))["status"] == "pending"
        fuzz.run_until(lambda: fuzz.released(m), "M round 0 released by all")
        travel(3601)
        fuzz.run_until(lambda: fuzz.released(p), "P finalized and released by all")

        # Late pledges, released in later rounds; some land while the round before is still
        # being sent (then both go in one round).
        for label, name, dev in LATE:
            late = {"M": m, "P": p}[label]
            _join(spartacus, late, name, dev)
            spartacus.ok("admit", str(late.id), "--all", role="creator", dev=1)
            if rng.random() < 0.5:
                fuzz.run_until(lambda: fuzz.released(m) and fuzz.released(p), f"{name} released")
        fuzz.run_until(lambda: fuzz.released(m) and fuzz.released(p), "late rounds released")

        # E expires: every daemon destroys its key (and someone calls expire).
        travel(2 * 3600)
        for campaign in (m, p, e):  # custodian i has index i everywhere (endorsement order)
            listed = [c.account.lower() for c in fuzz.history(campaign).custodians]
            assert listed == [c.address.lower() for c in custodians]
        e_keys = [c.campaign_key for c in fuzz.history(e).custodians]
        key_files = [
            spartacus.home(c.role) / "custodian" / "keys" / f"{k.hex()}.json"
            for c, k in zip(custodians, e_keys, strict=True)
        ]
        fuzz.run_until(
            lambda: (
                not any(f.exists() for f in key_files)
                and any(ch.event == "Expired" for ch in fuzz.history(e).changes)
            ),
            "E's keys destroyed and E expired",
        )

        # A last restart without kills: it must find nothing left to send. A block mined
        # after the kills makes sure the pass waited for is one of the new processes'.
        fuzz.fuzzing = False
        fuzz.stop_all()
        fuzz.lives = [None] * 3
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        block = int(w3.eth.block_number)
        fuzz.run_until(lambda: fuzz.caught_up(block), "a clean last pass")
        finals = [life for life in fuzz.lives if life is not None]
        for life in finals:
            assert life.stop() == 0, f"{fuzz.context()}\n{''.join(life.raw[-20:])}"
    finally:
        fuzz.close()

    ctx = fuzz.context()
    print(f"\n{ctx}\n{fuzz.summary()}")
    assert len(fuzz.kills) >= 10, f"too few kills to mean anything\n{ctx}"
    gated = Counter(k.plan.split()[0] for k in fuzz.kills if k.by == "gate")
    assert gated["before"] and gated["after"], f"no kill at a send: {gated}\n{ctx}"
    if confirmations:  # releases wait in the pool for a block: kills land there
        assert any(k.pending for k in fuzz.kills), f"no kill with a release in flight\n{ctx}"
    resent = [e for life in finals for e in life.events("release_sent")]
    assert resent == [], f"the last, unkilled daemons sent releases: {resent}\n{ctx}"

    # ---- from the chain: every share and key seal exactly once, nothing else
    histories = {c.label: fuzz.history(c) for c in (m, p, e)}
    for campaign in (m, p):
        history = histories[campaign.label]
        seen = coverage(fuzz.registry.deployment, history, 2, campaign.readers())
        everyone = {0, *campaign.active}
        where = f"campaign {campaign.label} ({campaign.id})\n{ctx}"
        assert seen.unread == [], f"sealed parts nobody can open: {seen.unread} in {where}"
        revealed = history.revealed_at()
        assert revealed is not None, where
        early = [r.tx_hash for r in history.releases if r.block_number < revealed]
        assert early == [], f"released before the reveal (block {revealed}): {early} in {where}"
        for c in range(3):
            assert seen.share_counts(c) == dict.fromkeys(sorted(everyone), 1), (
                f"custodian {c}'s shares (pledge index: times released), "
                f"expected each of {sorted(everyone)} once, in {where}"
            )
            rounds = seen.rounds.get(c, set())
            assert rounds == set(range(len(rounds))), f"custodian {c} rounds {rounds} in {where}"
            if campaign.public:
                continue
            for r in sorted(rounds):
                assert seen.seal_counts(c, r) == dict.fromkeys(sorted(everyone), 1), (
                    f"custodian {c}'s key seals of round {r} (member: times), expected "
                    f"each of {sorted(everyone)} once, in {where}"
                )
        withdrawn = {w.index for w in campaign.withdrawn}
        assert not any(i in withdrawn for (_, i) in seen.shares), where
        assert not any(i in withdrawn for (_, _, i) in seen.seals), where
        if campaign.public:
            assert set(seen.kinds) == {protocol.KIND_PUBLIC}, where
        else:
            assert set(seen.kinds) == {protocol.KIND_SEALED, protocol.KIND_KEYS}, where
    assert histories["E"].releases == [], f"E (expired) has releases\n{ctx}"
    assert spartacus.ok("status", str(e.id))["status"] == "expired"
    assert sum(ch.event == "Expired" for ch in histories["E"].changes) == 1

    # ---- from the blocks: each custodian's release transactions are exactly its Released logs
    sent: Counter[tuple[str, int]] = Counter()
    other: Counter[tuple[str, bytes, bool]] = Counter()  # (sender, selector, succeeded)
    addresses = {c.address.lower(): c for c in custodians}
    mined_from: Counter[str] = Counter()
    for number in range(start_block + 1, int(w3.eth.block_number) + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            assert not isinstance(tx, bytes)  # full transactions, not hashes
            sender = str(tx["from"]).lower()
            if sender not in addresses:
                continue
            mined_from[sender] += 1
            data = bytes(tx["input"])
            if data[:4] == RELEASE:
                sent[(sender, int.from_bytes(data[4:36], "big"))] += 1
            else:
                ok = w3.eth.get_transaction_receipt(tx["hash"])["status"] == 1
                other[(sender, data[:4], ok)] += 1
    logged: Counter[tuple[str, int]] = Counter()
    for history in histories.values():
        for release in history.releases:
            logged[(release.custodian.lower(), history.campaign_id)] += 1
    assert sent == logged, (
        f"release transactions {dict(sent)} vs Released logs {dict(logged)}\n{ctx}"
    )
    for role in custodians:
        account = Web3.to_checksum_address(role.address)
        nonce = w3.eth.get_transaction_count(account)
        pool = w3.eth.get_transaction_count(account, "pending")
        mined = mined_from[role.address.lower()]
        assert nonce == pool == mined, (
            f"{role.role}: nonce {nonce}, pending {pool}, mined {mined}\n{ctx}"
        )
    # Besides releases, only finalize and expire (anyone may; custodians racing each other
    # for them may see theirs revert: reported, not counted as a fault).
    assert {s for _, s, _ in other} <= {FINALIZE, EXPIRE}, f"{other}\n{ctx}"
    names = {FINALIZE: "finalize", EXPIRE: "expire"}
    calls = {(a[:8], names[s], "ok" if ok else "reverted"): n for (a, s, ok), n in other.items()}
    print(f"other transactions: {calls}")

    # ---- members read the full roster; the public reads P's
    expected = [mm.name for mm in m.members if mm.index in m.active]
    for reader in ("alice", "jack"):
        roster = spartacus.ok("roster", str(m.id), role=reader)
        assert [x["name"] for x in roster["members"]] == expected, f"{reader}: {roster}\n{ctx}"
        assert roster["instructions"] == "Meet Monday 9:00 at the canteen"
    roster = spartacus.ok("roster", str(p.id), role="journalist")
    assert [x["name"] for x in roster["members"]] == ["Frank", "Gina", "Ivy"], f"{roster}\n{ctx}"
    assert alice.index in m.active

    # ---- the saved state agrees with the chain after the last restart
    for i, custodian in enumerate(custodians):
        state = finals[i].state()["campaigns"]
        for campaign in (m, p, e):
            record = state[str(campaign.id)]
            where = f"c{i} campaign {campaign.label}: {record}\n{ctx}"
            assert record["pending"] is None, where
            on_chain = {
                r.tx_hash
                for r in histories[campaign.label].releases
                if r.custodian.lower() == custodian.address.lower()
            }
            assert {r["tx"] for r in record["releases"]} == on_chain, where
            assert len(record["releases"]) == len(on_chain), where
            if campaign is e:
                assert record["keyDestroyed"]["reason"] == "campaign expired", where
            else:
                assert record["status"] == "revealed" and record["keyDestroyed"] is None, where
                assert record["problems"] == {}, where
    assert not any(f.exists() for f in key_files)
    leftovers = sorted(
        str(path.name)
        for c in custodians
        for path in Path(spartacus.home(c.role), "watcher").glob(".*.tmp")
    )
    print(f"temporary files left by kills mid-write: {leftovers}")
