"""The board's live behaviour in the browser: countdowns tick in words, only state changes are announced,
resolved incidents leave the board, and an unchanged row is never touched. The page's clock is
Playwright's (installed and fast-forwarded), so nothing sleeps."""

from __future__ import annotations

# Contexts here set bypass_csp: Playwright's wait_for_function evaluates strings, which the app's
# strict policy forbids; test_accessibility.py proves every page works under that policy.
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.models import Incident, IncidentStatus, Rep
from app.services.acks import Actor, acknowledge
from tests.browser.conftest import log_in
from tests.browser.seed import PASSWORD, USERS

PHONE = {"width": 390, "height": 844}
# Every text the live region takes, in order (the region itself is cleared before each message).
RECORD_ANNOUNCEMENTS = """() => {
  window.__said = [];
  new MutationObserver(() => {
    const text = document.getElementById('announcer').textContent;
    if (text) { window.__said.push(text); }
  }).observe(document.getElementById('announcer'), {childList: true, characterData: true, subtree: true});
}"""


def _reference(hotline, company: str) -> str:
    with hotline.db.session() as session:
        return session.scalar(select(Incident.reference).where(Incident.company == company))


def test_countdowns_tick_in_words_and_only_state_changes_are_announced(live, browser):
    base, hotline = live
    umbrella = _reference(hotline, "Umbrella Post")  # opened 6 minutes ago: 9:00 left
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    try:
        # Paused: Playwright's installed clock otherwise also flows with real time, and a loaded
        # machine added a second between the page reading its countdowns and the next assertion.
        start = datetime.now(UTC)
        page.clock.install(time=start)
        page.clock.pause_at(start + timedelta(seconds=1))
        log_in(page, base, USERS["rep"], PASSWORD)
        deadline = page.locator(f"#inc-{umbrella} .deadline")
        assert deadline.inner_text() == "On track — 9:00 left"
        page.evaluate(RECORD_ANNOUNCEMENTS)

        page.clock.run_for(60_000)  # a minute of ticking: the text changes, nothing is announced
        assert deadline.inner_text() == "On track — 8:00 left"
        page.clock.run_for(4 * 60_000)
        assert deadline.inner_text() == "At risk — 4:00 left"
        assert "warn" in deadline.get_attribute("class").split()
        page.clock.run_for(4 * 60_000 + 5_000)
        assert deadline.inner_text() == "Breached — 0:05 overdue"
        assert "bad" in deadline.get_attribute("class").split()
        said = [s for s in page.evaluate("window.__said") if "Umbrella Post" in s]
        assert said == [f"Incident {umbrella}, Umbrella Post: At risk, 5:00 left",
                        f"Incident {umbrella}, Umbrella Post: Breached"]

        page.click("#live-toggle")  # paused: the countdowns stand still until resumed
        page.clock.run_for(60_000)
        assert deadline.inner_text() == "Breached — 0:05 overdue"
        page.click("#live-toggle")
        assert deadline.inner_text() == "Breached — 1:05 overdue"
    finally:
        context.close()


def test_a_live_update_drops_resolved_rows_and_leaves_unchanged_rows_alone(live, browser):
    base, hotline = live
    initech, acme = _reference(hotline, "Initech Mail"), _reference(hotline, "Acme Mail Inc")
    umbrella = _reference(hotline, "Umbrella Post")
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, base, USERS["rep"], PASSWORD)
        page.evaluate(RECORD_ANNOUNCEMENTS)
        page.evaluate(f"document.getElementById('inc-{umbrella}').kept = true")  # a property: no change to the HTML
        page.click(f"#note-{acme}")  # the row's "Add a note" link: its form opens in the row
        page.fill(f"#note-text-{acme}", "half-typed note")
        with hotline.db.transaction() as session:
            incident = session.scalar(select(Incident).where(Incident.reference == initech))
            incident.status = IncidentStatus.RESOLVED

        assert page.evaluate("window.hotlineBoard.refresh()") is True

        assert page.locator(f"#inc-{initech}").count() == 0
        assert page.evaluate(f"document.getElementById('inc-{umbrella}').kept") is True  # unchanged: the same node
        assert page.input_value(f"#note-text-{acme}") == "half-typed note"  # a row being typed in is kept
        assert page.evaluate("document.activeElement.id") == f"note-text-{acme}"
        assert page.evaluate("window.__said") == []  # a row leaving is no state change to announce
    finally:
        context.close()


