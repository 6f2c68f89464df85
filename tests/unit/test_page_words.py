"""What a page and an alert say, for a customer who left no callback number and against the clock.

A probe's caller from a country the hotline does not call back gave only an e-mail address: every page said "Call
back n/a", offered CALL and "Press 2 to be connected", which place nothing, and no SMS, call or link gave the address
the rep needed. An at-risk alert with 4:59 to go said "4 min left".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.models import Incident
from app.services.page_text import alert_sms, minutes_left, number_corrected_sms, page_sms, spoken_summary

DUE = datetime(2026, 12, 5, 17, 29, tzinfo=UTC)


def _incident(phone: str = "", email: str = "dana@nihon-mail.example") -> Incident:
    return Incident(reference="375351", company="Nihon Mail", affected_service="api", callback_phone=phone,
                    email=email, callback_due_at=DUE, captured_at=DUE - timedelta(minutes=15))


def test_a_page_for_a_customer_with_no_number_gives_their_e_mail_and_offers_no_call():
    sms = page_sms(_incident(), "https://hotline.example/ack/x")
    assert sms == ("SEV1 375351 Nihon Mail: API calls failing. No callback number: e-mail dana@nihon-mail.example, "
                   "and record it on the dashboard by 17:29 UTC. Reply ACK 375351. https://hotline.example/ack/x")
    assert "n/a" not in sms and "CALL" not in sms
    for purpose in ("at_risk", "breach"):
        alert = alert_sms(_incident(), purpose, DUE - timedelta(minutes=5))
        assert "e-mail dana@nihon-mail.example" in alert and "CALL" not in alert
    spoken = spoken_summary(_incident())
    assert "left no callback number: reach them in writing by 17:29 U T C" in spoken
    assert "called back" not in spoken
    assert "no e-mail address either" in page_sms(_incident(email=""), "")


def test_a_page_with_a_number_reads_as_before():
    sms = page_sms(_incident(phone="+14155550100"), "https://hotline.example/ack/x")
    assert "Call back +14155550100 by 17:29 UTC. Reply ACK 375351 or CALL 375351." in sms
    assert "Reply CALL 375351 to call the customer now." in alert_sms(_incident(phone="+14155550100"), "breach", DUE)


def test_a_page_written_after_the_deadline_says_it_passed():
    """An outside probe's worker was down past the deadline: the second level's rep read "Call back ... by 12:21 PST"
    at 12:22, as if still in time, and got no BREACHED alert of their own."""
    late = page_sms(_incident(phone="+14155550100"), "https://hotline.example/ack/x", at=DUE + timedelta(seconds=30))
    assert "Call back +14155550100 now: the 17:29 UTC deadline has passed. Reply ACK 375351 or CALL 375351." in late
    in_time = page_sms(_incident(phone="+14155550100"), "https://hotline.example/ack/x", at=DUE - timedelta(seconds=1))
    assert "Call back +14155550100 by 17:29 UTC." in in_time
    assert "now: the 17:29 UTC deadline has passed" in page_sms(_incident(), "", at=DUE)


def test_the_minutes_left_are_rounded_up():
    incident = _incident(phone="+14155550100")
    assert minutes_left(incident, DUE - timedelta(minutes=5) + timedelta(seconds=1)) == 5  # the step, a second late
    assert "AT RISK, 5 min left" in alert_sms(incident, "at_risk", DUE - timedelta(seconds=299))
    assert minutes_left(incident, DUE - timedelta(minutes=5)) == 5
    assert minutes_left(incident, DUE + timedelta(seconds=3)) == 0


def test_a_corrected_number_asks_the_reps_to_call_it_and_tells_the_tam_only_that_it_changed():
    incident = _incident(phone="+14155550298")
    assert number_corrected_sms(incident).endswith("Call back +14155550298 by 17:29 UTC, not the number in the first "
                                                   "page.")
    tam = number_corrected_sms(incident, tam=True)
    assert tam.endswith("corrected their callback number to +14155550298; the on-call reps have it.")
    assert "Call back" not in tam
