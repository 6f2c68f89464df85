"""A TAM e-mailed "BREACHED" of a callback then counted met is e-mailed the correction, once, as an SMS'd one is texted.

Probe A F10's case (tests/paging/test_breach_whisper_proof.py): the customer answered 5 s before the deadline, but
the answer's word came after the breach step ran, so the alerts said BREACHED; whoever got one by SMS was then
texted "NOT breached after all". The account's TAM, e-mailed the breach at night, heard nothing more. Through the
real escalation steps, simulated Twilio and a real SMTP server, on both databases.
"""

from __future__ import annotations

from datetime import timedelta

from app.services.page_text import dated
from tests.paging.conftest import MARIA
from tests.paging.test_breach_whisper_proof import _after_t0, _ringing, _texts_to
from tests.paging.test_callback_proof import (
    _alice_presses_2,
    _callback,
    _leg_status,
    _press_key,
    _step_outcome,
    _whisper,
)
from tests.paging.test_policy import _call_about_ticket
from tests.paging.test_twilio_failures import _work
from tests.updates.test_tam_after_hours import TAM_EMAIL, _tam_mail, _ticket, _timeline


def _purposes(desk, incident_id: int) -> list[tuple[str, str]]:
    return [(d.purpose, d.status) for d in _tam_mail(desk, incident_id)]


def test_a_tam_emailed_the_breach_of_a_callback_counted_met_after_all_is_emailed_the_correction_once(
        desk, network, smtp):
    _ticket(desk, "America/New_York")  # 03:00 UTC Thursday is 22:00 in New York: the TAM is told by e-mail
    desk.clock.set(desk.t0 + timedelta(seconds=20))  # the deadline falls at 22:15:20 their time
    incident = _call_about_ticket(desk)
    callback = _alice_presses_2(desk, minutes=14, incident=incident)
    _ringing(desk, callback)
    due = incident.callback_due_at
    desk.clock.set(due + timedelta(seconds=1))  # the breach step runs: nothing proves the answer yet
    _work(desk)
    assert _step_outcome(desk, incident.id, "breach") == "breached"
    assert _purposes(desk, incident.id) == [("page", "sent"), ("breach", "sent")]
    assert "BREACHED" in smtp.inbox.to(TAM_EMAIL)[-1].get_content()

    desk.clock.set(due + timedelta(seconds=2))
    _whisper(desk, callback)
    desk.clock.set(due + timedelta(seconds=8))
    _press_key(desk, callback)
    desk.clock.set(due + timedelta(seconds=25))  # Twilio stamps the answer 5 s before the deadline: met after all
    _leg_status(desk, callback, "in-progress", _after_t0(desk, due - timedelta(seconds=5)))
    _work(desk)
    desk.clock.set(due + timedelta(minutes=3))
    _leg_status(desk, callback, "completed", _after_t0(desk, due + timedelta(minutes=3)), CallDuration="180")
    _work(desk)

    answered = _callback(desk, incident.id).answered_at
    assert _callback(desk, incident.id).outcome == "met" and answered <= due
    assert _purposes(desk, incident.id) == [("page", "sent"), ("breach", "sent"), ("breach_corrected", "sent")]
    mails = smtp.inbox.to(TAM_EMAIL)
    assert len(mails) == 3  # page, breach, correction: each once
    correction = mails[-1]
    assert correction["Subject"] == (f"SEV1 {incident.reference} Globex Mailers: callback deadline NOT breached "
                                     "after all (for your information, nothing to do)")
    body = correction.get_content()
    zone = "America/New_York"
    # both in the deadline's minute: to the second, never "at 22:15, by the 22:15 deadline"
    assert dated(answered, zone) == dated(due, zone) and due.second == 20
    gap = (due.replace(microsecond=0) - answered).seconds  # as the two times read: 22:15:16 and 22:15:20
    assert (f"NOT breached after all. The customer answered the callback at {dated(answered, zone, seconds=True)}, "
            f"{gap} seconds before the {dated(due, zone, seconds=True)} deadline; the BREACHED alert came before the "
            "answer was confirmed.") in body
    assert "It comes by e-mail, as the breach alert it corrects did." in body
    assert "You need do nothing: the customer was called back in time." in body
    assert "outside your business hours" not in body and "ACK" not in body
    lines = _timeline(desk, incident.id)
    assert ("The account's TAM told by e-mail that the callback was met after all, as their breach alert had come by "
            "e-mail") in lines
    [corrected] = [line for line in lines if line.startswith("The callback was met after all")]
    assert corrected.endswith(f"{gap} seconds before the {due:%H:%M:%S} UTC deadline): 2 told so who had the breach "
                              "alert")  # Maria by SMS, the TAM by e-mail
    assert len([body for body in _texts_to(desk, MARIA) if "NOT breached after all" in body]) == 1

