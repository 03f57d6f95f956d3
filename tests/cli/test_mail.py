"""`spartacus roster --mail` against anvil and a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from spartacus.mail import email_address

from .conftest import Spartacus, _free_port

INSTRUCTIONS = "Meet Monday 9:00 at the canteen"
Create = Callable[..., tuple[int, list[Any]]]


@dataclass
class Mailbox:
    """Collects every envelope the server accepts."""

    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        out = []
        for envelope in self.envelopes:
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            out.append((list(envelope.rcpt_tos), message))
        return out


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, dict[str, str]]]:
    """A real SMTP server on a free loopback port; yields its mailbox and the CLI env."""
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield (
            mailbox,
            {
                "SPARTACUS_SMTP": f"127.0.0.1:{port}",
                "SPARTACUS_MAIL_FROM": "org@example.net",
            },
        )
    finally:
        controller.stop()


def _pledge(spartacus: Spartacus, campaign: int, name: str, contact: str, dev: int) -> None:
    """A pledge that asks for the roster by e-mail wherever its contact is an address."""
    flag = ["--mail-me"] if email_address(contact) else []
    spartacus.ok(
        "pledge",
        str(campaign),
        "--name",
        name,
        "--contact",
        contact,
        "--message",
        f"{name} is in",
        *flag,
        role=name.lower(),
        dev=dev,
    )


def _release(spartacus: Spartacus, custodian: Any, campaign: int) -> None:
    spartacus.ok(
        "custodian",
        "release",
        str(campaign),
        role=custodian.role,
        passphrase=custodian.passphrase,
        dev=None,
    )


def _body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_roster_mail_sends_once_per_member_and_later_to_late_members(
    spartacus: Spartacus, create_campaign: Create, smtp: tuple[Mailbox, dict[str, str]]
) -> None:
    mailbox, env = smtp
    campaign, (custodian,) = create_campaign(threshold=3, late=True)  # Dave joins late
    members = {"Alice": "alice@example.org", "Bob": "Bob <bob@example.org>", "Carol": "+44 1"}
    for dev, (name, contact) in enumerate(members.items(), start=2):
        _pledge(spartacus, campaign, name, contact, dev)
    _release(spartacus, custodian, campaign)

    first = spartacus.ok("roster", str(campaign), "--mail", role="alice", env=env)
    assert sorted(first["sent"]) == ["alice@example.org", "bob@example.org"]
    assert (first["skipped"], first["already"]) == (["+44 1"], [])
    assert len(first["members"]) == 3  # the roster itself is still shown
    received = mailbox.messages()
    assert sorted(to for tos, _ in received for to in tos) == first["sent"]
    for tos, message in received:
        assert message["To"] == tos[0] and message["From"] == "org@example.net"
        body = _body(message)
        for name, contact in members.items():
            assert name in body and contact in body and f"{name} is in" in body
        assert INSTRUCTIONS in body

    again = spartacus("roster", str(campaign), "--mail", role="alice", env=env)
    assert again.exit_code == 0 and "nothing new to send" in again.stdout
    assert sorted(
        spartacus.ok("roster", str(campaign), "--mail", role="alice", env=env)["already"]
    ) == ["alice@example.org", "bob@example.org"]
    assert len(mailbox.envelopes) == 2

    _pledge(spartacus, campaign, "Dave", "dave@example.org", 5)
    spartacus.ok("admit", str(campaign), "--all", role="creator", dev=1)
    before_release = spartacus.ok("roster", str(campaign), "--mail", role="alice", env=env)
    assert before_release["sent"] == [] and len(mailbox.envelopes) == 2
    _release(spartacus, custodian, campaign)
    late = spartacus.ok("roster", str(campaign), "--mail", role="alice", env=env)
    assert late["sent"] == ["dave@example.org"]
    assert sorted(late["already"]) == ["alice@example.org", "bob@example.org"]
    assert len(mailbox.envelopes) == 3
    tos, message = mailbox.messages()[-1]
    assert tos == ["dave@example.org"] and "Dave is in" in _body(message)
    assert spartacus.ok("roster", str(campaign), "--mail", role="alice", env=env)["sent"] == []
    assert len(mailbox.envelopes) == 3

    # What the sender's machine keeps says who was mailed by index, never where to.
    (record,) = (spartacus.home("alice") / "mail").rglob("*.json")
    kept = record.read_text()
    assert "@" not in kept and "example.org" not in kept
    assert kept.count('"sha256:') == 3  # Alice, Bob and Dave; Carol gave a phone number


def test_roster_mail_before_the_reveal_is_refused_and_sends_nothing(
    spartacus: Spartacus, create_campaign: Create, smtp: tuple[Mailbox, dict[str, str]]
) -> None:
    mailbox, env = smtp
    campaign, _ = create_campaign(threshold=3)
    _pledge(spartacus, campaign, "Alice", "alice@example.org", 2)
    _pledge(spartacus, campaign, "Bob", "bob@example.org", 3)
    early = spartacus("roster", str(campaign), "--mail", role="alice", env=env)
    assert early.exit_code == 1 and "nothing is readable before the reveal" in early.stderr
    assert mailbox.envelopes == []


def test_roster_mail_for_an_expired_campaign_is_refused_and_sends_nothing(
    spartacus: Spartacus,
    create_campaign: Create,
    smtp: tuple[Mailbox, dict[str, str]],
    travel: Callable[[int], None],
) -> None:
    mailbox, env = smtp
    campaign, _ = create_campaign(threshold=2, deadline="1h")
    _pledge(spartacus, campaign, "Alice", "alice@example.org", 2)
    travel(2 * 3600)
    expired = spartacus("roster", str(campaign), "--mail", role="alice", env=env)
    assert expired.exit_code == 1 and "expired" in expired.stderr
    assert mailbox.envelopes == []


def test_roster_mail_skips_a_member_who_did_not_ask(
    spartacus: Spartacus, create_campaign: Create, smtp: tuple[Mailbox, dict[str, str]]
) -> None:
    mailbox, env = smtp
    campaign, (custodian,) = create_campaign(threshold=2)
    _pledge(spartacus, campaign, "Alice", "alice@example.org", 2)
    spartacus.ok(
        "pledge", str(campaign), "--name", "Bob", "--contact", "bob@example.org",
        role="bob", dev=3,
    )  # fmt: skip
    _release(spartacus, custodian, campaign)
    result = spartacus.ok("roster", str(campaign), "--mail", role="alice", env=env)
    assert (result["sent"], result["skipped"]) == (["alice@example.org"], ["bob@example.org"])
    assert [tos for tos, _ in mailbox.messages()] == [["alice@example.org"]]


def test_pledge_mail_me_without_an_email_contact_is_refused(
    spartacus: Spartacus, create_campaign: Create
) -> None:
    campaign, _ = create_campaign(threshold=2)
    result = spartacus(
        "pledge", str(campaign), "--name", "Carol", "--contact", "+44 20 7946 0000", "--mail-me",
        role="carol", dev=4,
    )  # fmt: skip
    assert result.exit_code != 0
    assert "--mail-me needs --contact to be one plain e-mail address" in result.stderr
    assert spartacus.ok("status", str(campaign))["active"] == 0


def test_roster_mail_skips_a_header_injection_contact(
    spartacus: Spartacus, create_campaign: Create, smtp: tuple[Mailbox, dict[str, str]]
) -> None:
    mailbox, env = smtp
    campaign, (custodian,) = create_campaign(threshold=2)
    injected = "mallory@example.org\nBcc: victim@example.org"
    _pledge(spartacus, campaign, "Alice", "alice@example.org", 2)
    _pledge(spartacus, campaign, "Mallory", injected, 3)
    _release(spartacus, custodian, campaign)
    result = spartacus.ok("roster", str(campaign), "--mail", role="alice", env=env)
    assert (result["sent"], result["skipped"]) == (["alice@example.org"], [injected])
    ((tos, message),) = mailbox.messages()
    assert tos == ["alice@example.org"]
    assert message["Bcc"] is None and "\nBcc:" not in _body(message)


@pytest.mark.parametrize(
    "contact",
    [
        "a@b.org\r\nBcc: c@d.org",
        "a@b.org, c@d.org",
        "A <a@b.org>, c@d.org",
        "a b@c.org",
        "a@b.org\x00",
        "+44 20 7946 0000",
        "@b.org",
        "a@b",
        "a@-b.org",
    ],
)
def test_email_address_refuses_anything_but_one_plain_address(contact: str) -> None:
    assert email_address(contact) is None


@pytest.mark.parametrize(
    ("contact", "address"),
    [
        ("alice@example.org", "alice@example.org"),
        ("Bob <b.ob+x@mail.example.org>", "b.ob+x@mail.example.org"),
    ],
)
def test_email_address_accepts_a_plain_address(contact: str, address: str) -> None:
    assert email_address(contact) == address


def test_roster_mail_with_the_server_down_fails_clearly(
    spartacus: Spartacus, create_campaign: Create
) -> None:
    campaign, (custodian,) = create_campaign(threshold=2)
    _pledge(spartacus, campaign, "Alice", "alice@example.org", 2)
    _pledge(spartacus, campaign, "Bob", "bob@example.org", 3)
    _release(spartacus, custodian, campaign)
    env = {"SPARTACUS_SMTP": f"127.0.0.1:{_free_port()}"}
    down = spartacus("roster", str(campaign), "--mail", role="alice", env=env)
    assert down.exit_code == 1
    assert down.stderr.count("\n") == 1 and "cannot reach the mail server" in down.stderr
    assert not (spartacus.home("alice") / "mail").exists()


class RefusingMailbox(Mailbox):
    """Refuses one recipient, as a server does for an unknown mailbox."""

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address == "bob@example.org":
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_roster_mail_refused_recipient_fails_and_keeps_the_others_recorded(
    spartacus: Spartacus, create_campaign: Create
) -> None:
    campaign, (custodian,) = create_campaign(threshold=3)
    for dev, name in enumerate(("Alice", "Bob", "Carol"), start=2):
        _pledge(spartacus, campaign, name, f"{name.lower()}@example.org", dev)
    _release(spartacus, custodian, campaign)
    mailbox = RefusingMailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env = {"SPARTACUS_SMTP": f"127.0.0.1:{port}"}
        first = spartacus("roster", str(campaign), "--mail", role="carol", env=env)
        assert first.exit_code == 1 and "refused bob@example.org (550" in first.stderr
        assert sorted(to for e in mailbox.envelopes for to in e.rcpt_tos) == [
            "alice@example.org",
            "carol@example.org",
        ]
        second = spartacus("roster", str(campaign), "--mail", "--json", role="carol", env=env)
        assert second.exit_code == 1 and "refused bob@example.org" in second.stderr
        assert len(mailbox.envelopes) == 2  # only Bob was tried again
    finally:
        controller.stop()
