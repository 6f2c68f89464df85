"""A page call Twilio made twice (a Calls.json that answered after the client gave up, carried out after the
retry's lookup found nothing): the second call's CallSid is not the page's, which proves the duplicate. It is logged
(``page_duplicate_call``, naming both calls; the page-status lines carry their CallSid) and never moves the page's
own status. Until session 44 any CallSid's status was applied to the page: an outside probe's page showed
"answered" from the second call while its own call rang out unanswered, logged ``possible_duplicate: false``
(probe H, F2). A person who answers the second call still hears the page, and the keys act through the one
acknowledge service."""

from __future__ import annotations

from app.dashboard.timeline import WORDS
from app.services.pages import UNANSWERED_GRACE
from tests.paging.conftest import ALICE
from tests.paging.test_twilio_failures import LANDLINE, _call_status, _events, _page, _policy, _work


def _two_calls_for_one_page(desk, twilio):
    """Alice's voice page: the first Calls.json answers too late (the call made there), the retry places a second."""
    _policy(desk, "voice")
    twilio.accept_then_timeout_next(1)
    incident = desk.open_incident(caller=LANDLINE)
    _work(desk)
    twilio.release()
    desk.clock.set(desk.t0 + UNANSWERED_GRACE)
    _work(desk)
    first, second = twilio.calls
    page = _page(desk, incident.id, ALICE, "voice")
    assert page.twilio_sid == second.sid != first.sid
    return incident, page, first.sid


def test_a_second_call_answered_moves_nothing_and_is_logged_as_a_duplicate(desk, network, twilio):
    alice = network.phone(ALICE)
    alice.expect_call().expect_call(answer=False)  # the duplicate is answered (no key); the page's own rings out
    incident, page, duplicate = _two_calls_for_one_page(desk, twilio)
    desk.settle()
    by_sid = {call.sid: call for call in alice.calls}
    assert "Press 1 to acknowledge" in by_sid[duplicate].heard  # a person on it hears the page
    assert _page(desk, incident.id, ALICE, "voice").status == "no-answer"  # its own call's word, not "answered"
    lines = [e.detail for e in _events(desk, incident.id, "page_duplicate_call")]
    assert lines and all(d["page_id"] == page.id and d["sid"] == page.twilio_sid and d["duplicate_sid"] == duplicate
                         for d in lines)
    assert "answered" in [d["status"] for d in lines]
    statuses = [e.detail for e in _events(desk, incident.id, "page_status")]
    assert {d["call_sid"] for d in statuses} == {duplicate, page.twilio_sid}
    assert not any(d["applied"] for d in statuses if d["call_sid"] == duplicate)
    assert all(d["duplicate_of"] == page.twilio_sid for d in statuses if d["call_sid"] == duplicate)
    text, css = WORDS["page_duplicate_call"](lines[0], "voice page to Alice")
    assert duplicate in text and page.twilio_sid in text and "rang twice" in text and css == "warn"
    assert desk.incident(incident.id).acknowledged_at is None


def test_a_status_callback_of_the_second_call_never_moves_the_page(desk, network, twilio):
    network.phone(ALICE).expect_call(answer=False).expect_call(answer=False)
    incident, page, duplicate = _two_calls_for_one_page(desk, twilio)
    for status in ("ringing", "in-progress", "completed"):
        _call_status(desk, _as(page, duplicate), status)
    assert _page(desk, incident.id, ALICE, "voice").status == "sent"
    [line] = _events(desk, incident.id, "page_duplicate_call")
    assert (line.detail["sid"], line.detail["duplicate_sid"], line.detail["status"]) == (
        page.twilio_sid, duplicate, "ringing")
    _call_status(desk, page, "ringing")  # the page's own call still moves it
    assert _page(desk, incident.id, ALICE, "voice").status == "ringing"
    desk.settle()


def test_the_person_on_the_second_call_who_presses_1_acknowledges(desk, network, twilio):
    alice = network.phone(ALICE)
    alice.expect_call(press="1").expect_call(answer=False)
    incident, page, duplicate = _two_calls_for_one_page(desk, twilio)
    desk.settle()
    by_sid = {call.sid: call for call in alice.calls}
    assert by_sid[duplicate].pressed == ["1"] and "Acknowledged" in by_sid[duplicate].heard
    after = desk.incident(incident.id)
    assert after.acknowledged_at is not None and after.acknowledged_by == page.rep_id
    assert _events(desk, incident.id, "page_duplicate_call")


def _as(page, sid: str):
    """``page`` as seen from the call ``sid`` (for ``_call_status``, which posts the page's SID)."""
    from types import SimpleNamespace

    return SimpleNamespace(id=page.id, twilio_sid=sid, to_number=page.to_number)


class _FirstCallHeardMidRetry:
    """The real client; while the retry's Calls.json is out, the first call's status callback reaches the hotline
    (and is adopted: the page had no SID yet)."""

    def __init__(self, telephony, heard) -> None:
        self.telephony, self.heard = telephony, heard
        self.send_sms, self.find_sms, self.find_call = telephony.send_sms, telephony.find_sms, telephony.find_call

    def place_call(self, **kwargs):
        placed = self.telephony.place_call(**kwargs)
        self.heard()
        return placed


def test_a_retry_accepted_after_the_first_call_was_adopted_logs_the_proven_duplicate(desk, network, twilio):
    network.phone(ALICE).expect_call(answer=False).expect_call(answer=False)
    _policy(desk, "voice")
    twilio.accept_then_timeout_next(1)
    incident = desk.open_incident(caller=LANDLINE)
    _work(desk)
    twilio.release()
    [first] = twilio.calls
    page = _page(desk, incident.id, ALICE, "voice")
    desk.hotline.telephony = _FirstCallHeardMidRetry(desk.hotline.telephony,
                                                     lambda: _call_status(desk, _as(page, first.sid), "ringing"))
    desk.clock.set(desk.t0 + UNANSWERED_GRACE)
    _work(desk)
    _, second = twilio.calls
    assert _page(desk, incident.id, ALICE, "voice").twilio_sid == second.sid
    adopted, sent = (e.detail for e in _events(desk, incident.id, "page_sent"))
    assert (adopted["sid"], adopted["via"]) == (first.sid, "status_callback")
    assert (sent["sid"], sent["possible_duplicate"], sent["duplicate_sid"]) == (second.sid, True, first.sid)
    desk.settle()
    assert {d.detail["duplicate_sid"] for d in _events(desk, incident.id, "page_duplicate_call")} == {first.sid}
    assert _page(desk, incident.id, ALICE, "voice").status == "no-answer"