def test_an_acknowledgement_elsewhere_is_announced_on_the_board_and_the_incident_page(live, browser):
    base, hotline = live
    umbrella = _reference(hotline, "Umbrella Post")
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    board, detail = context.new_page(), None
    try:
        log_in(board, base, USERS["rep"], PASSWORD)
        detail = context.new_page()
        detail.goto(f"{base}/incidents/{umbrella}")
        for page in (board, detail):
            page.evaluate(RECORD_ANNOUNCEMENTS)
        with hotline.db.transaction() as session:  # Maria acknowledges by SMS meanwhile
            incident = session.scalar(select(Incident).where(Incident.reference == umbrella))
            maria = session.scalar(select(Rep).where(Rep.name == "Maria Manager"))  # a rep: a login without one is refused
            acknowledge(session, incident, Actor("Maria Manager", "sms", rep=maria, is_manager=True), hotline.clock.now())

        assert board.evaluate("window.hotlineBoard.refresh()") is True
        assert detail.evaluate("window.hotlineBoard.refresh()") is True

        board.wait_for_function("window.__said.length > 0")
        detail.wait_for_function("window.__said.length > 0")
        assert board.evaluate("window.__said") == [
            f"Incident {umbrella}, Umbrella Post: Acknowledged by Maria Manager at 03:05 UTC"]
        assert detail.evaluate("window.__said") == ["This incident: Acknowledged by Maria Manager at 03:05 UTC"]
        assert detail.locator(f"#ack-{umbrella}").count() == 0  # its actions follow too
        assert "Maria Manager" in detail.inner_text("#timeline")
    finally:
        context.close()


def test_a_refused_action_says_why_next_to_the_row_and_the_button_still_works(live, browser):
    base, hotline = live
    acme = _reference(hotline, "Acme Mail Inc")
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    try:
        log_in(page, base, USERS["admin"], PASSWORD)  # an admin without a rep's phone cannot be bridged
        posts.clear()
        for _attempt in (1, 2):
            page.focus(f"#call-{acme}")
            page.keyboard.press("Enter")
            page.wait_for_function(f"document.getElementById('status-{acme}').textContent.includes('not linked')")
            status = page.locator(f"#status-{acme}")
            assert "not linked to a rep with a phone number" in status.inner_text()
            assert "error" in status.get_attribute("class").split()
            assert page.evaluate("document.activeElement.id") == f"call-{acme}"
            page.evaluate(f"document.getElementById('status-{acme}').textContent = ''")
        assert posts == [f"{base}/incidents/{acme}/call"] * 2
    finally:
        context.close()


def test_a_live_update_brings_and_clears_the_boards_warnings_and_leaves_one_unchanged_alone(live, browser):
    """The "no worker" warning came and went only with a reload; a board left open on a wall showed neither."""
    from app.services import leases

    base, hotline = live
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, base, USERS["rep"], PASSWORD)
        page.evaluate(RECORD_ANNOUNCEMENTS)
        assert page.locator("#no-worker").count() == 1  # nothing holds the watchdog's lease here
        page.evaluate("document.getElementById('no-worker').kept = true")
        assert page.evaluate("window.hotlineBoard.refresh()") is True
        assert page.evaluate("document.getElementById('no-worker').kept") is True  # unchanged: not put in again

        with hotline.db.transaction() as session:  # a worker starts
            assert leases.hold(session, leases.WATCHDOG, "browser-test", hotline.clock.now(), timedelta(minutes=5))
        assert page.evaluate("window.hotlineBoard.refresh()") is True
        assert page.locator("#no-worker").count() == 0

        with hotline.db.transaction() as session:  # and stops
            leases.release(session, leases.WATCHDOG, "browser-test", hotline.clock.now())
        assert page.evaluate("window.hotlineBoard.refresh()") is True
        assert page.locator("#board-alerts #no-worker").count() == 1
        assert page.evaluate("document.getElementById('no-worker').kept") is None  # the new warning, read out
        assert page.evaluate("window.__said") == []  # no row changed: the rows' polite region says nothing
    finally:
        context.close()
