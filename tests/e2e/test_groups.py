"""Groups in the browser, end to end: Chromium, the web app under waitress, anvil.

The admin (the chain client) creates a group and invitations; a browser opens an
invitation link, redeems it through the site's relayer, and the group page counts the new
member; the browser then proves membership with the depth-16 files the site serves itself,
and SpartacusGroups.verifyMembership on the chain accepts the proof for its message and
refuses it for another. The identity moves between the browser and the CLI in both
directions with one backup format. axe-core checks the group pages at 390 and 1280 px.
Issue 12's whole story: two invited people, each in a browser of their own, pledge to a
gated campaign through the relayer, it reveals and both read the roster, while an
uninvited browser is stopped before anything is sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import waitress
from playwright.sync_api import Browser, BrowserContext, Page, expect
from web3 import Web3

from spartacus import semaphore
from spartacus.chain.groups import Groups
from spartacus.chain.registry import Registry
from spartacus.cli.context import dev_account
from spartacus.exceptions import ContractRevert
from spartacus.semaphore import Proof
from spartacus.web import WebState, create_app
from tests.cli.conftest import Spartacus

from .conftest import BodyRecorder, Site
from .test_accessibility import AXE, violations
from .test_browser import CONTACTS, NAMES, TIMEOUT, join, open_page, person
from .test_static_copy import read_roster

ADMIN = 0
PROVE = "([g, s, m]) => window.spartacus.proveMembership(g, s, m)"


@dataclass
class GroupSite:
    url: str
    groups: Groups
    recorder: BodyRecorder
    third_party: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def context(self, browser: Browser) -> BrowserContext:
        context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
        context.set_default_timeout(TIMEOUT)
        context.add_init_script(path=str(AXE))

        def check(request: Any) -> None:
            if not request.url.startswith((self.url, "data:", "blob:")):
                self.third_party.append(request.url)

        context.on("request", check)
        return context

    def open(self, context: BrowserContext, path: str) -> Page:
        page = context.new_page()
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.goto(self.url + path)
        return page


@pytest.fixture
def group_site(spartacus: Spartacus, w3: Web3, tmp_path: Path) -> Iterator[GroupSite]:
    # The registry's own groups contract (its gated campaigns' groups): the site's default.
    groups = Registry(w3, spartacus.registry).groups
    app = create_app(
        {
            "RPC": spartacus.rpc,
            "REGISTRY": spartacus.registry,
            "HOME": str(tmp_path / "web"),
            "RELAYER_KEY": dev_account(6),
            "POLL_INTERVAL": 0.3,
        }
    )
    state: WebState = app.extensions["spartacus"]
    state.start()
    recorder = BodyRecorder(app)
    server = waitress.create_server(recorder, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield GroupSite(f"http://127.0.0.1:{server.effective_port}", groups, recorder)
    state.stop()
    server.close()


def assert_verifies_only_for(
    groups: Groups, group_id: int, scope: int, message: int, proof: Proof
) -> None:
    assert groups.verify_membership(group_id, scope, message, proof) is True
    with pytest.raises(ContractRevert) as other:
        groups.verify_membership(group_id, scope, message + 1, proof)
    assert other.value.name == "ProofMismatch"
    moved = Proof(proof.depth, proof.root, proof.nullifier, message + 1, proof.scope, proof.points)
    with pytest.raises(ContractRevert) as forged:  # the message claimed, not the one proved
        groups.verify_membership(group_id, scope, message + 1, moved)
    assert forged.value.name == "InvalidProof"


def test_invitation_link_redeem_prove_and_move_the_identity(
    browser: Browser, group_site: GroupSite, spartacus: Spartacus, tmp_path: Path
) -> None:
    groups = group_site.groups
    admin = dev_account(ADMIN)
    group_id = groups.create_group(admin, "Night shift")
    first, second = groups.create_invitations(admin, group_id, 2)
    found: list[dict[str, Any]] = []

    alice = group_site.context(browser)
    page = group_site.open(alice, f"/g/{group_id}")
    expect(page.locator("#group-size")).to_have_text("0")
    expect(page.locator("#group-invitations")).to_contain_text("Open: 2 invitations")
    found += violations(page, "group page, visitor")

    page = group_site.open(alice, f"/g/{group_id}/join#{first.code}")
    expect(page.locator("#redeem-submit")).to_be_enabled()
    assert "#" not in page.url  # the code left the address bar and the history entry
    found += violations(page, "invitation page")
    page.click("#redeem-submit")
    expect(page.locator("#redeem-done")).to_be_visible()
    expect(page.locator("#group-size")).to_have_text("1")
    expect(page.locator("#identity-kept")).to_be_visible()
    expect(page.locator("#identity-warning")).to_contain_text("Download a backup")
    found += violations(page, "invitation redeemed, identity kept")
    page = group_site.open(alice, f"/g/{group_id}")
    expect(page.locator("#group-size")).to_have_text("1")
    expect(page.locator("#group-invitations")).to_contain_text("Open: 1 invitation not yet used")
    found += violations(page, "group page, member")
    commitment = int(page.locator("#identity-commitment").inner_text())
    assert groups.members(group_id) == [commitment]

    # The code never reached the server: only the commitment and the key's signature.
    seen = b"\n".join(group_site.recorder.raw)
    assert first.code.encode() not in seen and first.code.split("-")[1].encode() not in seen
    assert first.key.hex().encode() not in seen

    # Proving in the browser, checked by the contract: true for its message, refused for another.
    scope = groups.scope_of(spartacus.registry, 7)
    scope_js = page.evaluate(
        "([r, c]) => window.spartacus.membershipScope(r, c)", [spartacus.registry, 7]
    )
    assert int(scope_js) == scope  # the browser's scope rule is the contract's
    message = 0xC0FFEE
    proof = Proof.from_json(page.evaluate(PROVE, [group_id, str(scope), str(message)]))
    assert_verifies_only_for(groups, group_id, scope, message, proof)

    # Browser -> CLI: the downloaded backup is the CLI's identity file.
    with page.expect_download() as download:
        page.click("#identity-download")
    assert download.value.suggested_filename == "key.json"
    backup = tmp_path / "key.json"
    download.value.save_as(backup)
    env = {"SPARTACUS_GROUPS": groups.address}
    restored = spartacus.ok("group", "restore", str(backup), role="laptop", env=env)
    assert restored["member"] is True and int(restored["commitment"]) == commitment
    saved = json.loads(Path(restored["identity"]).read_text())
    assert saved == json.loads(backup.read_text())
    cli_proof = semaphore.prove(saved["backup"], groups.members(group_id), scope, message + 5)
    assert groups.verify_membership(group_id, scope, message + 5, cli_proof) is True

    # A used invitation, opened in another browser: refused with the reason, nothing kept.
    eve = group_site.context(browser)
    used = group_site.open(eve, f"/g/{group_id}/join#{first.code}")
    used.click("#redeem-submit")
    expect(used.locator("#redeem-error")).to_contain_text("already used")
    expect(used.locator("#identity-none")).to_be_visible()
    found += violations(used, "invitation refused")
    assert used.evaluate("() => localStorage.getItem('spartacus.identities')") == "{}"

    # CLI -> browser: carol redeems with the CLI and restores her file in a browser.
    carol = spartacus.ok("group", "redeem", second.code, role="carol", dev=4, env=env)
    carols = group_site.context(browser)
    page = group_site.open(carols, f"/g/{group_id}")
    expect(page.locator("#group-size")).to_have_text("2")
    page.set_input_files("#restore-file", carol["identity"])
    expect(page.locator("#identity-kept")).to_be_visible()
    expect(page.locator("#identity-commitment")).to_have_text(carol["commitment"])
    expect(page.locator("#restore-error")).to_be_hidden()
    proof = Proof.from_json(page.evaluate(PROVE, [group_id, str(scope), str(message)]))
    assert_verifies_only_for(groups, group_id, scope, message, proof)
    # Same member, same scope: the same nullifier whichever client proves.
    cli_again = semaphore.prove(carol["backup"], groups.members(group_id), scope, message)
    assert cli_again.nullifier == proof.nullifier

    assert found == [], "\n".join(
        f"{v['state']} at {v['width']} px: {v['rule']} ({v['impact']}): {v['help']} at {v['where']}"
        for v in found
    )
    assert group_site.third_party == []
    assert group_site.errors == []


def test_gated_campaign_join_proves_membership_in_the_browser(
    browser: Browser, group_site: GroupSite, spartacus: Spartacus, create_campaign: Any
) -> None:
    groups = group_site.groups
    admin = dev_account(ADMIN)
    group_id = groups.create_group(admin, "Night shift")
    (invitation,) = groups.create_invitations(admin, group_id, 1)
    campaign_id, _ = create_campaign(threshold=3, group=group_id)
    registry = Registry(groups.w3, spartacus.registry)

    # Someone with no membership is stopped before any code is shown or anything is sent.
    eve = group_site.open(group_site.context(browser), f"/c/{campaign_id}")
    eve.fill("#join-name", "Eve")
    eve.fill("#join-contact", "eve@example.org")
    eve.click("#join-submit")
    expect(eve.locator("#join-error")).to_contain_text(f"only members of group {group_id}")
    expect(eve.locator("#receipt")).to_be_hidden()

    alice = group_site.context(browser)
    page = group_site.open(alice, f"/g/{group_id}/join#{invitation.code}")
    page.click("#redeem-submit")
    expect(page.locator("#redeem-done")).to_be_visible()
    page = group_site.open(alice, f"/c/{campaign_id}")
    join(page, "alice")  # proves in the browser, the relayer sends pledgeGatedWithSig
    expect(page.locator("#count")).to_have_text("1")
    assert registry.info(campaign_id).active == 1
    assert not any(b"Alice" in body for body in (r[2] for r in group_site.recorder.requests))
    assert group_site.third_party == [] and group_site.errors == []


def test_two_invited_members_pledge_reveal_and_read_while_a_stranger_cannot_pledge(
    browser: Browser, site: Site, spartacus: Spartacus, w3: Web3
) -> None:
    """Issue 12's browser test: the admin invites two people, each redeems in their own
    browser, both pledge through the relayer to a campaign gated to the group with threshold
    2, the campaign reveals and both read the roster; an uninvited browser is stopped before
    any receipt code is shown, with nothing sent."""
    groups = Registry(w3, spartacus.registry).groups
    admin = dev_account(ADMIN)
    group_id = groups.create_group(admin, "Night shift")
    invited = groups.create_invitations(admin, group_id, 2)
    invitations = dict(zip(("alice", "bob"), invited, strict=True))
    campaign_id = gated_campaign(spartacus, site, group_id, threshold=2)
    third_party: list[str] = []
    errors: list[str] = []

    pages = {}
    for who, invitation in invitations.items():  # each in a browser of their own
        context = person(browser, site, third_party)
        page = open_page(context, f"{site.url}/g/{group_id}/join#{invitation.code}", errors)
        page.click("#redeem-submit")
        expect(page.locator("#redeem-done")).to_be_visible()
        pages[who] = open_page(context, f"{site.url}/c/{campaign_id}", errors)
    expect(pages["alice"].locator("#count")).to_have_text("0")
    join(pages["alice"], "alice", keep=True)  # proves in the browser; the relayer sends it
    expect(pages["alice"].locator("#count")).to_have_text("1")

    # A stranger, never invited: refused in the page, before any code is shown or sent.
    relayed, posts = _relayed_pledges(site), _posts(site)
    eve = open_page(person(browser, site, third_party), f"{site.url}/c/{campaign_id}", errors)
    eve.fill("#join-name", "Eve")
    eve.fill("#join-contact", "eve@example.org")
    eve.click("#join-submit")
    expect(eve.locator("#join-error")).to_contain_text(f"only members of group {group_id}")
    expect(eve.locator("#receipt")).to_be_hidden()
    assert _relayed_pledges(site) == relayed and _posts(site) == posts  # nothing at all
    assert site.state.registry.info(campaign_id).active == 1

    join(pages["bob"], "bob", keep=True)
    for page in pages.values():
        expect(page.locator("#status")).to_have_attribute("data-status", "revealed")
    rosters = {who: read_roster(page, None, 2) for who, page in pages.items()}
    expected = sorted((NAMES[w], CONTACTS[w], f"{w} is in") for w in ("alice", "bob"))
    assert sorted(rosters["alice"]) == sorted(rosters["bob"]) == expected
    assert _relayed_pledges(site) == relayed + 1
    bodies = b"\n".join(site.bodies())
    assert not any(
        secret.encode() in bodies for who in pages for secret in (NAMES[who], CONTACTS[who])
    )
    assert third_party == [] and errors == []


def gated_campaign(spartacus: Spartacus, site: Site, group_id: int, threshold: int) -> int:
    """A campaign gated to `group_id`, endorsed by the site's custodian (its daemon releases),
    no grace: it reveals as soon as `threshold` members have pledged."""
    custodian = site.daemon.custodian
    endorsement = spartacus.home(custodian.role) / "endorsement.json"
    spartacus.ok("custodian", "endorse", "--out", str(endorsement), role=custodian.role,
                 passphrase=custodian.passphrase, dev=None)  # fmt: skip
    created = spartacus.ok(
        "create", "--title", "Fix the heating", "--description", "The office is cold",
        "--plan", "We write to facilities together", "--instructions", "Monday 9:00",
        "--threshold", str(threshold), "--deadline", "7d", "--grace", "0",
        "--custodian-threshold", "1", "--endorsement", str(endorsement),
        "--group", str(group_id), role="creator", dev=1,
    )  # fmt: skip
    return int(created["campaign"])


def _relayed_pledges(site: Site) -> int:
    return sum(1 for m, p, _ in site.recorder.requests if (m, p) == ("POST", "/api/relay/pledge"))


def _posts(site: Site) -> int:
    return sum(1 for m, _, _ in site.recorder.requests if m == "POST")
