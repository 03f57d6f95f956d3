"""The HTML pages through Flask's test client: content, escaping, sharing, moderation."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from .conftest import Web


def create(spartacus: Any, make_custodians: Any, title: str, description: str = "") -> int:
    (c,) = make_custodians(1)
    path = spartacus.home(c.role) / "e.json"
    spartacus.ok(
        "custodian", "endorse", "--out", str(path), role=c.role, passphrase=c.passphrase, dev=None
    )
    return int(
        spartacus.ok(
            "create", "--title", title, "--description", description, "--plan", "Write together",
            "--instructions", "x", "--threshold", "3", "--deadline", "7d",
            "--endorsement", str(path), role="creator", dev=1,
        )["campaign"]
    )  # fmt: skip


def test_home_explains_and_lists_open_campaigns(web: Web, create_campaign: Any) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    html = web.get("/").get_data(as_text=True)
    assert "Nothing is revealed until the threshold is reached" in html
    assert f'href="/c/{campaign_id}"' in html and "Fix the heating" in html
    assert 'href="/create"' in html


def test_campaign_page_shows_terms_custodians_share_and_preview(
    web: Web, create_campaign: Any
) -> None:
    campaign_id, (custodian,) = create_campaign(threshold=3)
    web.sync()
    response = web.get(f"/c/{campaign_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<meta property="og:title" content="Fix the heating">' in html
    assert f'<meta property="og:url" content="http://localhost/c/{campaign_id}">' in html
    assert "This one custodian could read every pledge of this campaign at any time" in html
    assert custodian.address in html
    assert f'src="/c/{campaign_id}/qr.svg"' in html
    assert 'href="https://t.me/share/url?url=http%3A%2F%2Flocalhost%2Fc%2F' in html
    assert 'id="join-form"' in html and 'id="hidden-notice"' not in html
    assert '<script type="application/json" id="page-data">' in html
    assert "<script>" not in html  # no inline script: the CSP would block it anyway


def test_user_written_text_is_escaped(web: Web, spartacus: Any, make_custodians: Any) -> None:
    title = '<img src=x onerror="alert(1)">'
    campaign_id = create(spartacus, make_custodians, title, "</script><script>alert(2)</script>")
    web.sync()
    html = web.get(f"/c/{campaign_id}").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "<script>alert(2)" not in html
    page_data = re.search(r'id="page-data">(.*?)</script>', html, re.S)
    assert page_data and "<" not in page_data.group(1)
    assert "<img src=x" not in web.get("/").get_data(as_text=True)


def test_qr_code_is_an_svg_of_the_campaign_url(web: Web, create_campaign: Any) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    response = web.get(f"/c/{campaign_id}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).startswith("<svg")
    assert web.get("/c/99/qr.svg").status_code == 404


def test_a_hidden_campaign_shows_the_notice_instead_of_the_form(
    web: Web, create_campaign: Any
) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    web.state.store.hide(campaign_id, "it names a private person")
    html = web.get(f"/c/{campaign_id}").get_data(as_text=True)
    assert 'id="hidden-notice"' in html and "it names a private person" in html
    assert 'id="join-form"' not in html and 'id="withdraw-form"' in html
    web.state._hidden = (0.0, set())
    assert f'href="/c/{campaign_id}"' not in web.get("/").get_data(as_text=True)


def test_reports_are_taken_without_identity(web: Web, create_campaign: Any) -> None:
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    form = web.get(f"/c/{campaign_id}/report").get_data(as_text=True)
    assert 'name="reason"' in form and "asks for nothing about you" in form
    done = web.client.post(
        f"/c/{campaign_id}/report", data={"reason": "doxxing", "details": "my neighbour's address"}
    )
    assert done.status_code == 200 and 'id="report-done"' in done.get_data(as_text=True)
    (report,) = web.state.store.reports(campaign_id)
    assert (report.reason, report.details) == ("doxxing", "my neighbour's address")
    bad = web.client.post(f"/c/{campaign_id}/report", data={"reason": "boring"})
    assert bad.status_code == 400 and "the reason must be one of" in bad.get_data(as_text=True)
    long = web.client.post(
        f"/c/{campaign_id}/report", data={"reason": "other", "details": "x" * 2001}
    )
    assert long.status_code == 400 and "longer than 2000" in long.get_data(as_text=True)
    assert len(web.state.store.reports(campaign_id)) == 1


def test_a_refused_report_ties_its_error_to_the_field(web: Web, create_campaign: Any) -> None:
    """Without a script, the server's answer is the form again: the refused field marked
    invalid, described by the message and focused, the text kept."""
    campaign_id, _ = create_campaign()
    web.sync()
    long = web.client.post(
        f"/c/{campaign_id}/report", data={"reason": "other", "details": "x" * 2001}
    )
    page = long.get_data(as_text=True)
    assert long.status_code == 400
    assert re.search(r'<p id="report-error" class="error" role="alert">[^<]*longer than 2000', page)
    details = re.search(r"<textarea id=\"report-details\"[^>]*>", page)
    assert details is not None
    for attribute in ('aria-invalid="true"', 'aria-describedby="report-error"', "autofocus"):
        assert attribute in details.group(0)
    assert "x" * 2001 in page
    reason = re.search(r'<select id="report-reason"[^>]*>', page)
    assert reason is not None and "aria-invalid" not in reason.group(0)
    bad = web.client.post(f"/c/{campaign_id}/report", data={"reason": "boring"}).get_data(
        as_text=True
    )
    reason = re.search(r'<select id="report-reason"[^>]*>', bad)
    assert reason is not None and 'aria-invalid="true"' in reason.group(0)


def test_create_page_offers_the_configured_custodians(web_config: dict[str, Any]) -> None:
    from spartacus.web import create_app

    app = create_app({**web_config, "CUSTODIANS": "Union=https://keys.union.example"})
    html = app.test_client().get("/create").get_data(as_text=True)
    assert 'id="create-custodian-0"' in html and "Union" in html
    assert "https://keys.union.example" in html
    app.extensions["spartacus"].stop()


def test_create_form_defaults_to_two_custodians_both_needed_and_72_hours_of_grace(
    web_config: dict[str, Any],
) -> None:
    from spartacus.web import create_app

    offered = "Union=https://keys.union.example,Legal aid=https://keys.legal.example,"
    app = create_app({**web_config, "CUSTODIANS": offered + "Third=https://keys.third.example"})
    html = app.test_client().get("/create").get_data(as_text=True)
    app.extensions["spartacus"].stop()
    checked = re.findall(r'id="create-custodian-(\d)"\s+value="\d" data-name="[^"]*" checked', html)
    assert checked == ["0", "1"]
    assert re.search(r'id="create-t"[^>]*value="2"', html)
    assert re.search(r'id="create-grace"[^>]*value="72"', html)


def test_unknown_pages_get_an_html_error_with_the_reason(web: Web) -> None:
    response = web.get("/c/42")
    assert response.status_code == 404
    assert "campaign 42 does not exist" in response.get_data(as_text=True)
    assert web.get("/nowhere").status_code == 404
    assert web.client.post("/").status_code == 405


def test_cross_site_reports_are_refused(web: Web, create_campaign: Any) -> None:
    # The site sets no cookies, so the attack is a hostile page making its visitors'
    # browsers post reports (from as many addresses as it has visitors) to get a campaign
    # hidden. Browsers name the posting page: Sec-Fetch-Site, else Origin.
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    path, form = f"/c/{campaign_id}/report", {"reason": "spam", "details": "planted"}
    for headers in (
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://evil.localhost"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "null"},  # the attacker hid its origin
        {"Origin": "https://evil.example"},  # a browser without Fetch Metadata
        {"Origin": "null"},
    ):
        refused = web.client.post(path, data=form, headers=headers)
        assert refused.status_code == 403, headers
        assert "own form only" in refused.get_data(as_text=True)
    assert web.state.store.reports(campaign_id) == []
    # This site's own form: current browsers, older ones (the report page asks for
    # same-origin referrers, so Origin names the site) and clients that are no browser.
    for headers in ({"Sec-Fetch-Site": "same-origin", "Origin": "null"},
                    {"Origin": "http://localhost"}, {}):  # fmt: skip
        assert web.client.post(path, data=form, headers=headers).status_code == 200, headers
    assert len(web.state.store.reports(campaign_id)) == 3
    page = web.get(path).get_data(as_text=True)
    assert '<meta name="referrer" content="same-origin">' in page


def test_reports_on_one_campaign_are_capped(
    web: Web, create_campaign: Any, monkeypatch: Any
) -> None:
    from spartacus.web import moderation

    monkeypatch.setattr(moderation, "MAX_REPORTS_PER_CAMPAIGN", 3)
    campaign_id, _ = create_campaign(threshold=3)
    web.sync()
    answers = [
        web.client.post(f"/c/{campaign_id}/report", data={"reason": "spam"}).status_code
        for _ in range(5)
    ]
    assert answers == [200, 200, 200, 429, 429]
    refused = web.client.post(f"/c/{campaign_id}/report", data={"reason": "spam"})
    assert "already has 3 reports waiting" in refused.get_data(as_text=True)
    assert len(web.state.store.reports(campaign_id)) == 3


def test_share_links_and_qr_ignore_a_forged_host_header(
    web_config: dict[str, Any], create_campaign: Any
) -> None:
    import segno

    from spartacus.web import create_app

    def pages(config: dict[str, Any], chain_id: int) -> Any:
        app = create_app(config)
        shared = app.extensions["spartacus"]
        shared.registry.__dict__["chain_id"] = chain_id  # as if on a real network
        shared.start()
        shared.index.sync()
        return app.test_client(), shared

    campaign_id, _ = create_campaign(threshold=3)
    forged = {"Host": "evil.example"}
    # Off a local chain without PUBLIC_URL there is no address to share but the forged
    # one: the pages refuse, saying what to set, and never show the Host header's.
    client, shared = pages(web_config, 8453)
    for path in (f"/c/{campaign_id}", f"/c/{campaign_id}/qr.svg"):
        refused = client.get(path, headers=forged)
        text = refused.get_data(as_text=True)
        assert refused.status_code == 503 and "SPARTACUS_PUBLIC_URL" in text, path
        assert "evil.example" not in text
    shared.stop()
    # With PUBLIC_URL, links, Open Graph and the QR code all use it, whatever Host says.
    client, shared = pages({**web_config, "PUBLIC_URL": "https://spartacus.example/"}, 8453)
    html = client.get(f"/c/{campaign_id}", headers=forged).get_data(as_text=True)
    url = f"https://spartacus.example/c/{campaign_id}"
    assert f'<meta property="og:url" content="{url}">' in html and "evil.example" not in html
    assert "url=https%3A%2F%2Fspartacus.example%2Fc%2F" in html
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=False, svgns=True)
    assert client.get(f"/c/{campaign_id}/qr.svg", headers=forged).data == out.getvalue()
    shared.stop()


def test_public_url_is_required_off_a_local_chain() -> None:
    from spartacus.exceptions import UsageError
    from spartacus.web.config import DEFAULTS, public_url

    with pytest.raises(UsageError, match="chain 8453 is not a local chain: set SPARTACUS_PUB"):
        public_url(DEFAULTS, 8453)
    assert public_url(DEFAULTS, 31337) is None  # a local chain: the request's host
    assert public_url({"PUBLIC_URL": "https://s.example/"}, 1) == "https://s.example"
    with pytest.raises(UsageError, match="is not an http"):
        public_url({"PUBLIC_URL": "s.example"}, 1)


def test_pledge_safely_page_says_what_the_docs_say(web: Web) -> None:
    """The advice for a worker is on every site and in the docs, with the same sections."""
    from pathlib import Path

    web.sync()
    html = web.get("/safety").get_data(as_text=True)
    assert 'href="/safety"' in web.get("/").get_data(as_text=True)  # in every page's header
    docs = (Path(__file__).parents[2] / "docs" / "pledge-safely.md").read_text()
    page_sections = re.findall(r'<h2 id="[^"]+">(.*?)</h2>', html)
    docs_sections = re.findall(r"^## (.*)$", docs, re.M)
    assert page_sections == docs_sections and len(page_sections) >= 6
    for advice in ("Tor Browser", "receipt code", "work network", "grace period", "E-mail me the"):
        assert advice in html and advice in docs


def test_unsafe_terms_are_named_on_the_page_and_in_the_join_form(
    web: Web, create_campaign: Any
) -> None:
    from spartacus.chain.risks import NO_GRACE, SINGLE_CUSTODIAN

    unsafe, _ = create_campaign(threshold=3, custodians=1, t=1, grace="0")
    web.sync()
    html = web.get(f"/c/{unsafe}").get_data(as_text=True)
    terms = re.search(r'<ul id="terms-warnings".*?</ul>', html, re.S)
    join = re.search(r'<ul id="join-warnings".*?</ul>', html, re.S)
    assert terms and join
    for warning in (SINGLE_CUSTODIAN, NO_GRACE):
        assert warning.split(":")[0] in terms.group(0).lower()
        assert f"Before you join: {warning}" in join.group(0)


def test_safe_terms_carry_no_warning(web: Web, create_campaign: Any) -> None:
    safe, _ = create_campaign(threshold=3, custodians=2, t=2, grace="72h")
    web.sync()
    html = web.get(f"/c/{safe}").get_data(as_text=True)
    assert "terms-warnings" not in html and "join-warnings" not in html


MAIL_FIELD = r'<p class="check" id="join-mail-field"\s*(hidden)?>'


def test_mail_me_box_is_offered_where_one_custodian_may_mail(
    web: Web, create_campaign: Any
) -> None:
    alone, _ = create_campaign(threshold=3, custodians=1, t=1)
    web.sync()
    html = web.get(f"/c/{alone}").get_data(as_text=True)
    offered = re.search(MAIL_FIELD, html)
    assert offered and offered.group(1) is None  # t = 1: its custodian may mail the roster
    assert '<input type="checkbox" id="join-mail">' in html and "not a work address" in html


def test_mail_me_box_is_hidden_where_no_custodian_reads_alone(
    web: Web, create_campaign: Any
) -> None:
    shared, _ = create_campaign(threshold=3, custodians=2, t=2)
    web.sync()
    refused = re.search(MAIL_FIELD, web.get(f"/c/{shared}").get_data(as_text=True))
    assert refused and refused.group(1) == "hidden"  # t = 2: no custodian can read it alone


def _shown(html: str, element_id: str) -> bool:
    """Whether the element with ``element_id`` is in the page and not ``hidden``."""
    tag = re.search(rf'<[a-z0-9]+ id="{element_id}"[^>]*>', html)
    return tag is not None and not re.search(r"\shidden(\s|>|=)", tag.group(0))


def test_the_campaign_page_shows_only_the_actions_that_apply_without_a_script(
    web: Web, spartacus: Any, create_campaign: Any
) -> None:
    """As served (before any script, or without one): Join first while it takes pledges;
    terms and custodians folded; the roster form and the Revealed banner only once revealed,
    and then no Join and no Withdraw (expired: tests/e2e/test_phone_page.py)."""
    from tests.cli.conftest import pledge

    campaign_id, _ = create_campaign(threshold=2)
    web.sync()
    page = web.get(f"/c/{campaign_id}").get_data(as_text=True)
    assert page.index('id="join-now"') < page.index('id="terms"') < page.index('id="join-form"')
    for shown in ("join-now", "join-section", "withdraw-section"):
        assert _shown(page, shown), shown
    for hidden in ("revealed-banner", "roster-section", "join-closed"):
        assert not _shown(page, hidden), hidden
    for fold in ("terms", "custodians", "withdraw-details"):
        tag = re.search(rf'<details id="{fold}"[^>]*>', page)
        assert tag is not None and " open" not in tag.group(0), fold

    pledge(spartacus, campaign_id, "Alice", 2)
    pledge(spartacus, campaign_id, "Bob", 3)
    web.sync()
    page = web.get(f"/c/{campaign_id}").get_data(as_text=True)
    assert _shown(page, "revealed-banner") and _shown(page, "roster-section")
    for hidden in ("join-now", "join-section", "withdraw-section"):
        assert not _shown(page, hidden), hidden


def test_a_gated_campaign_warns_when_its_group_is_small_for_the_threshold(
    web: Web, spartacus: Any, create_campaign: Any
) -> None:
    """Fewer than 2N members in the group: the page and its join form say what it means."""
    group = spartacus.ok("group", "create", "--name", "Night shift", role="admin")["group"]
    spartacus.ok("group", "add", str(group), *[str(c) for c in range(1001, 1006)], role="admin")
    campaign, _ = create_campaign(threshold=4, custodians=2, t=2, grace="72h", group=group)
    web.sync()
    html = web.get(f"/c/{campaign}").get_data(as_text=True)
    terms = re.search(r'<ul id="terms-warnings".*?</ul>', html, re.S)
    join = re.search(r'<ul id="join-warnings".*?</ul>', html, re.S)
    assert terms and join
    said = "the group has 5 members; with a threshold of 4, reaching it takes most of the group"
    assert f"Warning: T{said[1:]}" in terms.group(0)
    assert f"Before you join: {said}" in join.group(0)
    assert web.get(f"/api/campaigns/{campaign}").get_json()["warnings"][0].startswith(said)

    spartacus.ok("group", "add", str(group), "1006", "1007", "1008", role="admin")  # 8 = 2N
    web.sync()
    html = web.get(f"/c/{campaign}").get_data(as_text=True)
    assert "terms-warnings" not in html and "join-warnings" not in html
