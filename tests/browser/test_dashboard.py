"""Each role walks the dashboard in real headless Chromium.

Screenshots go to a temporary folder; HOTLINE_REFRESH_SCREENSHOTS=1 writes them to docs/screenshots instead.
"""

from __future__ import annotations

import hashlib

from tests.browser.conftest import log_in
from tests.browser.seed import PASSWORD, USERS


def test_rep_walks_the_board_and_an_incident_and_is_refused_manager_pages(live, page, shots):
    base, _hotline = live
    log_in(page, base, USERS["rep"], PASSWORD)
    board = page.inner_text("main")
    for company in ("Umbrella Post", "Acme Mail Inc", "Globex Mailers"):
        assert company in board
    initech = page.locator("text=Initech Mail").locator("xpath=ancestor::*[contains(@class,'card') or self::tr][1]")
    assert "Callback connected" in initech.inner_text()
    assert page.locator(".countdown").count() >= 2
    page.screenshot(path=str(shots / "board.png"), full_page=True)

    page.click("text=Umbrella Post")
    page.wait_for_url("**/incidents/*")
    detail = page.inner_text("main")
    assert "Alice Abernathy" in detail and "+14155550184" in detail
    assert "Call received" in detail or "call received" in detail.lower()

    for path in ("/reports/compliance", "/reports/compliance.csv", "/reports/compliance.json", "/admin/users"):
        response = page.goto(base + path)
        assert response.status == 403, path
        assert "Acme" not in page.content()


def _walk_board_and_an_incident(page, base):
    page.goto(f"{base}/board")
    page.click("text=Globex Mailers")
    page.wait_for_url("**/incidents/*")
    assert "Hank Scorpio" in page.inner_text("main")


def test_manager_reads_the_report_and_downloads_a_verified_export(live, page, shots):
    base, _hotline = live
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, base, USERS["manager"], PASSWORD)
    _walk_board_and_an_incident(page, base)
    page.goto(f"{base}/reports/compliance?start=2026-11-25&end=2026-11-27&tz=UTC")
    report = page.inner_text("main")
    assert "Met" in report or "met" in report
    assert "nobody acknowledged" in report.lower()
    assert page.locator("svg").count() >= 1
    page.screenshot(path=str(shots / "report.png"), full_page=True)

    response = page.request.get(f"{base}/reports/compliance.csv?start=2026-11-25&end=2026-11-27&tz=UTC")
    body = response.body()
    assert response.status == 200 and b"Globex Mailers" in body
    digest = page.request.get(f"{base}/reports/compliance.csv.sha256?start=2026-11-25&end=2026-11-27&tz=UTC").text()
    assert digest.split()[0] == hashlib.sha256(body).hexdigest()  # the export is streamed: its digest is a file


def test_admin_sees_on_call_and_user_management(live, page):
    base, _hotline = live
    log_in(page, base, USERS["admin"], PASSWORD)
    _walk_board_and_an_incident(page, base)
    export = page.request.get(f"{base}/reports/compliance.json")
    digest = page.request.get(f"{base}/reports/compliance.json.sha256").text()
    assert export.status == 200 and hashlib.sha256(export.body()).hexdigest() == digest.split()[0]
    page.goto(f"{base}/oncall")
    oncall = page.inner_text("main")
    assert "Alice Primary" in oncall and "primary" in oncall
    page.goto(f"{base}/admin/users")
    assert USERS["manager"] in page.inner_text("main")


def test_logged_out_visitor_is_sent_to_login(live, page):
    base, _hotline = live
    page.goto(f"{base}/incidents/000000")
    assert "/login" in page.url
