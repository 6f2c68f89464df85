"""An e-mail domain with umlauts is kept as the domain the caller said (an IDN), never transliterated into another
registrable domain: stored and sent in the ASCII form SMTP takes, read back and spelled in its own letters.

An outside probe's German caller said ``info at bäckerei-schmidt punkt de`` and was read back
info@baeckerei-schmidt.de, a different domain (maybe someone else's), which their receipt would have gone to."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Delivery, Incident, UpdateDeliveryStatus
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE

DE_LANDLINE = "+493012345678"  # Berlin: takes calls, never an SMS, so the receipt goes by e-mail
IDN_EMAIL = "info@xn--bckerei-schmidt-0kb.de"  # info@bäckerei-schmidt.de as SMTP takes it


def test_an_umlaut_domain_is_read_back_as_said_and_the_receipt_goes_to_that_domain(desk, network, smtp):
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=DE_LANDLINE)
    call.dial()
    call.press("2")  # Deutsch
    call.press("1")  # API
    call.press("#")  # kein Ticket
    call.say("Bäckerei Schmidt")
    call.say("Jürgen Weiß")
    call.press("1")  # Rückruf unter dieser Nummer
    heard = " ".join(call.say("info at bäckerei-schmidt punkt de").said)
    assert "info ät bäckerei Bindestrich schmidt punkt de" in heard and "B Ä C K E R E I" in heard
    assert "baeckerei" not in heard and "B A E C K" not in heard and "xn--" not in heard
    call.press("1")  # ja
    call.say("Alle API-Aufrufe schlagen fehl.")
    call.record(seconds=5)
    call.press("1")
    call.hang_up()
    desk.settle()

    with desk.hotline.db.session() as s:
        incident = s.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()
        [delivery] = s.scalars(select(Delivery).where(Delivery.incident_id == incident.id))
    assert incident.email == IDN_EMAIL
    assert (delivery.purpose, delivery.to_address, delivery.status) == ("receipt", IDN_EMAIL,
                                                                        UpdateDeliveryStatus.SENT)
    [mail] = smtp.inbox.to(IDN_EMAIL)
    assert incident.reference in mail["Subject"]
    assert smtp.inbox.to("baeckerei-schmidt.de") == []
