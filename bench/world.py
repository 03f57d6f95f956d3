"""What the bench sets up on its anvil: the registry, custodians, campaigns and many pledges.

Pledges are sealed with the real protocol crypto (``spartacus.crypto``). Measured
transactions are signed and sent one by one, like a client would; the bulk pledges that only
fill a campaign are sent unsigned from their own pledge accounts (anvil auto-impersonates
them after ``anvil_setBalance``), in JSON-RPC batches, which skips a pure-Python ECDSA
signature per pledge but puts the same transaction on chain.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from nacl.public import PrivateKey
from web3.logs import DISCARD

from spartacus import protocol
from spartacus.chain.records import RosterMode
from spartacus.chain.registry import Registry
from spartacus.chain.sender import transfer
from spartacus.cli.context import dev_account
from spartacus.custodian.endorsement import endorse
from spartacus.custodian.keystore import Keystore

from .floor import Floor, floor_of
from .node import Node

DAY = 86_400
ETH = 10**18
PLEDGE_SELECTOR = keccak(text="pledge(uint256,(bytes32,bytes,bytes,bytes32))")[:4]
BULK_GAS = 140_000  # a pledge with 5 custodians that crosses the threshold: < 110,000
SEND_CHUNK = 200  # 200 x 140,000 = 28M, inside anvil's 30M block gas limit
INSTRUCTIONS = "Meet Monday 9:00 at the canteen; bring your badge."


@dataclass(frozen=True)
class Sent:
    """A mined transaction: its receipt and the calldata it carried."""

    receipt: Any
    data: bytes

    @property
    def gas(self) -> int:
        return int(self.receipt["gasUsed"])

    def floor(self, storage: dict[str, int], *, ecrecover: bool = False) -> Floor:
        return floor_of(self.data, self.receipt, storage, ecrecover=ecrecover)


def send(node: Node, fn: Any, sender: LocalAccount, gas: int | None = None) -> Sent:
    """Sign and send a contract call from ``sender``; wait for it; fail if it reverted."""
    w3 = node.w3
    params: dict[str, Any] = {
        "from": sender.address,
        "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
        "chainId": int(w3.eth.chain_id),
    }
    if gas is not None:
        params["gas"] = gas
    tx = fn.build_transaction(params)
    tx_hash = w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=300)
    if receipt["status"] != 1:
        raise RuntimeError(f"transaction {tx_hash.to_0x_hex()} reverted")
    return Sent(receipt, bytes(w3.eth.get_transaction(tx_hash)["input"]))


def contact(i: int) -> protocol.Contact:
    return protocol.Contact(f"Member {i:05d}", f"member{i}@example.org", "Count me in.")


@dataclass
class Campaign:
    id: int
    n: int
    t: int
    keys: list[bytes]
    mode: RosterMode
    created: Sent
    # pledge secrets in pledge order (index 1 first), kept so that a member can read
    secrets: list[bytes] = field(default_factory=list)


@dataclass
class World:
    """The registry and its cast: relayer (deploys, relays), creator, custodians."""

    node: Node
    registry: Registry
    relayer: LocalAccount
    creator: LocalAccount
    raw_custodians: list[tuple[LocalAccount, PrivateKey]]
    keystore: Keystore
    keystore_account: LocalAccount
    _tmp: tempfile.TemporaryDirectory[str]

    @classmethod
    def build(cls, node: Node) -> World:
        relayer, creator = dev_account(0), dev_account(1)
        registry = Registry.deploy(node.w3, relayer)
        raw = [(dev_account(2 + i), PrivateKey.generate()) for i in range(3)]
        tmp = tempfile.TemporaryDirectory(prefix="spartacus-bench-")
        keystore = Keystore(Path(tmp.name), "bench passphrase")
        address = keystore.create()
        transfer(node.w3, relayer, address, 100 * ETH)
        return cls(node, registry, relayer, creator, raw, keystore, keystore.account(), tmp)

    def close(self) -> None:
        self._tmp.cleanup()

    def now(self) -> int:
        return self.registry.latest_timestamp()

    def create(
        self,
        *,
        threshold: int,
        n: int = 1,
        t: int = 1,
        grace: int = 0,
        mode: RosterMode = RosterMode.MEMBERS,
        keystore_custodian: bool = False,
    ) -> Campaign:
        """A campaign; with ``keystore_custodian`` its one custodian can release."""
        expiry = self.now() + DAY
        if keystore_custodian:
            if n != 1:
                raise ValueError("the keystore custodian serves one-custodian campaigns")
            e = endorse(self.keystore, self.registry, expiry)
            endorsements = [
                (
                    e["custodian"],
                    bytes.fromhex(e["campaignKey"][2:]),
                    expiry,
                    bytes.fromhex(e["signature"][2:]),
                )
            ]
        else:
            endorsements = []
            for account, _ in self.raw_custodians[:n]:
                key = bytes(PrivateKey.generate().public_key)
                signature = self.registry.sign_endorsement(account, key, expiry)
                endorsements.append((account.address, key, expiry, signature))
        keys = [e[1] for e in endorsements]
        instructions = protocol.seal_instructions(
            self.registry.deployment,
            protocol.derive_keys(protocol.new_secret()),
            INSTRUCTIONS,
            keys,
            t,
        )
        terms = (
            "Fix the heating",
            "The office is cold",
            "We write to facilities together",
            threshold,
            self.now() + 30 * DAY,
            grace,
            t,
            int(mode),
            False,  # lateJoining
            0,  # open (bench/groups.py measures gated pledges)
        )
        fn = self.registry.contract.functions.createCampaign(
            terms, instructions.as_abi(), endorsements
        )
        created = send(self.node, fn, self.creator)
        (event,) = self.registry.contract.events.CampaignCreated().process_receipt(
            created.receipt, errors=DISCARD
        )
        return Campaign(int(event["args"]["campaignId"]), n, t, keys, mode, created)

    # ------------------------------------------------------------ single pledges

    def sealed(self, campaign: Campaign, i: int) -> tuple[protocol.PledgeKeys, protocol.Sealed]:
        keys = protocol.derive_keys(protocol.new_secret())
        sealed = protocol.seal_pledge(
            self.registry.deployment, campaign.id, keys, contact(i), campaign.keys, campaign.t
        )
        return keys, sealed

    def pledge(self, campaign: Campaign) -> Sent:
        """A direct pledge from a fresh pledge account that pays its own gas."""
        keys, sealed = self.sealed(campaign, len(campaign.secrets) + 1)
        account = Account.from_key(keys.account_key)
        self.node.call("anvil_setBalance", [account.address, hex(ETH)])
        fn = self.registry.contract.functions.pledge(campaign.id, sealed.as_abi())
        sent = send(self.node, fn, account)
        campaign.secrets.append(keys.secret)
        return sent

    def pledge_with_sig(self, campaign: Campaign) -> Sent:
        """A pledge signed by an unfunded pledge account and sent by the relayer."""
        keys, sealed = self.sealed(campaign, len(campaign.secrets) + 1)
        signer = Account.from_key(keys.account_key)
        signed = self.registry.sign_pledge(signer, campaign.id, sealed)
        fn = self.registry.contract.functions.pledgeWithSig(
            campaign.id, signer.address, sealed.as_abi(), signed.valid_until, signed.signature
        )
        sent = send(self.node, fn, self.relayer)
        campaign.secrets.append(keys.secret)
        return sent

    def pledge_batch(self, campaign: Campaign, size: int) -> Sent:
        """``size`` pledges signed by unfunded pledge accounts, sent by the relayer in one
        ``pledgeWithSigBatch``."""
        items = []
        for _ in range(size):
            keys, sealed = self.sealed(campaign, len(campaign.secrets) + 1)
            signer = Account.from_key(keys.account_key)
            signed = self.registry.sign_pledge(signer, campaign.id, sealed, nonce=0)
            items.append(
                (campaign.id, signer.address, sealed.as_abi(), signed.valid_until, signed.signature)
            )
            campaign.secrets.append(keys.secret)
        fn = self.registry.contract.functions.pledgeWithSigBatch(items)
        return send(self.node, fn, self.relayer)

    # ------------------------------------------------------------ bulk pledges

    def bulk_pledge(self, campaign: Campaign, count: int, workers: int) -> None:
        """``count`` real sealed pledges, sealed on ``workers`` processes, sent in batches."""
        first = len(campaign.secrets) + 1
        deployment = self.registry.deployment
        jobs = [
            (deployment, campaign.id, campaign.keys, campaign.t, first + i) for i in range(count)
        ]
        if workers > 1 and count >= 200:
            with ProcessPoolExecutor(workers) as pool:
                sealed = list(pool.map(_seal_for_bulk, jobs, chunksize=64))
        else:
            sealed = [_seal_for_bulk(job) for job in jobs]
        self.node.batch([("anvil_setBalance", [acct, hex(ETH)]) for _, acct, _ in sealed])
        target = self.registry.address
        hashes: list[str] = []
        # One block per chunk: anvil slows down sharply with thousands of pending transactions
        # or of one-transaction blocks.
        self.node.call("evm_setAutomine", [False])
        try:
            for start in range(0, len(sealed), SEND_CHUNK):
                hashes += self.node.batch(
                    [
                        ("eth_sendTransaction", [_bulk_tx(acct, target, data)])
                        for _, acct, data in sealed[start : start + SEND_CHUNK]
                    ]
                )
                self.node.mine()
                self.wait_for_pool()
        finally:
            self.node.call("evm_setAutomine", [True])
        receipts = self.node.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
        failed = [h for h, r in zip(hashes, receipts, strict=True) if not r or r["status"] != "0x1"]
        if failed:
            raise RuntimeError(f"{len(failed)} bulk pledges failed, e.g. {failed[0]}")
        campaign.secrets += [secret for secret, _, _ in sealed]
        pledges = self.registry.info(campaign.id).pledges
        if pledges != len(campaign.secrets):
            raise RuntimeError(
                f"campaign {campaign.id} holds {pledges} pledges, {len(campaign.secrets)} sent"
            )

    def wait_for_pool(self, timeout: float = 600) -> None:
        """Until anvil has mined every transaction sent so far."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.node.call("txpool_status", [])
            if int(status["pending"], 16) == 0 and int(status["queued"], 16) == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"anvil still holds {status} after {timeout:.0f} s")
            time.sleep(0.05)


def _bulk_tx(account: str, target: str, data: bytes) -> dict[str, str]:
    return {"from": account, "to": target, "data": "0x" + data.hex(), "gas": hex(BULK_GAS)}


def _seal_for_bulk(
    job: tuple[protocol.Deployment, int, Sequence[bytes], int, int],
) -> tuple[bytes, str, bytes]:
    """(secret, pledge account, pledge calldata) for one pledge; runs in a worker process."""
    deployment, campaign_id, custodian_keys, t, i = job
    keys = protocol.derive_keys(protocol.new_secret())
    sealed = protocol.seal_pledge(deployment, campaign_id, keys, contact(i), custodian_keys, t)
    data = PLEDGE_SELECTOR + abi_encode(
        ["uint256", "(bytes32,bytes,bytes,bytes32)"], [campaign_id, sealed.as_abi()]
    )
    return keys.secret, keys.account, data


def workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))
