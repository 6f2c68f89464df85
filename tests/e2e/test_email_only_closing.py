"""A withheld caller who leaves only an e-mail address hears what will reach them in writing: the receipt by
e-mail only when an e-mail can leave this hotline (SMTP configured: ``deliveries.email_can_leave``, the receipt's
own rule), else that none will follow and their reference once more. An outside probe's such caller, with no SMTP,
was promised e-mail and nothing written ever came."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Incident
from ivr_flows.prompts import say_digits


@pytest.fixture(params=["", "127.0.0.1"], ids=["no-smtp", "smtp"])
def settings(settings, request):
    """The test settings without SMTP, and with an SMTP host."""
    return settings.with_overrides(smtp_host=request.param)


def _said(prompt) -> str:
    return " ".join(prompt.said)


def test_a_withheld_caller_with_only_an_email_is_promised_an_email_receipt_only_when_one_can_leave(
        phone, hotline, settings):
    call = phone("anonymous")
    call.dial()
    call.press("1")
    call.press("1")  # API calls failing
    call.press("#")  # no ticket
    call.say("Globex")
    call.say("Jane Doe")
    for _ in range(3):
        call.press("#")  # no number to give
    call.say("jane at globex dot com")
    call.press("1")
    call.say("Every API call returns 500.")
    call.record(seconds=5)
    closing = _said(call.press("1"))
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
    assert not incident.callback_phone and incident.email == "jane@globex.com"
    assert "an engineer will reach you by e-mail" in closing
    if settings.smtp_host:
        assert "You'll also get an e-mail with this reference." in closing and "cannot send e-mail" not in closing
    else:
        assert (f"This hotline cannot send e-mail itself, so no e-mail with this reference will follow. Please note "
                f"your reference: {say_digits(incident.reference)}.") in closing
        assert "get an e-mail" not in closing
