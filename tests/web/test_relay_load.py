"""Many concurrent pledges through the relayer over real HTTP, with a restart midway.

Bounded: a fixed number of requests (bench/relay.py has the retry and time bounds), and
it stops by itself. Every accepted pledge must be on-chain exactly once, every refused
one must have a reason, and the count must match.
"""

from __future__ import annotations

import threading
from typing import Any

from bench import relay as load
from bench.relay import listen
from spartacus.web import WebState, create_app

PLEDGES = 150
WORKERS = 24


class Server:
    """The web app under waitress on a fixed loopback port, restartable."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.port = 0
        self._start()

    def _start(self) -> None:
        app = create_app(self.config)
        self.state: WebState = app.extensions["spartacus"]
        self.state.start()
        self.server = listen(app, self.port, threads=WORKERS + 8)
        self.port = self.server.effective_port  # type: ignore[union-attr]
        threading.Thread(target=self.server.run, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restart(self) -> None:
        self.server.close()
        self.state.stop()
        self._start()

    def stop(self) -> None:
        self.server.close()
        self.state.stop()


def test_concurrent_pledges_land_exactly_once_across_a_restart(
    web_config: dict[str, Any], create_campaign: Any
) -> None:
    campaign_id, _ = create_campaign(threshold=PLEDGES + 10)
    # Load, not the slow-down near N (tests/security/test_sybil.py): it is turned off here.
    relaxed = {"RELAY_PER_CAMPAIGN_PER_MINUTE": 10_000, "RELAY_NEAR_FRACTION": 0}
    # Through the mixer: requests wait up to half a second, then go in shuffled batches;
    # the restart comes while some are queued or in flight (the queue file keeps them).
    relaxed["RELAY_MIX_SECONDS"] = 0.5
    server = Server({**web_config, **relaxed, "POLL_INTERVAL": 0.2})
    try:
        server.state.index.sync()
        history = server.state.index.history(campaign_id)
        assert history is not None and history.terms is not None
        keys = [c.campaign_key for c in history.custodians]
        registry = server.state.registry
        good = load.pledge_bodies(
            registry, campaign_id, keys, history.terms.custodian_threshold, PLEDGES
        )
        bad = load.bad_requests(good, every=10)
        report = load.run(
            server.url, registry, campaign_id, good, bad, workers=WORKERS, midway=server.restart
        )
    finally:
        server.stop()

    assert report.sent == PLEDGES + len(bad)
    assert report.lost == 0 and report.duplicated == 0 and report.unexpected == 0
    # Every pledger is told their pledge was taken, once on chain; a good request and its
    # identical duplicate race, so which of the two is refused may vary, never both.
    assert report.accepted == report.on_chain == report.active == PLEDGES, load.good_refused(report)
    assert report.transactions < PLEDGES  # batched: fewer transactions than pledges
    wrong = [o for o in report.outcomes if o.bad and not o.duplicate]
    assert wrong and all(o.status != 200 and o.error for o in wrong), report.refused_reasons
    assert all(o.error for o in report.outcomes if o.status != 200), report.refused_reasons
