"""A caller's answer holding a NUL is taken without it: the guard that refuses NUL elsewhere (``app.input_guard``)
never refuses Twilio's webhooks, and the flow keeps only plain text."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Incident


def test_a_callers_answer_holding_a_nul_is_taken_without_it(phone, hotline):
    call = phone("+14155550100")
    call.dial()
    call.press("1")
    call.press("1")
    call.press("#")
    assert "full name" in " ".join(call.say("Acme\x00 Mail").said)
    assert "call you back on" in " ".join(call.say("Dana\x00 Smith").said)
    assert "e-mail address" in " ".join(call.press("1").said)  # the incident opens once the number is confirmed
    with hotline.db.session() as session:
        assert session.execute(select(Incident.company, Incident.contact_name)).all() == [("Acme Mail", "Dana Smith")]
