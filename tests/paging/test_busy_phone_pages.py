"""A rep's phone takes one call (probe O, O1): a voice page never rings a rep who is on a call the hotline placed
(another incident's callback); it is held (the SMS goes) and placed when that call ends, while the escalation pages
everyone else on its minute. (Page calls to one phone are not spaced by each other: ``busy_lines`` says why.)"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import IncidentEvent, Page
from tests.conftest import PUBLIC_BASE_URL, TEST_ACCOUNT_SID
from tests.paging.conftest import ALICE, BOB
from tests.paging.test_call_during_a_conversation import _talking
from tests.paging.test_callback_proof import _dial_done
from tests.paging.test_twilio_failures import HOTLINE_NUMBER, _signed_post, _work

CALLERS = ("+14155550161", "+14155550162", "+14155550163")


def _calls_to(network, number: str) -> list:
    return [c for c in network.twilio.calls if c.to == number and c.direction == "outbound-api"]


def _voice_pages(desk, incident_id: int, to: str) -> list[Page]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.incident_id == incident_id, Page.to_number == to,
                                                 Page.channel == "voice").order_by(Page.id)))


def _lines(desk, *kinds: str) -> list[tuple[int, str, dict]]:
    with desk.hotline.db.session() as s:
        return [(e.id, e.kind, e.detail or {}) for e in s.scalars(
            select(IncidentEvent).where(IncidentEvent.kind.in_(kinds)).order_by(IncidentEvent.id))]


def test_a_page_call_waits_while_its_rep_talks_with_another_incidents_customer_and_rings_when_she_hangs_up(
        desk, network):
    callback = _talking(desk, network)  # Alice talks with incident A's customer since T+2:30, on our bridged call
    calls_before = len(_calls_to(network, ALICE))
    desk.clock.set(desk.t0 + timedelta(minutes=3))
    other, _ = desk.intake(CALLERS[0], company="Globex")  # incident B pages Alice: SMS and call
    _work(desk)
    assert len(_calls_to(network, ALICE)) == calls_before  # no call waiting beeping into the customer's call
    assert any(other.reference in m.body for m in network.twilio.messages if m.to == ALICE)  # the SMS went
    [held] = _voice_pages(desk, other.id, ALICE)
    assert (held.status, held.attempts, held.sent_at) == ("queued", 0, None)
    [line] = [d for _, _, d in _lines(desk, "page_held") if d["page_id"] == held.id]
    assert (line["why"], line["callback_id"], line["busy_incident_id"], line["other_incident"]) == (
        "rep_on_call", callback.id, callback.incident_id, True)
    with desk.hotline.db.session() as s:  # the incident page says why, and that it is another incident's call
        events = list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == other.id)))
        said = [e.text for e in timeline(events, _voice_pages(desk, other.id, ALICE)) if " held: " in e.text]
    assert said and said[0].endswith("held: the rep is on a callback of another incident; it goes when that call ends")

    # B's next level comes on its minute (T+3 of B): Bob is paged, Alice's second call is held too
    desk.clock.set(desk.t0 + timedelta(minutes=6))
    _work(desk)
    assert len(_calls_to(network, BOB)) == 1
    assert len(_calls_to(network, ALICE)) == calls_before
    assert len([d for _, _, d in _lines(desk, "page_held") if d["page_id"] == held.id]) == 1  # looked at, no new line

    # Alice hangs up at T+6:20: one call, the latest round's, goes at once
    desk.clock.set(desk.t0 + timedelta(minutes=6, seconds=20))
    _dial_done(desk, callback, "completed", seconds="230")
    _signed_post(desk, f"{PUBLIC_BASE_URL}/twilio/bridge/rep-status?callback={callback.id}", {
        "CallSid": callback.rep_call_sid, "AccountSid": TEST_ACCOUNT_SID, "From": HOTLINE_NUMBER, "To": ALICE,
        "CallStatus": "completed", "CallDuration": "230"})
    _work(desk)
    first, latest = _voice_pages(desk, other.id, ALICE)
    assert (first.status, latest.status) == ("canceled", "sent")  # rung once, not per round
    assert latest.sent_at == desk.t0 + timedelta(minutes=6, seconds=20)
    new_calls = _calls_to(network, ALICE)[calls_before:]
    assert [c.url for c in new_calls] == [f"{PUBLIC_BASE_URL}/twilio/page/voice?page={latest.id}"]
