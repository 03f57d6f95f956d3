"""The join form's "E-mail me the roster" box (issue 13, item 6): off by default, warns
against a work address, needs an e-mail contact, and seals ``"mail":true`` in the pledge,
which is all the custodian's mailer goes by (tests/custodian/test_mail.py)."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from spartacus import protocol

from .conftest import Site
from .test_browser import TIMEOUT
from .test_receipts import new_campaign


def _sealed_contact(site: Site, campaign_id: int, code: str) -> protocol.Contact:
    """Open the pledge of receipt ``code`` with its own key, as read from the chain."""
    keys = protocol.derive_keys(protocol.decode_receipt(code)[1])
    registry = site.state.registry
    (record,) = [
        p.record
        for p in registry.history(campaign_id).pledges
        if p.record.account.lower() == keys.account.lower()
    ]
    plain = protocol.decrypt_payload(
        keys.pledge_key, registry.deployment, campaign_id, record.member_key,
        record.account, record.ciphertext,
    )  # fmt: skip
    return protocol.decode_contact(plain)


def test_the_mail_me_box_seals_the_opt_in_and_needs_an_address(
    browser: Browser, site: Site
) -> None:
    url = new_campaign(browser, site)
    campaign_id = int(url.rsplit("/", 1)[1])
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.goto(url)
    field = page.locator("#join-mail-field")
    expect(field).to_be_visible()  # one custodian (t = 1): it may mail the roster
    expect(field).to_contain_text("not a work address")
    expect(page.locator("#join-mail")).not_to_be_checked()

    page.fill("#join-name", "Dana Petit")
    page.fill("#join-contact", "+44 20 7946 0000")
    page.check("#join-mail")
    page.click("#join-submit")
    expect(page.locator("#join-error")).to_contain_text("give one e-mail address")
    expect(page.locator("#receipt")).to_be_hidden()
    assert not [p for m, p, _ in site.recorder.requests if p == "/api/relay/pledge"]

    page.fill("#join-contact", "dana@example.org")
    page.click("#join-submit")
    expect(page.locator("#join-progress")).to_contain_text("You have joined")
    code = page.locator("#receipt-code").inner_text()
    assert _sealed_contact(site, campaign_id, code) == protocol.Contact(
        "Dana Petit", "dana@example.org", "", mail=True
    )

    other = context.new_page()  # the box left unticked seals no opt-in
    other.goto(url)
    other.fill("#join-name", "Eli Moreau")
    other.fill("#join-contact", "eli@example.org")
    other.click("#join-submit")
    expect(other.locator("#join-progress")).to_contain_text("You have joined")
    code = other.locator("#receipt-code").inner_text()
    assert _sealed_contact(site, campaign_id, code).mail is False
    context.close()
