"""The HTML pages through Flask's test client: content, escaping, sharing, moderation."""

from __future__ import annotations

import re
from typing import Any

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


def test_create_page_offers_the_configured_custodians(web_config: dict[str, Any]) -> None:
    from spartacus.web import create_app

    app = create_app({**web_config, "CUSTODIANS": "Union=https://keys.union.example"})
    html = app.test_client().get("/create").get_data(as_text=True)
    assert 'id="create-custodian-0"' in html and "Union" in html
    assert "https://keys.union.example" in html
    app.extensions["spartacus"].stop()


def test_unknown_pages_get_an_html_error_with_the_reason(web: Web) -> None:
    response = web.get("/c/42")
    assert response.status_code == 404
    assert "campaign 42 does not exist" in response.get_data(as_text=True)
    assert web.get("/nowhere").status_code == 404
    assert web.client.post("/").status_code == 405
