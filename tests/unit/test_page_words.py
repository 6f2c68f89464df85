"""What a page and an alert say, for a customer who left no callback number and against the clock.

A probe's caller from a country the hotline does not call back gave only an e-mail address: every page said "Call
back n/a", offered CALL and "Press 2 to be connected", which place nothing, and no SMS, call or link gave the address
the rep needed. An at-risk alert's minutes left are rounded down (probe G F3: "5 min left" with 4:29 to go).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.models import Channel, Incident, Page
from app.services.page_text import alert_sms, minutes_left, number_corrected_sms, page_sms, spoken_summary, tam_sms
from app.services.page_urls import PageUrls
from app.settings import Settings

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


def test_the_minutes_left_are_rounded_down_never_more_time_than_there_is():
    # rounded up, an outside probe's late alert read "5 min left (by 09:31 UTC)" with 4:29 left (probe G F3)
    incident = _incident(phone="+14155550100")
    assert minutes_left(incident, DUE - timedelta(minutes=4, seconds=29)) == 4
    assert "AT RISK, 4 min left (by 17:29 UTC)" in alert_sms(incident, "at_risk", DUE - timedelta(seconds=269))
    assert minutes_left(incident, DUE - timedelta(minutes=5) + timedelta(seconds=1)) == 4  # the step, a second late
    assert minutes_left(incident, DUE - timedelta(minutes=5)) == 5
    assert minutes_left(incident, DUE - timedelta(seconds=59)) == 0
    assert minutes_left(incident, DUE + timedelta(seconds=3)) == 0
    # the TAM's alert, by SMS and in the e-mail, counts by the same rule
    assert "AT RISK, 3 min left" in tam_sms(incident, "at_risk", DUE - timedelta(minutes=3, seconds=59))


def test_a_corrected_number_asks_the_reps_to_call_it_and_tells_the_tam_only_that_it_changed():
    incident = _incident(phone="+14155550298")
    assert number_corrected_sms(incident).endswith("Call back +14155550298 by 17:29 UTC, not the number in the first "
                                                   "page.")
    tam = number_corrected_sms(incident, tam=True)
    assert tam.endswith("corrected their callback number to +14155550298; the on-call reps have it.")
    assert "Call back" not in tam


# 11:58 p.m. PST on Monday, December 7; the deadline 15 minutes later is on Tuesday on the rep's clock (in UTC both
# fall on Tuesday, December 8)
LA, LATE_EVENING = "America/Los_Angeles", datetime(2026, 12, 8, 7, 58, tzinfo=UTC)


def _late_incident() -> Incident:
    return Incident(reference="375351", company="Nihon Mail", affected_service="api", callback_phone="+14155550100",
                    email="", callback_due_at=LATE_EVENING + timedelta(minutes=15), captured_at=LATE_EVENING)


def test_a_deadline_after_midnight_on_the_reps_clock_names_its_day_in_every_rep_text():
    """Session 41's left-over: a page written at 23:58 read "Call back ... by 00:13 PST", with no word of the day,
    as if due a day ago or at the end of today."""
    incident = _late_incident()
    dated = "2026-12-08 00:13 PST"
    assert f"Call back +14155550100 by {dated}. Reply ACK" in page_sms(incident, "", LA, at=LATE_EVENING)
    assert f"AT RISK, 15 min left (by {dated})" in alert_sms(incident, "at_risk", LATE_EVENING, LA)
    assert f"callback deadline {dated} BREACHED" in alert_sms(incident, "breach", LATE_EVENING, LA)
    assert number_corrected_sms(incident, LA, at=LATE_EVENING).endswith(f"by {dated}, not the number in the first "
                                                                        "page.")
    assert f"by {dated}" in tam_sms(incident, "page", LATE_EVENING, LA)
    # the same moments on a UTC clock are one day: no date; nor on the rep's clock once midnight has passed
    assert "Call back +14155550100 by 08:13 UTC. Reply ACK" in page_sms(incident, "", "UTC", at=LATE_EVENING)
    after = LATE_EVENING + timedelta(minutes=3)
    assert "Call back +14155550100 by 00:13 PST. Reply ACK" in page_sms(incident, "", LA, at=after)
    assert "(by 00:13 PST)" in alert_sms(incident, "at_risk", after, LA)


def test_the_page_the_worker_sends_is_written_at_its_rows_moment():
    """The SMS body a page row becomes names the deadline's day against the row's own moment (``created_at``)."""
    incident = _late_incident()
    incident.callback_due_at = datetime(2026, 12, 8, 0, 13, tzinfo=UTC)
    urls = PageUrls(Settings(public_base_url="https://hotline.example", twilio_number="+15005550006"))
    for purpose, words in (("page", "Call back +14155550100 by 2026-12-08 00:13 UTC."),
                           ("at_risk", "(by 2026-12-08 00:13 UTC)"),
                           ("number_corrected", "Call back +14155550100 by 2026-12-08 00:13 UTC, not")):
        page = Page(id=7, channel=Channel.SMS, purpose=purpose, role="rep", to_number="+14155550123",
                    created_at=datetime(2026, 12, 7, 23, 58, tzinfo=UTC))
        assert words in urls.request_for(page, incident).body, purpose
        page.created_at = datetime(2026, 12, 8, 0, 1, tzinfo=UTC)
        assert "2026-12-08" not in urls.request_for(page, incident).body, purpose
