"""A caller whose callback number texted STOP is promised no text at the intake's end: its receipt step texts no
number that opted out, so the closing words say texts to it are off and give the reference again (an outside
probe's caller was told "You'll also get a text message with this reference" and no SMS came)."""

from __future__ import annotations

from sqlalchemy import select

from app.models import IncidentEvent
from tests.paging.conftest import ALICE, CUSTOMER
from tests.updates.test_customer_sms import _text_hotline


def _spoken(reference: str) -> str:
    return ", ".join(reference)


def test_a_caller_whose_number_opted_out_is_told_texts_are_off_and_is_texted_nothing(desk, network):
    assert _text_hotline(desk, "STOP") == []  # Twilio answers STOP itself; the hotline records it
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident, heard = desk.intake()
    desk.settle()
    closing = heard["closing"]
    assert "text message with this reference" not in closing
    assert "That number has opted out of our text messages, so no text will follow." in closing
    assert closing.count(_spoken(incident.reference)) == 2  # said, then again to note it
    assert [m for m in desk.network.twilio.messages if m.to == CUSTOMER] == []
    with desk.hotline.db.session() as s:
        outcomes = [e.detail.get("outcome") for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "step_receipt"))]
    assert outcomes and "receipt_queued" not in outcomes  # the receipt step texted nobody, as the caller was told

    other = "+14155550177"  # a number that never opted out is still promised its text, and gets it
    network.phone(other).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    second, heard = desk.intake(caller=other)
    desk.settle()
    assert "You'll also get a text message with this reference." in heard["closing"]
    assert "opted out" not in heard["closing"]
    assert [m for m in desk.network.twilio.messages if m.to == other and second.reference in m.body]
