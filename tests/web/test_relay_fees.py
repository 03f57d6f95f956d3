"""The relayer under the operator's fee caps: fees above the cap send nothing (503)."""

from __future__ import annotations

from typing import Any

from spartacus.chain.fees import FeeCaps
from spartacus.web import WebState, create_app

from .conftest import Web, new_pledger, pledge_body


def test_relayed_pledge_above_the_fee_cap_is_503_and_sends_nothing(
    web_config: dict[str, Any], create_campaign: Any, w3: Any
) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    app = create_app({**web_config, "FEE_CAPS": FeeCaps(max_fee=1)})  # 1 wei per gas
    state: WebState = app.extensions["spartacus"]
    state.start()
    try:
        web = Web(app, app.test_client(), state)
        web.sync()
        relayer = state.relayer
        assert relayer is not None
        before = w3.eth.get_transaction_count(relayer.address)
        body = pledge_body(web, campaign_id, new_pledger("Alice", "alice@example.org"))
        answer = web.post("/api/relay/pledge", body)
        assert answer.status_code == 503
        assert "above what this relayer pays" in answer.get_json()["error"]
        assert w3.eth.get_transaction_count(relayer.address) == before
    finally:
        state.stop()
