"""The watcher loop: one pass over every campaign that lists this custodian, again and again.

A pass reads the chain at ``latest - confirmations`` (the *confirmed* block) and, for each
campaign whose key this custodian holds:

- revealed at the confirmed block: plan and send what it has not released yet (later
  rounds for late pledges come from ``plan_release``); once the confirmed block lies past
  the deadline and nothing is left to send, destroy the campaign key;
- pending with its grace over: call ``finalize`` (anyone may);
- expired (or open past its deadline): call ``expire`` if nobody has, and destroy the key.

Roster mail (``--smtp``): once a revealed campaign's release is mined, if this custodian
alone can read the roster (custodian threshold 1) and the creator asked for mail when it
requested the key (``mailRoster``), the active pledges and the instructions are decrypted
with the custodian's own shares and ``mail.mail_roster`` mails every e-mail member not
mailed yet (recorded under the home folder). Logs carry counts, never addresses.

A release transaction is signed and its hash saved before it is sent. On the next pass
(or after a restart) a saved hash is checked first: mined means done, still in the pool
means wait, unknown to the node means dropped, and the release is planned again from the
logs. Failing passes are retried with capped exponential back-off; the loop never exits on
an error unless ``--once`` runs out of attempts.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.exceptions import TimeExhausted, TransactionNotFound

from .. import mail, protocol
from ..chain.events import custodian_assignments
from ..chain.health import NODE_UNREACHABLE, is_connection_error
from ..chain.records import Status
from ..chain.registry import Registry, status_at
from ..chain.sender import sign_release
from ..exceptions import ChainError, CryptoError, SpartacusError
from ..protocol.sealing import record_context
from .keystore import Keystore
from .log import emit, problem
from .release_plan import plan_release
from .state import WatchState

RESCAN_BLOCKS = 64  # campaigns are searched again this far back, in case of a reorg


@dataclass
class WatchSettings:
    confirmations: int = 0
    poll: float = 5.0
    max_backoff: float = 60.0
    once_attempts: int = 5
    receipt_timeout: float = 60.0
    smtp: mail.Server | None = None  # None: never mail
    mail_from: str = mail.DEFAULT_MAIL_FROM


class Watcher:
    """Does the custodian's job for one registry; ``run`` loops, ``run_pass`` does one pass."""

    def __init__(
        self,
        home: Path,
        keystore: Keystore,
        account: LocalAccount,
        registry_factory: Callable[[], Registry],
        settings: WatchSettings,
    ) -> None:
        self.home = home
        self.keystore = keystore
        self.account = account
        self.settings = settings
        self._registry_factory = registry_factory
        self._registry: Registry | None = None
        self._state: WatchState | None = None
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.started = time.time()
        self.last_pass: float | None = None
        self.failures = 0
        self.last_error: str | None = None
        self.public_error: str | None = None
        # campaign -> number of its mined releases when its roster was last mailed in full
        self._mailed: dict[int, int] = {}

    # ------------------------------------------------------------ loop

    @property
    def registry(self) -> Registry:
        with self._lock:  # the HTTP thread may ask first
            if self._registry is None:
                self._registry = self._registry_factory()
            return self._registry

    @property
    def state(self) -> WatchState:
        if self._state is None:
            registry = self.registry
            path = WatchState.file(self.home)
            self._state = WatchState(path, registry.chain_id, registry.address)
        return self._state

    def run(self, once: bool = False) -> bool:
        """Loop until stopped (or one successful pass with ``once``); False if ``once`` failed."""
        failures = 0
        while not self.stopping.is_set():
            try:
                self.run_pass()
            except Exception as exc:  # noqa: BLE001 - the daemon must outlive any one failure
                failures += 1
                self.failures = failures
                self.last_error = f"{type(exc).__name__}: {exc}"[:500]  # for the log
                unreachable = is_connection_error(exc)
                self.public_error = NODE_UNREACHABLE if unreachable else self.last_error
                delay = min(self.settings.max_backoff, self.settings.poll * 2 ** (failures - 1))
                event = "rpc_unavailable" if unreachable else "problem"
                emit(
                    event,
                    logging.WARNING,
                    problem="pass failed",
                    error=self.last_error,
                    failures=failures,
                    retry_in=round(delay, 2),
                )
                if once and failures >= self.settings.once_attempts:
                    return False
                self.stopping.wait(delay)
                continue
            if failures:
                emit("rpc_recovered", after_failures=failures)
            failures = self.failures = 0
            self.last_pass = time.time()
            if once:
                return True
            self.stopping.wait(self.settings.poll)
        return True

    def health(self) -> dict[str, Any]:
        """For ``GET /health``: ok while the last pass succeeded."""
        return {
            "ok": self.failures < 3
            and (self.last_pass is not None or time.time() - self.started < 60),
            "custodian": self.account.address,
            "lastPass": int(self.last_pass) if self.last_pass else None,
            "failures": self.failures,
            "lastError": self.public_error if self.failures else None,
        }

    def run_pass(self) -> None:
        registry = self.registry
        state = self.state
        w3 = registry.w3
        latest = int(w3.eth.block_number)
        confirmed = latest - self.settings.confirmations
        if confirmed < registry.from_block:
            return
        confirmed_time = int(w3.eth.get_block(confirmed)["timestamp"])
        latest_time = int(w3.eth.get_block(latest)["timestamp"])

        start = max(registry.from_block, min(state.scanned_to, confirmed) + 1 - RESCAN_BLOCKS)
        found = custodian_assignments(
            registry, self.account.address, from_block=start, to_block=confirmed
        )
        for assignment in found:
            record, created = state.campaign(
                assignment.campaign_id, assignment.index, assignment.campaign_key
            )
            if created:
                emit(
                    "campaign_found",
                    campaign=assignment.campaign_id,
                    custodian_index=assignment.index,
                    campaign_key=record["campaignKey"],
                    block=assignment.block_number,
                )
        state.scanned_to = confirmed

        try:
            for key, record in list(state.campaigns.items()):
                if record.get("keyDestroyed") or self.stopping.is_set():
                    continue
                try:
                    self._handle(int(key), record, confirmed, confirmed_time, latest_time)
                except SpartacusError as exc:
                    if isinstance(exc, ChainError) and is_connection_error(exc.__cause__):
                        raise
                    problem("campaign step failed", campaign=int(key), error=str(exc)[:500])
        finally:
            state.save()  # sends, receipts and destroyed keys were saved as they happened
        self._sweep_unused_keys(confirmed_time)

    # ------------------------------------------------------------ one campaign

    def _handle(
        self,
        campaign_id: int,
        record: dict[str, Any],
        confirmed: int,
        confirmed_time: int,
        latest_time: int,
    ) -> None:
        registry = self.registry
        public = bytes.fromhex(record["campaignKey"][2:])
        if not self._resolve_pending(campaign_id, record):
            return  # a release is still in the pool: wait for it
        status = status_at(registry, campaign_id, confirmed)
        record["status"] = status.label
        record["lastBlock"] = confirmed
        if status == Status.EXPIRED:
            self._destroy(campaign_id, record, public, "campaign expired", confirmed)
            try:
                self._expire(campaign_id)
            except SpartacusError as exc:  # a courtesy to everyone; the key is gone already
                problem("expire failed", campaign=campaign_id, error=str(exc)[:500])
            return
        held = public in set(self.keystore.campaign_keys())
        if not held:
            if not record.get("keyMissing"):
                record["keyMissing"] = True
                problem(
                    "campaign key not held", campaign=campaign_id, campaign_key="0x" + public.hex()
                )
            return
        info = registry.info(campaign_id)
        if status == Status.PENDING and latest_time >= info.grace_end:
            if registry.status_of(campaign_id) == Status.PENDING:
                registry.finalize(self.account, campaign_id)
                record["finalizeSent"].append(confirmed)
                emit("finalize_sent", campaign=campaign_id, grace_end=info.grace_end)
        elif status == Status.REVEALED:
            self._release(campaign_id, record, confirmed)
            self._mail(campaign_id, record, public, info.custodian_threshold, confirmed)
            if confirmed_time > info.deadline and record.get("pending") is None:
                self._destroy(
                    campaign_id, record, public, "deadline passed after the reveal", confirmed
                )

    def _release(self, campaign_id: int, record: dict[str, Any], confirmed: int) -> None:
        registry = self.registry
        plan = plan_release(
            registry, self.keystore, campaign_id, self.account, confirmed_block=confirmed
        )
        problems = {str(i): why for i, why in sorted(plan.problems.items())}
        for index, why in problems.items():
            if record["problems"].get(index) != why:
                problem("pledge not released", campaign=campaign_id, pledge=int(index), reason=why)
        record["problems"] = problems
        for number, part in enumerate(plan.parts, start=1):
            signed = sign_release(registry, self.account, campaign_id, part)
            record["pending"] = {"tx": signed.tx_hash, "round": plan.round, "nonce": signed.nonce}
            self.state.save()  # the hash is on disk before the transaction leaves
            registry.w3.eth.send_raw_transaction(signed.raw)
            emit(
                "release_sent",
                campaign=campaign_id,
                round=plan.round,
                part=number,
                parts=len(plan.parts),
                tx=signed.tx_hash,
            )
            if not self._wait(campaign_id, record, self.settings.receipt_timeout):
                return

    def _mail(
        self, campaign_id: int, record: dict[str, Any], public: bytes, t: int, confirmed: int
    ) -> None:
        """Mail the roster to e-mail members not mailed yet, where asked and readable alone."""
        server = self.settings.smtp
        if server is None or t != 1 or record.get("pending") is not None:
            return
        releases = len(record["releases"])
        if not releases or self._mailed.get(campaign_id) == releases:
            return  # nothing released yet, or nothing new released since the last mail
        key = self.keystore.campaign_key(public)
        if not key.mail_roster:
            self._mailed[campaign_id] = releases
            return
        registry = self.registry
        history = registry.history(campaign_id, to_block=confirmed)
        if history.instructions is None:
            return
        records = [history.instructions, *history.active_records()]
        n = len(history.custodians)
        shares, _ = protocol.custodian_shares(
            key.secret, campaign_id, record["index"], n, t, records
        )
        members: list[protocol.RosterEntry] = []
        instructions: str | None = None
        for pledge in records:
            share = shares.get(pledge.index)
            if share is None:
                continue  # its box does not open: reported as "pledge not released"
            pledge_key, _ = protocol.recover_key({record["index"]: share}, t, pledge.commitment)
            if pledge_key is None:
                reason = "its key does not match its commitment"
                problem("not mailed", campaign=campaign_id, pledge=pledge.index, reason=reason)
                continue
            context, account = record_context(campaign_id, pledge)
            try:
                plain = protocol.decrypt_payload(
                    pledge_key, context, pledge.member_key, account, pledge.ciphertext
                )
                if pledge.index == 0:
                    instructions = protocol.decode_instructions(plain)
                else:
                    contact = protocol.decode_contact(plain)
                    members.append(protocol.RosterEntry(pledge.index, pledge.account, contact))
            except CryptoError as exc:
                problem("not mailed", campaign=campaign_id, pledge=pledge.index, reason=str(exc))
        try:
            report = mail.mail_roster(
                path=mail.record_path(self.home, registry.chain_id, registry.address, campaign_id),
                campaign_id=campaign_id,
                title=history.terms.title if history.terms else "",
                members=members,
                instructions=instructions,
                server=server,
                sender=self.settings.mail_from,
            )
        except SpartacusError as exc:  # the server is down or refused: try again next pass
            problem("roster mail failed", campaign=campaign_id, error=_redact(str(exc))[:500])
            return
        self._mailed[campaign_id] = releases
        emit(
            "mail_sent" if report.sent else "mail_up_to_date",
            campaign=campaign_id,
            sent=len(report.sent),
            already=len(report.already),
            skipped=len(report.skipped),
        )

    def _resolve_pending(self, campaign_id: int, record: dict[str, Any]) -> bool:
        """Settle a release saved as sent; True when nothing is in flight any more."""
        pending = record.get("pending")
        if not pending:
            return True
        w3 = self.registry.w3
        try:
            w3.eth.get_transaction(pending["tx"])
        except TransactionNotFound:
            try:
                receipt = w3.eth.get_transaction_receipt(pending["tx"])
            except TransactionNotFound:
                emit("release_dropped", campaign=campaign_id, tx=pending["tx"])
                record["pending"] = None
                return True
            self._mined(campaign_id, record, receipt)
            return True
        return self._wait(campaign_id, record, min(self.settings.receipt_timeout, 5.0))

    def _wait(self, campaign_id: int, record: dict[str, Any], timeout: float) -> bool:
        tx = record["pending"]["tx"]
        try:
            receipt = self.registry.w3.eth.wait_for_transaction_receipt(
                tx, timeout=timeout, poll_latency=0.2
            )
        except TimeExhausted:
            emit("release_pending", campaign=campaign_id, tx=tx)
            return False
        self._mined(campaign_id, record, receipt)
        return True

    def _mined(self, campaign_id: int, record: dict[str, Any], receipt: Any) -> None:
        pending = record["pending"]
        record["pending"] = None
        if receipt["status"] != 1:
            problem("release reverted", campaign=campaign_id, tx=pending["tx"])
        else:
            block = int(receipt["blockNumber"])
            record["releases"].append(
                {"round": pending["round"], "tx": pending["tx"], "block": block}
            )
            emit(
                "release_mined",
                campaign=campaign_id,
                round=pending["round"],
                tx=pending["tx"],
                block=block,
            )
        self.state.save()

    def _expire(self, campaign_id: int) -> None:
        """Emit ``Expired`` on chain if nobody has yet (anyone may)."""
        history = self.registry.history(campaign_id)
        if any(change.event == "Expired" for change in history.changes):
            return
        self.registry.expire(self.account, campaign_id)
        emit("expire_sent", campaign=campaign_id)

    def _destroy(
        self, campaign_id: int, record: dict[str, Any], public: bytes, reason: str, block: int
    ) -> None:
        removed = self.keystore.destroy_campaign_key(public)
        record["keyDestroyed"] = {"reason": reason, "block": block, "time": int(time.time())}
        self.state.save()
        emit(
            "key_destroyed",
            campaign=campaign_id,
            campaign_key="0x" + public.hex(),
            reason=reason,
            file_removed=removed,
        )

    # ------------------------------------------------------------ unused keys

    def _sweep_unused_keys(self, confirmed_time: int) -> None:
        """Delete keys issued for this registry that no campaign used before they expired."""
        registry = self.registry
        used = {r["campaignKey"][2:] for r in self.state.campaigns.values()}
        for public in self.keystore.campaign_keys():
            if public.hex() in used:
                continue
            key = self.keystore.campaign_key(public)
            if (
                key.registry.lower() != registry.address.lower()
                or key.chain_id != registry.chain_id
                or key.expiry >= confirmed_time
            ):
                continue
            self.keystore.destroy_campaign_key(public)
            self.state.unused_keys_destroyed.append("0x" + public.hex())
            self.state.save()
            emit(
                "key_destroyed",
                campaign_key="0x" + public.hex(),
                reason="endorsement expired unused",
            )


def _redact(text: str) -> str:
    """Error text without the addresses in it: members' contacts stay out of the logs."""
    return re.sub(r"\S+@\S+", "<address>", text)
