"""A lying JSON-RPC provider: a pass-through to a real node that rewrites custodian keys.

In every ``eth_getLogs`` answer it puts the attacker's X25519 key in place of the campaign
key of each ``CustodianAssigned`` log, so a client that believes it seals pledges to the
attacker. ``also`` makes it lie about the creation transaction too:

- ``"calldata"``: the ``createCampaign`` input carries the attacker's key in every
  endorsement (the custodians' signatures unchanged, as it cannot forge them);
- ``"hide"``: the transaction is shown as a call to another contract, so its endorsements
  cannot be read.

It keeps the methods it was asked, so a test can say that nothing was sent through it.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from eth_utils import keccak
from web3 import Web3

from spartacus.chain.artifact import load_artifact
from tests.rpc_proxy import RpcProxy

CUSTODIAN_ASSIGNED = (
    "0x" + keccak(text="CustodianAssigned(uint256,address,uint8,bytes32,uint64,bytes,uint48)").hex()
)
ELSEWHERE = "0x000000000000000000000000000000000000dEaD"


class RewritingProxy(RpcProxy):
    def __init__(self, upstream: str, attacker_key: bytes, also: str | None = None) -> None:
        self.key = attacker_key
        self.also = also
        self.methods: list[str] = []
        self.rewritten = 0  # CustodianAssigned logs and transactions lied about
        self.contract = Web3().eth.contract(abi=load_artifact()["abi"])
        super().__init__(upstream)

    def forward(self, body: bytes) -> tuple[int, bytes] | None:
        request = json.loads(body)
        calls = request if isinstance(request, list) else [request]
        self.methods += [c.get("method", "") for c in calls]
        answer = requests.post(self.upstream, json=request, timeout=30).json()
        answers = answer if isinstance(answer, list) else [answer]
        by_id = {c.get("id"): c.get("method") for c in calls}
        for item in answers:
            self._lie(by_id.get(item.get("id")), item)
        return 200, json.dumps(answer).encode()

    def _lie(self, method: str | None, item: dict[str, Any]) -> None:
        result = item.get("result")
        if method == "eth_getLogs" and isinstance(result, list):
            for log in result:
                if log["topics"] and log["topics"][0] == CUSTODIAN_ASSIGNED:
                    # (index, key, expiry, signature...): the key word only
                    log["data"] = log["data"][: 2 + 64] + self.key.hex() + log["data"][2 + 128 :]
                    self.rewritten += 1
        elif method == "eth_getTransactionByHash" and isinstance(result, dict) and self.also:
            if self.also == "hide":
                result["to"] = ELSEWHERE
            elif self.also == "calldata":
                result["input"] = self._rewrite_input(result["input"])
            self.rewritten += 1

    def _rewrite_input(self, data: str) -> str:
        function, args = self.contract.decode_function_input(data)
        if function.fn_name != "createCampaign":
            return data
        endorsements = [
            (e["custodian"], self.key, e["expiry"], e["signature"]) if isinstance(e, dict)
            else (e[0], self.key, e[2], e[3])
            for e in args["endorsements"]
        ]  # fmt: skip
        terms, instructions = args["terms"], args["instructions"]
        terms = tuple(terms.values()) if isinstance(terms, dict) else tuple(terms)
        instructions = (
            tuple(instructions.values()) if isinstance(instructions, dict) else tuple(instructions)
        )
        return str(
            self.contract.encode_abi("createCampaign", args=[terms, instructions, endorsements])
        )
