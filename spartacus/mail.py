"""Mail the revealed roster to every member whose contact is an e-mail address.

Only decrypted members (``Roster.members``) are ever mailed or quoted: a pledge that did
not decrypt is never part of a message. What was sent is recorded under the home folder,
one entry per member right after the server accepted its message, so a later run sends
only to members not mailed yet (at most one message is repeated after a crash). The
record holds member indices and salted hashes of the addresses, never the addresses.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import smtplib
import ssl
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from .exceptions import MailError, UsageError
from .files import read_json, write_json
from .protocol.roster import RosterEntry

DEFAULT_SMTP = "127.0.0.1:25"
DEFAULT_MAIL_FROM = "spartacus@localhost"

# Deliberately narrow: ASCII local part and a dotted domain, nothing that could be a
# second address, a header, or a command.
_ADDRESS = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_SENDER = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+")


def email_address(contact: str) -> str | None:
    """The address in ``contact`` if it is exactly one plain e-mail address, else None."""
    if contact.count("@") != 1 or any(unicodedata.category(c) == "Cc" for c in contact):
        return None
    _, address = parseaddr(contact)
    return address if _ADDRESS.fullmatch(address) else None


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, text: str, user: str | None = None, password: str | None = None) -> Server:
        """``HOST:PORT``, ``HOST`` (port 25) or ``[IPv6]:PORT``."""
        host, sep, port = text.strip().rpartition(":")
        if not sep or "]" in port:
            host, port = text.strip(), "25"
        host = host.removeprefix("[").removesuffix("]")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"--smtp {text!r} is not HOST:PORT (e.g. 127.0.0.1:25)")
        return cls(host, int(port), user or None, password or None)

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class MailReport:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"sent": self.sent, "skipped": self.skipped, "already": self.already}

    def lines(self) -> list[str]:
        if self.sent:
            out = [f"Mail: sent the roster to {len(self.sent)}: {', '.join(self.sent)}"]
        else:
            out = ["Mail: nothing new to send"]
        if self.already:
            out.append(f"  mailed before: {', '.join(self.already)}")
        if self.skipped:
            out.append(f"  skipped (not an e-mail address): {', '.join(map(repr, self.skipped))}")
        return out


def check_sender(sender: str) -> str:
    """The --mail-from address, refused unless it is one plain address."""
    if not _SENDER.fullmatch(sender):
        raise UsageError(f"--mail-from {sender!r} is not a plain e-mail address")
    return sender


def record_path(home: Path, chain_id: int, registry: str, campaign_id: int) -> Path:
    return home / "mail" / str(chain_id) / registry.lower() / f"{campaign_id}.json"


def _one_line(text: str) -> str:
    return " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in text).split())


def build_message(
    *,
    campaign_id: int,
    title: str,
    members: Sequence[RosterEntry],
    instructions: str,
    sender: str,
    to: str,
) -> EmailMessage:
    """One plain-text message: every member's name, contact and message, then instructions."""
    message = EmailMessage()
    subject = f"Spartacus campaign {campaign_id}: {_one_line(title)}" if title else ""
    message["Subject"] = (subject or f"Spartacus campaign {campaign_id}")[:200]
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    lines = [
        f"Campaign {campaign_id} reached its threshold. You pledged to it with this address;",
        "these are the members readable so far:",
        "",
    ]
    for m in members:
        lines.append(f"  #{m.index} {_one_line(m.contact.name)} <{_one_line(m.contact.contact)}>")
        if m.contact.message:
            lines.append(f"      {_one_line(m.contact.message)}")
    lines += ["", "The organiser's instructions:", "", instructions, ""]
    lines.append(
        "Members who join later are mailed when they become readable; "
        "`spartacus roster` shows the current roster."
    )
    message.set_content("\n".join(lines))
    return message


