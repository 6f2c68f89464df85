"""An ended call to the hotline whose start never reached it becomes a missed call (``unseen_calls``).

An outside probe killed the web worker serving a call's first ``/twilio/voice`` request, and the Fallback URL failed
too; the signed status callback (completed, 90 s) for that CallSid left only a ``call_status`` line: no missed call,
no SMS, for a caller who spent 90 s on the Sev-1 line.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import CallSession, Incident, MissedCall, Notice

CALLER = "+14155550100"
HOTLINE = "+15005550006"  # the test settings' TWILIO_NUMBER


def _rows(hotline):
    with hotline.db.session() as s:
        return (list(s.scalars(select(MissedCall))), list(s.scalars(select(Notice))),
                list(s.scalars(select(Incident))))


def test_an_ended_call_the_hotline_never_saw_is_a_missed_call_and_the_caller_is_texted(phone, hotline, clock):
    call = phone(CALLER)  # its /twilio/voice request was lost: the first the hotline hears is the end
    call.call_sid = "CA" + "8" * 32
    code, _ = call._post("/twilio/voice/status", {"CallStatus": "completed", "CallDuration": "90"})
    assert code == 200
    [missed], [notice], incidents = _rows(hotline)
    assert missed.call_sid == call.call_sid and missed.caller_id == CALLER and missed.stage == ""
    assert (missed.ended_at - missed.received_at).total_seconds() == 90
    assert notice.purpose == "missed_call" and notice.to_number == CALLER and missed.notice_id == notice.id
    assert "ended before we could take your details" in notice.body
    assert incidents == []  # nobody is paged for a caller who said nothing: as any hang-up before triage
    # Twilio's status callback again (its retry, or a second status): still one missed call, one SMS
    call._post("/twilio/voice/status", {"CallStatus": "completed", "CallDuration": "90", "Timestamp": "x"})
    assert [len(rows) for rows in _rows(hotline)[:2]] == [1, 1]


def test_a_second_unseen_call_from_the_same_number_is_recorded_but_not_texted_again(phone, hotline):
    for n in ("1", "2"):
        call = phone(CALLER)
        call.call_sid = "CA" + n * 32
        call._post("/twilio/voice/status", {"CallStatus": "completed", "CallDuration": "30"})
    missed, notices, _ = _rows(hotline)
    assert len(missed) == 2 and len(notices) == 1  # the missed-call SMS's own limit: one per number a day


@pytest.mark.parametrize(("direction", "from_number", "to_number"), [
    ("outbound-api", HOTLINE, CALLER),  # a page or a callback's leg the hotline placed
    ("outbound-dial", HOTLINE, CALLER),  # a <Dial> leg
    ("inbound", CALLER, "+14155550199"),  # to another number of the account
    ("inbound", HOTLINE, CALLER),
])
def test_the_status_of_a_call_the_hotline_placed_is_never_a_missed_call(phone, hotline, direction, from_number,
                                                                         to_number):
    call = phone(from_number)
    call.to = to_number
    call.call_sid = "CA" + "9" * 32
    call._post("/twilio/voice/status", {"CallStatus": "completed", "CallDuration": "90", "Direction": direction})
    missed, notices, _ = _rows(hotline)
    assert missed == [] and notices == []
    with hotline.db.session() as s:
        assert s.get(CallSession, call.call_sid) is None
