"""Keyboard only: log in, reach a row's Acknowledge, acknowledge, and keep focus and place through a live update."""

from __future__ import annotations

# Contexts here set bypass_csp: Playwright's wait_for_function evaluates strings, which the app's
# strict policy forbids; test_accessibility.py proves every page works under that policy.
import pytest
from sqlalchemy import select

from app.models import Incident, Page
from tests.browser.pixels import changed_pixels
from tests.browser.seed import PASSWORD, USERS

LAPTOP = {"width": 1366, "height": 900}


def _reference(hotline, company: str) -> str:
    with hotline.db.session() as session:
        return session.scalar(select(Incident.reference).where(Incident.company == company))


def _acknowledged(hotline, reference: str) -> bool:
    with hotline.db.session() as session:
        return session.scalar(select(Incident.acknowledged_at).where(Incident.reference == reference)) is not None


def _active_id(page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")


def _tab_to(page, element_id: str, key: str = "Tab", limit: int = 80) -> list[str]:
    """Press ``key`` until ``element_id`` has focus; the ids passed on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        seen.append(_active_id(page))
        if seen[-1] == element_id:
            return seen
    raise AssertionError(f"{element_id} not reached with {key}: {seen}")


def _keyboard_login(page, base: str, role: str = "rep") -> None:
    page.goto(f"{base}/login")
    assert _active_id(page) == "email"  # the form takes focus itself
    page.keyboard.type(USERS[role])
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/board")


def test_keyboard_only_acknowledge_keeps_focus_through_a_live_update(live, browser):
    base, hotline = live
    umbrella, globex = _reference(hotline, "Umbrella Post"), _reference(hotline, "Globex Mailers")
    context = browser.new_context(viewport=LAPTOP, bypass_csp=True)
    page = context.new_page()
    try:
        _keyboard_login(page, base)
        _tab_to(page, f"ack-{umbrella}")
        name = page.evaluate("document.activeElement.getAttribute('aria-label')")
        assert name == f"Acknowledge {umbrella} (Umbrella Post)"  # the button says which incident

        page.keyboard.press("Enter")
        status = page.locator(f"#status-{umbrella}")
        status.wait_for(state="visible")
        page.wait_for_function(f"document.getElementById('status-{umbrella}').textContent.includes('Acknowledged')")
        assert _acknowledged(hotline, umbrella)
        assert status.get_attribute("role") == "status"
        assert status.is_visible() and status.bounding_box()["y"] < LAPTOP["height"]  # the confirmation is in view
        assert _active_id(page) == f"call-{umbrella}"  # focus stays in the row, on its next action
        assert page.locator(f"#ack-{umbrella}").count() == 0

        # A live update that changes this very row: it is replaced, and focus and scroll position stay put.
        with hotline.db.transaction() as session:
            incident = session.scalar(select(Incident).where(Incident.reference == umbrella))
            for p in session.scalars(select(Page).where(Page.incident_id == incident.id)):
                p.status = "failed"
        page.evaluate(f"document.getElementById('inc-{umbrella}').probe = 'old'")
        scrolled = page.evaluate("window.scrollY")
        assert page.evaluate("window.hotlineBoard.refresh()") is True
        assert page.evaluate(f"document.getElementById('inc-{umbrella}').probe") is None  # the row was swapped
        assert page.locator(f"#inc-{umbrella} .pages li.bad").count() >= 1
        assert _active_id(page) == f"call-{umbrella}"
        assert page.evaluate("window.scrollY") == scrolled
        page.wait_for_function("document.getElementById('announcer').textContent !== ''")

        # The other unacknowledged row, backwards with Shift+Tab, acknowledged with Space.
        _tab_to(page, f"ack-{globex}", key="Shift+Tab")
        page.keyboard.press(" ")
        page.wait_for_function(f"document.getElementById('status-{globex}').textContent.includes('Acknowledged')")
        assert _acknowledged(hotline, globex)
        assert _active_id(page) == f"call-{globex}"

        # The live update can be paused from the keyboard.
        _tab_to(page, "live-toggle", key="Shift+Tab")
        page.keyboard.press("Enter")
        assert page.get_attribute("#live-toggle", "aria-pressed") == "true"
        assert page.evaluate("window.hotlineBoard.paused()") is True
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_focus_ring_on_the_dark_acknowledge_button_is_plain_to_see(live, browser, scheme):
    base, hotline = live
    context = browser.new_context(viewport=LAPTOP, color_scheme=scheme, bypass_csp=True)
    page = context.new_page()
    try:
        _keyboard_login(page, base, "manager")
        button = page.locator("tr.incident .actions button.primary").first  # Acknowledge, or Call once acknowledged
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        clip = {"x": box["x"] - 10, "y": box["y"] - 10, "width": box["width"] + 20, "height": box["height"] + 20}
        page.mouse.move(0, 0)
        unfocused = page.screenshot(clip=clip)
        _tab_to(page, button.get_attribute("id"))
        focused = page.screenshot(clip=clip)
        changed, total = changed_pixels(unfocused, focused)
        ring = 3 * 2 * (box["width"] + box["height"])  # a 3-pixel-wide ring all round the button
        assert changed >= ring, f"only {changed} of {total} pixels change when the button takes focus"
    finally:
        context.close()
