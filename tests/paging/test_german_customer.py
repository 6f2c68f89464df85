"""Issue 10: a German caller's receipt SMS is German, with the time in MEZ (through the simulated Twilio)."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Incident
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE

DE_MOBILE = "+491701234567"


def test_a_german_caller_gets_a_german_receipt_in_mez(desk, network):
    network.phone(DE_MOBILE).expect_sms("Wir haben Ihre Meldung, Referenznummer")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=DE_MOBILE)
    greeting = " ".join(call.dial().said)
    assert "aufgezeichnet" in greeting and "Calls are recorded" in greeting  # both notices before the choice
    call.press("2")  # Deutsch
    call.press("1")  # API
    call.press("#")  # kein Ticket
    call.say("Müller Versand GmbH")
    call.say("Jürgen Weiß")
    call.press("1")  # Rückruf unter dieser Nummer
    call.say("juergen at mueller minus versand punkt de")
    assert "Bindestrich" in " ".join(call.prompt.said)
    call.press("1")
    call.say("Alle API-Aufrufe schlagen fehl.")
    call.record(seconds=5)
    done = " ".join(call.press("1").said)
    assert "spätestens um 4:15 Uhr (MEZ)" in done and "Die Referenznummer erhalten Sie außerdem per SMS." in done
    desk.settle()
    with desk.hotline.db.session() as s:
        incident = s.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()
    [receipt] = [m for m in desk.network.twilio.messages if m.to == DE_MOBILE]
    assert receipt.body == (f"Severity-1-Hotline: Wir haben Ihre Meldung, Referenznummer {incident.reference}. "
                            "Ein Techniker ruft Sie spätestens um 04:15 Uhr (MEZ) zurück. "
                            "Ergänzungen senden Sie als Antwort auf diese SMS.")
