"""How the board words and colours a deadline (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.dashboard.display import countdown_text, deadline_of, paged_people, state_of, urgency
from app.models import Incident, Page

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def _incident(answered_after_minutes=None, breached=False) -> Incident:
    answered = T0 + timedelta(minutes=answered_after_minutes) if answered_after_minutes is not None else None
    return Incident(captured_at=T0, callback_due_at=T0 + timedelta(minutes=15), callback_answered_at=answered,
                    breached_at=T0 + timedelta(minutes=15) if breached else None)


@pytest.mark.parametrize("seconds_left, incident, expected", [
    (600, _incident(), "ok"),
    (300, _incident(), "warn"),
    (0, _incident(), "bad"),
    (-60, _incident(breached=True), "bad"),
    (-600, _incident(answered_after_minutes=4), "ok"),  # met: green even long after the deadline
    (-600, _incident(answered_after_minutes=17), "bad"),  # answered, but late: never green
])
def test_urgency(seconds_left, incident, expected):
    assert urgency(seconds_left, incident) == expected


@pytest.mark.parametrize("seconds, text", [(725, "12:05 left"), (0, "0:00 left"), (-200, "3:20 overdue"),
                                           (-10_200, "170:00 overdue")])
def test_countdown_text(seconds, text):
    assert countdown_text(seconds) == text


@pytest.mark.parametrize("minutes_left, fields, expected", [
    (10, {}, ("On track", "10:00 left", "ok", True)),
    (4, {}, ("At risk", "4:00 left", "warn", True)),  # said in words, not by amber alone
    (0, {}, ("At risk", "0:00 left", "warn", True)),  # the deadline itself: not yet past
    # past the deadline, the breach step not run yet (a worker down): breached by the report's rule all the same
    (-2, {}, ("Breached", "2:00 overdue", "bad", True)),
    (-2, {"breached_at": T0 + timedelta(minutes=15)}, ("Breached", "2:00 overdue", "bad", True)),
    (-30, {"callback_answered_at": T0 + timedelta(minutes=4, seconds=5)}, ("Met", "called back in 4:05", "ok", False)),
    (-30, {"callback_answered_at": T0 + timedelta(minutes=17)}, ("Late", "called back in 17:00", "bad", False)),
    # rounded up, never down: late by 0.4 s reads 15:01 (15:00 is a kept promise)
    (-30, {"callback_answered_at": T0 + timedelta(minutes=15, seconds=0.4)}, ("Late", "called back in 15:01", "bad", False)),
    (-30, {"callback_answered_at": T0 + timedelta(minutes=15)}, ("Met", "called back in 15:00", "ok", False)),
    (2, {"status": "resolved"}, ("Resolved", "no callback recorded", "done", False)),  # stops ticking
    # resolved without a met callback, past its deadline: breached, as the compliance report counts it
    (-30, {"status": "resolved"}, ("Breached", "resolved without a met callback", "bad", False)),
])
def test_deadline_in_words_and_whether_it_ticks(minutes_left, fields, expected):
    incident = Incident(**{"status": "open", "captured_at": T0, "callback_due_at": T0 + timedelta(minutes=15), **fields})
    d = deadline_of(incident, T0 + timedelta(minutes=15 - minutes_left))
    assert (d.word, d.text, d.css, d.ticking) == expected


@pytest.mark.parametrize("minutes_left, fields, expected", [
    # issue 13: the caller who opened it still gives details; the provisional deadline neither warns nor ticks
    (4, {}, ("Caller on the line", "giving their details: the 15 minutes start when they finish", "ok", False)),
    (-2, {}, ("Caller on the line", "giving their details: the 15 minutes start when they finish", "ok", False)),
    # what happened stays said: a breach logged (the call went idle for minutes), a callback made, a closure
    (-2, {"breached_at": T0 + timedelta(minutes=15)}, ("Breached", "2:00 overdue", "bad", True)),
    (-30, {"callback_answered_at": T0 + timedelta(minutes=4, seconds=5)}, ("Met", "called back in 4:05", "ok", False)),
    (2, {"status": "resolved"}, ("Resolved", "no callback recorded", "done", False)),
])
def test_the_deadline_while_the_caller_is_still_on_the_line(minutes_left, fields, expected):
    incident = Incident(**{"status": "open", "captured_at": T0, "callback_due_at": T0 + timedelta(minutes=15), **fields})
    d = deadline_of(incident, T0 + timedelta(minutes=15 - minutes_left), on_hotline=True)
    assert (d.word, d.text, d.css, d.ticking) == expected


def _page(page_id, name, minutes, status="delivered", channel="sms", purpose="page", rep_id=None, number="+1555"):
    return Page(id=page_id, name=name, rep_id=rep_id, to_number=number, channel=channel, status=status,
                purpose=purpose, created_at=T0 + timedelta(minutes=minutes))


def test_one_line_per_person_paged_with_the_latest_status_and_what_it_was_for():
    pages = [
        _page(1, "Alice", 0, rep_id=1), _page(2, "Alice", 0, status="no-answer", channel="voice", rep_id=1),
        _page(3, "Bob", 0, rep_id=2),
        _page(4, "Alice", 3, status="failed", rep_id=1),  # the repage round: Alice's latest
        _page(5, "Maria", 3, status="answered", channel="voice", rep_id=3),  # the next escalation level
        _page(6, "Bob", 10, status="queued", purpose="at_risk", rep_id=2),
        _page(7, "", 11, status="delivered", number="+4930901821"),  # an extra number without a name
    ]
    people = paged_people(pages)
    assert [(p.line, p.purpose, p.count, p.css) for p in people] == [
        ("Alice, SMS: failed", "first page", 3, "bad"),
        ("Bob, SMS: queued", "at-risk alert", 2, "muted"),
        ("Maria, voice call: answered", "escalation", 1, "ok"),
        ("+4930901821, SMS: delivered", "escalation", 1, "ok"),
    ]
    assert paged_people([]) == ()


def test_the_boards_own_escape_gives_markupsafes_text():
    from markupsafe import escape as markupsafe_escape

    from app.dashboard.board_html import escape

    for text in ("", "Acme Mail Inc", "<script>alert('x')</script>", 'a" onmouseover="x', "R&D &amp; <Ops>"):
        assert escape(text) == str(markupsafe_escape(text))


def test_a_held_call_superseded_by_a_later_one_shows_not_sent_and_is_not_counted_as_a_page():
    from app.dashboard.display import page_line, page_status
    from app.models.paging import OUTCOME_UNKNOWN, SUPERSEDED

    older = _page(1, "Alice", 20, status="canceled", channel="voice", purpose="breach", rep_id=1)
    older.last_error = f"{SUPERSEDED} (page 2)"
    newer = _page(2, "Alice", 25, status="no-answer", channel="voice", purpose="breach", rep_id=1)
    assert page_status(older) == "not sent (superseded by a later call)"
    assert [(p.line, p.count) for p in paged_people([older, newer])] == [("Alice, voice call: no-answer", 1)]
    plain = _page(3, "Alice", 20, status="canceled", channel="voice", purpose="breach", rep_id=1)
    assert [p.count for p in paged_people([plain, newer])] == [2]  # a page canceled otherwise still counts
    older.last_error = f"{OUTCOME_UNKNOWN}: the run sending attempt 1 died mid-request; then {SUPERSEDED} (page 2)"
    older.sent_at = None
    assert page_line(older) == ("Alice, voice call: canceled (superseded by a later call), an earlier attempt may "
                                "have been sent")


def test_an_earlier_round_superseded_by_a_later_one_shows_not_sent_and_is_not_counted_as_a_page():
    from app.dashboard.display import page_status
    from app.models.paging import SUPERSEDED_BY_ROUND

    older = _page(1, "Alice", 10, status="canceled", purpose="at_risk", rep_id=1)
    older.last_error = f"{SUPERSEDED_BY_ROUND} (page 2)"
    newer = _page(2, "Alice", 15, status="delivered", purpose="breach", rep_id=1)
    assert page_status(older) == "not sent (superseded by a later round)"
    assert [(p.line, p.count) for p in paged_people([older, newer])] == [("Alice, SMS: delivered", 1)]


def test_a_row_none_of_whose_pages_twilio_took_says_page_not_sent_yet_not_paged():
    """The tester's Twilio outage: every page failed or still retrying, none accepted, and the board said "Paged"."""
    incident = Incident(status="open", captured_at=T0, callback_due_at=T0 + timedelta(minutes=15))
    failed_call = _page(1, "Bob", 0, status="failed", channel="voice", rep_id=2)
    retrying_sms = _page(2, "Bob", 0, status="queued", rep_id=2)
    canceled = _page(3, "Bob", 0, status="canceled", rep_id=2)
    receipt = _page(4, "Zack", 0, status="delivered", number="+1556")
    receipt.role, receipt.sent_at = "customer", T0  # the customer's receipt left: no rep was paged by it
    for page in (failed_call, retrying_sms, canceled):
        page.role, page.sent_at = "oncall:primary", None
    assert state_of(incident, [failed_call, retrying_sms, canceled, receipt], "") == ("Page not sent yet", "bad")
    retrying_sms.status = "failed"  # given up too: none left to send (an outside probe's board said "not sent yet")
    assert state_of(incident, [failed_call, retrying_sms, canceled, receipt], "") == ("Pages failed: nobody reached",
                                                                                      "bad")
    failed_call.sent_at = T0  # Twilio took the call; it failed on the way (a status callback): Bob was paged
    assert state_of(incident, [failed_call, retrying_sms, canceled, receipt], "") == ("Paged, not acknowledged",
                                                                                      "warn")
