"""Callers who hang up mid-intake, through the signed webhooks: nothing they said is lost (policy: no Sev-1
caller is lost), and nobody is paged for a caller the hotline has no way to reach back."""

from __future__ import annotations

from sqlalchemy import select

from app.auth import Role
from app.models import Incident, MissedCall, Notice, Page
from tests.integration.board_support import login_as


def _said(prompt) -> str:
    return " ".join(prompt.said)


def _to_company(call) -> None:
    call.dial()
    call.press("1")  # English
    call.press("1")  # API calls failing
    call.press("#")  # no ticket


def test_a_withheld_caller_who_hangs_up_after_company_and_name_is_on_the_missed_calls_page(phone, hotline, client):
    call = phone("anonymous")
    _to_company(call)
    call.say("Acme Mail Inc")
    entry = call.say("Dana Smith")
    assert "enter the number" in _said(entry)  # no caller ID to offer: asked for a number, hangs up instead
    call.hang_up()
    with hotline.db.session() as s:
        assert s.scalars(select(Incident)).all() == [] and s.scalars(select(Page)).all() == []  # nobody paged
        assert s.scalars(select(Notice)).all() == []  # nobody to text
        [missed] = s.scalars(select(MissedCall)).all()
    assert missed.stage == "callback_entry" and missed.caller_id == "anonymous"
    assert missed.said == {"affected_service": "api", "company": "Acme Mail Inc", "contact_name": "Dana Smith"}
    login_as(client, hotline, Role.REP)
    html = client.get("/missed-calls").get_data(as_text=True)
    assert "Acme Mail Inc" in html and "Dana Smith" in html and "API calls failing" in html
