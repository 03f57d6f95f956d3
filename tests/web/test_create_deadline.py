"""The relayer refuses a campaign whose deadline is sooner than the tools allow (issue #16,
item 6): the CLI, the create form and the relayer share chain.rules.MIN_DEADLINE."""

from __future__ import annotations

import json
from typing import Any

from spartacus import protocol
from spartacus.chain import rules

from .conftest import Web


def test_relay_refuses_a_deadline_under_an_hour_and_the_form_knows_the_rule(
    web: Web, spartacus: Any, make_custodians: Any
) -> None:
    (c,) = make_custodians(1)
    path = spartacus.home(c.role) / "e.json"
    spartacus.ok(
        "custodian", "endorse", "--out", str(path), role=c.role, passphrase=c.passphrase, dev=None
    )
    endorsement = json.loads(path.read_text())
    organiser = protocol.derive_keys(protocol.new_secret())
    sealed = protocol.seal_instructions(
        web.state.registry.deployment,
        organiser,
        "Meet at noon",
        [bytes.fromhex(endorsement["campaignKey"][2:])],
        1,
    )
    now = web.state.registry.latest_timestamp()
    body = {
        "terms": {
            "title": "Fair rota", "description": "", "plan": "", "threshold": 2,
            "deadline": now + 600, "gracePeriod": 0, "custodianThreshold": 1,
            "rosterMode": "members",
        },
        "instructions": {
            "memberKey": "0x" + sealed.member_key.hex(),
            "ciphertext": "0x" + sealed.ciphertext.hex(),
            "boxes": "0x" + sealed.boxes.hex(),
            "commitment": "0x" + sealed.commitment.hex(),
        },
        "endorsements": [endorsement],
    }  # fmt: skip
    # The form's check, before any custodian is asked for a key, refuses it too.
    check = web.post("/api/relay/create/check", {"terms": body["terms"], "custodians": 1})
    assert check.status_code == 400 and "minute(s) away" in check.get_json()["error"]
    refused = web.post("/api/relay/create", body)
    assert refused.status_code == 400
    assert "10 minute(s) away; give people at least 1 hour" in refused.get_json()["error"]
    body["terms"]["deadline"] = now + rules.MIN_DEADLINE + 60
    assert web.post("/api/relay/create", body).status_code == 200  # the key was not used up
    html = web.get("/create").get_data(as_text=True)
    assert f'"minDeadline": {rules.MIN_DEADLINE}' in html
