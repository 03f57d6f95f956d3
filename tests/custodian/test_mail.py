"""The daemon mails the roster itself: only with t = 1, only when the creator asked, once.

The daemon runs as a real `spartacus watch --smtp` process against anvil, and a real SMTP
server (aiosmtpd) listens on loopback.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest
from aiosmtpd.controller import Controller

from tests.cli.conftest import CustodianRole, _free_port
from tests.cli.test_mail import Mailbox

from .conftest import Daemon, Spartacus, pledge, wait_until

INSTRUCTIONS = "Meet Monday 9:00 at the canteen"
MAIL_FROM = "custodian@example.net"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, list[str]]]:
    """A real SMTP server on a free loopback port; yields its mailbox and the watch options."""
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, ["--smtp", f"127.0.0.1:{port}", "--mail-from", MAIL_FROM]
    finally:
        controller.stop()


def _create(
    spartacus: Spartacus,
    custodians: list[CustodianRole],
    *,
    mail_roster: bool,
    t: int = 1,
    threshold: int = 2,
    deadline: str = "7d",
    late: bool = False,
) -> int:
    """Custodians endorse by file (with --mail-roster if asked); the creator creates."""
    files = []
    for c in custodians:
        path = spartacus.home(c.role) / "endorsement.json"
        flag = ["--mail-roster"] if mail_roster else []
        spartacus.ok(
            "custodian", "endorse", "--out", str(path), *flag,
            role=c.role, passphrase=c.passphrase, dev=None,
        )  # fmt: skip
        files += ["--endorsement", str(path)]
    created = spartacus.ok(
        "create", "--title", "Fix the heating", "--instructions", INSTRUCTIONS,
        "--threshold", str(threshold), "--deadline", deadline, "--grace", "0",
        "--custodian-threshold", str(t), *files, *(["--late-joining"] if late else []),
        role="creator", dev=1,
    )  # fmt: skip
    return int(created["campaign"])


def _pledge_phone(spartacus: Spartacus, campaign: int) -> None:
    spartacus.ok(
        "pledge", str(campaign), "--name", "Carol", "--contact", "+44 20 7946 0000",
        role="carol", dev=4,
    )  # fmt: skip


def _recipients(mailbox: Mailbox) -> list[str]:
    return sorted(to for tos, _ in mailbox.messages() for to in tos)


def _no_addresses_logged(daemon: Daemon) -> None:
    log = "".join(daemon.raw)
    assert "@example.org" not in log and "+44 20" not in log


def test_flagged_one_of_one_campaign_mails_each_member_once(
    spartacus: Spartacus,
    make_custodians: Callable[[int], list[CustodianRole]],
    daemons: Callable[..., Daemon],
    smtp: tuple[Mailbox, list[str]],
) -> None:
    mailbox, options = smtp
    (custodian,) = make_custodians(1)
    campaign = _create(spartacus, [custodian], mail_roster=True, threshold=3, late=True)
    daemon = daemons(custodian, "--confirmations", "0", *options)
    daemon.wait_for("campaign_found", campaign=campaign)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    wait_until(lambda: daemon.campaign_state(campaign).get("status") == "open", "open", daemon)
    time.sleep(0.6)  # a few passes before the reveal: nothing is mailed
    assert mailbox.envelopes == [] and daemon.events("mail_sent") == []

    _pledge_phone(spartacus, campaign)  # the reveal; Carol has no e-mail address
    sent = daemon.wait_for("mail_sent", campaign=campaign)[0]
    assert (sent["sent"], sent["skipped"]) == (2, 1)
    assert _recipients(mailbox) == ["alice@example.org", "bob@example.org"]
    for _, message in mailbox.messages():
        body = message.get_content()
        assert message["From"] == MAIL_FROM
        assert all(name in body for name in ("Alice", "Bob", "Carol")) and INSTRUCTIONS in body

    pledge(spartacus, campaign, "Dave", 5)  # a late member: mailed on a later pass, alone
    spartacus.ok("admit", str(campaign), "--all", role="creator", dev=1)  # once admitted
    late = daemon.wait_for("mail_sent", campaign=campaign, count=2)[1]
    assert (late["sent"], late["already"]) == (1, 2)
    assert _recipients(mailbox) == [
        "alice@example.org", "bob@example.org", "dave@example.org"
    ]  # fmt: skip
    assert "Dave" in mailbox.messages()[-1][1].get_content()
    assert daemon.stop() == 0
    _no_addresses_logged(daemon)

    again = daemons(custodian, "--confirmations", "0", *options)
    again.wait_for("mail_up_to_date", campaign=campaign)
    assert len(mailbox.envelopes) == 3 and again.events("mail_sent") == []
    record = spartacus.home(custodian.role) / "mail"
    assert len(list(record.rglob("*.json"))) == 1


def test_only_members_who_asked_in_their_pledge_are_mailed(
    spartacus: Spartacus,
    make_custodians: Callable[[int], list[CustodianRole]],
    daemons: Callable[..., Daemon],
    smtp: tuple[Mailbox, list[str]],
) -> None:
    mailbox, options = smtp
    (custodian,) = make_custodians(1)
    campaign = _create(spartacus, [custodian], mail_roster=True, threshold=2)
    daemon = daemons(custodian, "--confirmations", "0", *options)
    daemon.wait_for("campaign_found", campaign=campaign)
    pledge(spartacus, campaign, "Alice", 2, mail_me=True)
    pledge(spartacus, campaign, "Bob", 3, mail_me=False)  # the reveal; Bob did not ask

    sent = daemon.wait_for("mail_sent", campaign=campaign)[0]
    assert (sent["sent"], sent["skipped"]) == (1, 1)
    assert _recipients(mailbox) == ["alice@example.org"]
    body = mailbox.messages()[0][1].get_content()
    assert "Alice" in body and "Bob" in body  # Bob is on the roster, just not mailed
    assert daemon.stop() == 0
    _no_addresses_logged(daemon)
    (record,) = (spartacus.home(custodian.role) / "mail").rglob("*.json")
    assert len(json.loads(record.read_text())["sent"]) == 1  # Alice's pledge alone


def test_key_requested_over_http_with_mail_roster_is_flagged_and_mailed(
    spartacus: Spartacus,
    make_custodians: Callable[[int], list[CustodianRole]],
    daemons: Callable[..., Daemon],
    smtp: tuple[Mailbox, list[str]],
) -> None:
    mailbox, options = smtp
    (custodian,) = make_custodians(1)
    daemon = daemons(custodian, "--confirmations", "0", "--listen", "127.0.0.1:0", *options)
    url = f"http://127.0.0.1:{daemon.wait_for('http_listening')[0]['port']}"
    created = spartacus.ok(
        "create", "--title", "Fix the heating", "--instructions", INSTRUCTIONS,
        "--threshold", "2", "--deadline", "7d", "--grace", "0", "--custodian", url,
        "--mail-roster", role="creator", dev=1,
    )  # fmt: skip
    campaign = int(created["campaign"])
    issued = daemon.wait_for("key_issued")[0]
    assert issued["mail_roster"] is True
    key_file = spartacus.home(custodian.role) / "custodian" / "keys"
    key_file = key_file / f"{issued['campaign_key'][2:]}.json"
    assert json.loads(key_file.read_text())["mailRoster"] is True

    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    assert daemon.wait_for("mail_sent", campaign=campaign)[0]["sent"] == 2
    assert _recipients(mailbox) == ["alice@example.org", "bob@example.org"]


def test_mail_roster_for_create_needs_a_custodian_url_and_t_1(spartacus: Spartacus) -> None:
    result = spartacus(
        "create", "--title", "T", "--instructions", "I", "--threshold", "2",
        "--deadline", "7d", "--custodian", "http://127.0.0.1:9", "--custodian-threshold", "2",
        "--mail-roster", role="creator", dev=1,
    )  # fmt: skip
    assert result.exit_code != 0 and "--custodian-threshold 1" in result.stderr


def test_unflagged_campaign_is_never_mailed(
    spartacus: Spartacus,
    make_custodians: Callable[[int], list[CustodianRole]],
    daemons: Callable[..., Daemon],
    smtp: tuple[Mailbox, list[str]],
) -> None:
    mailbox, options = smtp
    (custodian,) = make_custodians(1)
    campaign = _create(spartacus, [custodian], mail_roster=False)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    daemon = daemons(custodian, "--confirmations", "0", *options)
    daemon.wait_for("release_mined", campaign=campaign, count=2)
    time.sleep(0.6)
    assert mailbox.envelopes == []
    assert daemon.events("mail_sent") == [] and daemon.events("mail_up_to_date") == []


def test_two_of_three_campaign_is_never_mailed_even_if_flagged(
    spartacus: Spartacus,
    make_custodians: Callable[[int], list[CustodianRole]],
    daemons: Callable[..., Daemon],
    smtp: tuple[Mailbox, list[str]],
) -> None:
    mailbox, options = smtp
    custodians = make_custodians(3)
    campaign = _create(spartacus, custodians, mail_roster=True, t=2)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    running = [daemons(c, "--confirmations", "0", *options) for c in custodians[:2]]
    for daemon in running:
        daemon.wait_for("release_mined", campaign=campaign, count=2)
    time.sleep(0.6)
    assert mailbox.envelopes == []
    assert all(d.events("mail_sent") == [] for d in running)


def test_expired_campaign_is_never_mailed(
    spartacus: Spartacus,
    make_custodians: Callable[[int], list[CustodianRole]],
    daemons: Callable[..., Daemon],
    smtp: tuple[Mailbox, list[str]],
    travel: Callable[[int], None],
) -> None:
    mailbox, options = smtp
    (custodian,) = make_custodians(1)
    campaign = _create(spartacus, [custodian], mail_roster=True, threshold=3, deadline="1h")
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    travel(2 * 3600)
    daemon = daemons(custodian, "--confirmations", "0", *options)
    daemon.wait_for("key_destroyed", campaign=campaign)
    time.sleep(0.6)
    assert mailbox.envelopes == [] and daemon.events("mail_sent") == []


def test_smtp_failure_is_a_problem_and_the_daemon_retries(
    spartacus: Spartacus,
    make_custodians: Callable[[int], list[CustodianRole]],
    daemons: Callable[..., Daemon],
) -> None:
    (custodian,) = make_custodians(1)
    campaign = _create(spartacus, [custodian], mail_roster=True)
    pledge(spartacus, campaign, "Alice", 2)
    pledge(spartacus, campaign, "Bob", 3)
    port = _free_port()  # nobody listens yet
    options = ["--smtp", f"127.0.0.1:{port}", "--mail-from", MAIL_FROM]
    daemon = daemons(custodian, "--confirmations", "0", *options)
    daemon.wait_for("problem", problem="roster mail failed", campaign=campaign)
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert daemon.wait_for("mail_sent", campaign=campaign)[0]["sent"] == 2
    finally:
        controller.stop()
    assert daemon.alive() and len(mailbox.envelopes) == 2
    _no_addresses_logged(daemon)
