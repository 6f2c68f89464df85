"""A call at 11:58 p.m. on the caller's clock: the callback deadline, 15 minutes on, is tomorrow there. The caller
hears "by tomorrow at 12:13 a.m." at the end of the intake, and the receipt SMS, the engineer's acknowledgement SMS
and the receipt e-mail (a landline) write the same day: "by tomorrow at 00:13".

Outside probe: the call said "tomorrow", the receipt SMS "by 00:13 EST" with no day, as if the deadline had passed.

Through the signed voice and SMS webhooks, the simulated Twilio with scripted phones that fail the test on any SMS
nobody expected, a real local SMTP server and a fake clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.models import Incident
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, CUSTOMER
from tests.updates.test_breach_notice_by_email import UK_LANDLINE

DE_MOBILE = "+491701234567"


def test_a_call_at_11_58_pm_reads_tomorrow_in_its_receipt_and_acknowledgement(desk, network):
    desk.clock.set(datetime(2026, 11, 26, 7, 58, tzinfo=UTC))  # Wednesday 11:58 p.m. PST
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False).expect_sms("Acknowledged")

    incident, heard = desk.intake()
    desk.settle()

    ref = incident.reference
    assert "by tomorrow at 12:13 a.m. PST" in heard["closing"]
    assert [m.body for m in network.twilio.messages if m.to == CUSTOMER] == [
        f"Sev-1 hotline: we have your report, reference {ref}. An engineer will call you back by tomorrow at "
        "00:13 PST. To add details, reply to this SMS.",
        f"Sev-1 hotline, reference {ref}: an engineer has taken your incident and will call you back no later than "
        "tomorrow at 00:13 PST."]
    assert customer.unmet == []


def test_a_german_call_at_23_58_reads_morgen_in_its_receipt(desk, network):
    desk.clock.set(datetime(2026, 11, 26, 22, 58, tzinfo=UTC))  # Donnerstag, 23:58 Uhr MEZ
    network.phone(DE_MOBILE).expect_sms("Wir haben Ihre Meldung, Referenznummer")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=DE_MOBILE)
    call.dial()
    for key in ("2", "1", "#"):  # Deutsch, API, kein Ticket
        call.press(key)
    call.say("Müller Versand GmbH")
    call.say("Jürgen Weiß")
    call.press("1")  # Rückruf unter dieser Nummer
    call.say("juergen at mueller punkt de")
    call.press("1")
    call.say("Alle API-Aufrufe schlagen fehl.")
    call.record(seconds=5)
    done = " ".join(call.press("1").said)
    desk.settle()

    assert "spätestens morgen um 0:13 Uhr (MEZ)" in done
    with desk.hotline.db.session() as s:
        ref = s.scalars(select(Incident.reference).where(Incident.call_sid == call.call_sid)).one()
    assert [m.body for m in network.twilio.messages if m.to == DE_MOBILE] == [
        f"Severity-1-Hotline: Wir haben Ihre Meldung, Referenznummer {ref}. Ein Techniker ruft Sie spätestens morgen "
        "um 00:13 Uhr (MEZ) zurück. Ergänzungen senden Sie als Antwort auf diese SMS."]


def test_a_landline_call_at_11_58_pm_reads_tomorrow_in_its_receipt_email(desk, network, smtp):
    desk.clock.set(datetime(2026, 11, 26, 23, 58, tzinfo=UTC))  # Thursday 11:58 p.m. GMT
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)

    incident, heard = desk.intake(caller=UK_LANDLINE)
    desk.settle()

    assert "by tomorrow at 12:13 a.m. GMT" in heard["closing"]
    assert [m for m in network.twilio.messages if m.to == UK_LANDLINE] == []  # a landline: no SMS
    [mail] = smtp.inbox.to("dana@acme.example")
    assert mail["Subject"] == f"Sev-1 incident {incident.reference}: we have your report"
    assert "\nAn engineer will call you back by tomorrow at 00:13 GMT.\n" in mail.get_content().replace("\r\n", "\n")
