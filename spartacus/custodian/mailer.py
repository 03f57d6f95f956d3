"""Roster mail (``spartacus watch --smtp``): the watcher's step after a mined release.

Where this custodian alone can read the roster (custodian threshold 1) and the creator
asked for mail when it requested the key (``mailRoster``), the instructions and the active
pledges are decrypted with the custodian's own shares (``protocol.decrypt_pledges``, as
members read the roster) and ``mail.mail_roster`` mails every member not mailed yet whose
sealed pledge asked for it (``Contact.mail``) and whose contact is an e-mail address
(recorded under the home folder); the others get nothing. Logs carry counts, never addresses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from .. import mail, protocol
from ..chain.records import History
from ..chain.registry import Registry
from ..exceptions import SpartacusError
from .keystore import Keystore
from .log import emit, problem
from .state import CampaignRecord


class RosterMailer:
    """Mails each revealed campaign's roster to its e-mail members once, as it grows."""

    def __init__(
        self,
        home: Path,
        keystore: Keystore,
        server: mail.Server | None,
        sender: str,
        roster: Callable[[int], History] | None = None,
    ) -> None:
        """``roster``: a campaign's history up to the confirmed block as the daemon's RPC
        sources agree on it (``Quorum.history``), so that no single source can add a member
        to mail; without it, the history is read from the registry at the confirmed block."""
        self.home = home
        self.roster = roster
        self.keystore = keystore
        self.server = server  # None: never mail
        self.sender = sender
        # campaign -> number of its mined releases when its roster was last mailed in full
        self._mailed: dict[int, int] = {}

    def settled(self, campaign_id: int, record: CampaignRecord, t: int) -> bool:
        """Nothing is left to mail for this campaign (so its key may go)."""
        if self.server is None or t != 1:
            return True
        return self._mailed.get(campaign_id) == len(record.releases)

    def mail(
        self,
        registry: Registry,
        campaign_id: int,
        record: CampaignRecord,
        public: bytes,
        t: int,
        confirmed: int,
    ) -> None:
        """Mail the roster to e-mail members not mailed yet, where asked and readable alone.

        ``record`` is the watcher's state for the campaign; ``public`` its campaign key.
        """
        server = self.server
        if server is None or t != 1 or record.pending is not None:
            return
        releases = len(record.releases)
        if not releases or self._mailed.get(campaign_id) == releases:
            return  # nothing released yet, or nothing new released since the last mail
        key = self.keystore.campaign_key_for(public, registry.chain_id, registry.address)
        if not key.mail_roster:
            self._mailed[campaign_id] = releases
            return
        if self.roster is not None:
            history = self.roster(campaign_id)
        else:
            history = registry.history(campaign_id, to_block=confirmed)
        if history.instructions is None:
            return
        records = history.roster_records()
        custodian = record.index
        deployment = registry.deployment
        shares, _ = protocol.custodian_shares(
            key.secret, deployment, campaign_id, custodian, len(history.custodians), t, records
        )
        # A pledge whose box does not open has no share: it is reported as "not released".
        read = protocol.decrypt_pledges(
            deployment, campaign_id, t, records, {i: {custodian: s} for i, s in shares.items()}
        )
        for index in sorted({*read.mismatched, *read.undecryptable}):
            reason = read.undecryptable.get(index, "its key does not match its commitment")
            problem("not mailed", campaign=campaign_id, pledge=index, reason=reason)
        try:
            report = mail.mail_roster(
                path=mail.record_path(self.home, registry.chain_id, registry.address, campaign_id),
                campaign_id=campaign_id,
                title=history.terms.title if history.terms else "",
                members=read.members,
                instructions=read.instructions,
                server=server,
                sender=self.sender,
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


def _redact(text: str) -> str:
    """Error text without the addresses in it: members' contacts stay out of the logs."""
    return re.sub(r"\S+@\S+", "<address>", text)