def _load(path: Path) -> dict[str, Any]:
    record: dict[str, Any] = read_json(path, "mail record") if path.exists() else {}
    record.setdefault("sent", [])
    # The record says which members were mailed, not where: a seized or inspected machine
    # must not hold a list of the members' addresses. Each address is kept as a salted
    # SHA-256 (one random salt per record), enough to answer "was this address mailed?".
    record.setdefault("salt", secrets.token_hex(16))
    return record


def address_hash(record: dict[str, Any], address: str) -> str:
    """How ``address`` is written in ``record``: never the address itself."""
    digest = hashlib.sha256(bytes.fromhex(record["salt"]) + address.lower().encode())
    return "sha256:" + digest.hexdigest()


def _connect(server: Server) -> smtplib.SMTP:
    try:
        smtp = smtplib.SMTP(server.host, server.port, local_hostname="localhost", timeout=30)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(
            f"cannot reach the mail server {server} ({exc}); nothing was sent. "
            "Pass --smtp HOST:PORT or set SPARTACUS_SMTP"
        ) from None
    try:
        smtp.ehlo()
        if not server.loopback:
            # The roster must not cross the network in clear.
            if not smtp.has_extn("starttls"):
                raise MailError(
                    f"the mail server {server} does not offer STARTTLS: the roster would "
                    "cross the network in clear; nothing was sent"
                )
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if server.user:
            smtp.login(server.user, server.password or "")
    except smtplib.SMTPAuthenticationError as exc:
        smtp.close()
        raise MailError(f"the mail server {server} refused the login: {exc}") from None
    except (OSError, smtplib.SMTPException) as exc:
        smtp.close()
        raise MailError(f"the mail server {server} failed: {exc}; nothing was sent") from None
    except MailError:
        smtp.close()
        raise
    return smtp


def mail_roster(
    *,
    path: Path,
    campaign_id: int,
    title: str,
    members: Sequence[RosterEntry],
    instructions: str | None,
    server: Server,
    sender: str,
) -> MailReport:
    """Send the roster once to each e-mail member not mailed yet who asked for it in the
    sealed pledge (``Contact.mail``); record each right after. Others are ``skipped``."""
    check_sender(sender)
    if instructions is None:
        raise MailError(
            f"campaign {campaign_id}'s instructions are not readable yet (waiting for "
            "custodians): nothing was mailed"
        )
    record = _load(path)
    done = {int(entry["index"]) for entry in record["sent"]}
    report = MailReport()
    todo: dict[str, list[int]] = {}  # address (lower case) -> member indices, send once
    for m in members:
        address = email_address(m.contact.contact)
        if address is None or not m.contact.mail:  # only members who asked in their pledge
            report.skipped.append(m.contact.contact)
        elif m.index in done:
            report.already.append(address)
        else:
            todo.setdefault(address.lower(), []).append(m.index)
    if not todo:
        return report

    smtp = _connect(server)
    refused: list[str] = []
    try:
        for address, indices in todo.items():
            message = build_message(
                campaign_id=campaign_id,
                title=title,
                members=members,
                instructions=instructions,
                sender=sender,
                to=address,
            )
            try:
                smtp.send_message(message, from_addr=sender, to_addrs=[address])
            except smtplib.SMTPRecipientsRefused as exc:
                code, reason = exc.recipients.get(address, (0, b""))
                refused.append(f"{address} ({code} {reason.decode(errors='replace')})")
                continue
            except (OSError, smtplib.SMTPException) as exc:
                raise MailError(
                    f"the mail server {server} failed while sending to {address}: {exc}; "
                    f"{len(report.sent)} sent before are recorded, run again for the rest"
                ) from None
            to = address_hash(record, address)
            record["sent"] += [{"index": i, "to": to} for i in indices]
            write_json(path, record)
            report.sent.append(address)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    if refused:
        raise MailError(
            f"the mail server {server} refused {', '.join(refused)}; "
            f"sent to {len(report.sent)} others, recorded"
        )
    return report
