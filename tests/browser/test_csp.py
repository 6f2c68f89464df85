"""Under the strict Content-Security-Policy the dashboard's stylesheet and countdown script still work."""

from __future__ import annotations

from tests.browser.conftest import log_in
from tests.browser.seed import PASSWORD, USERS


def test_no_csp_violation_and_the_countdown_ticks(live, page):
    base, _hotline = live
    messages: list[str] = []
    page.on("console", lambda msg: messages.append(msg.text))
    log_in(page, base, USERS["rep"], PASSWORD)
    first = page.locator(".countdown[data-remaining]:not([data-connected])").first
    before = first.inner_text()
    # countdown.js rewrites the text every second: wait for it to change (no sleep)
    page.wait_for_function("t => document.querySelector('.countdown[data-remaining]:not([data-connected])')"
                           ".textContent !== t", arg=before, timeout=5000)
    assert first.inner_text() != before
    # dashboard.css applied: the header bar is dark
    assert page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor") == "rgb(20, 23, 26)"
    assert [m for m in messages if "Content Security Policy" in m or "Refused to" in m] == []
