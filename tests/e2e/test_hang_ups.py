"""Callers who hang up mid-intake, through the signed webhooks: nothing they said is lost (policy: no Sev-1
caller is lost), and nobody is paged for a caller the hotline has no way to reach back."""

from __future__ import annotations

from sqlalchemy import select

from app.auth import Role
from app.models import Incident, IncidentEvent, MissedCall, Notice, Page
from app.services.callback_extensions import callback_extension
from tests.integration.board_support import login_as

KNOWN = "+14155550100"


def _said(prompt) -> str:
    return " ".join(prompt.said)


def _lines(session, call_sid: str) -> list[dict]:
    """The call's log lines, kind and detail in one dict each."""
    events = session.scalars(select(IncidentEvent).where(IncidentEvent.call_sid == call_sid).order_by(IncidentEvent.id))
    return [{"kind": e.kind, **e.detail} for e in events]


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


def test_a_withheld_caller_who_hangs_up_while_their_keyed_number_is_read_back_is_called_back_on_it(phone, hotline):
    call = phone("anonymous")
    _to_company(call)
    call.say("Acme Mail Inc")
    call.say("Dana Smith")
    confirm = call.press("14155550123*204")
    assert "plus 1, 4 1 5, 5 5 5, 0 1 2 3" in _said(confirm)  # read back; the caller hangs up before pressing 1
    call.hang_up()
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        assert s.scalars(select(MissedCall)).all() == []
        lines = _lines(s, call.call_sid)
    assert (incident.callback_phone, incident.company, incident.contact_name) == (
        "+14155550123", "Acme Mail Inc", "Dana Smith")
    assert incident.source == "rescued" and incident.affected_service == "api"
    assert {"kind": "field_unconfirmed", "field": "callback_phone", "when": "hang_up"} in lines  # the rep sees it was not confirmed
    assert {"kind": "callback_extension", "extension": "204"} in lines
    with hotline.db.session() as s:
        assert callback_extension(s.get(Incident, incident.id), s) == "204"  # the rep keys it in


def test_a_caller_who_hangs_up_while_their_e_mail_is_read_back_keeps_it_on_the_incident(phone, hotline):
    call = phone(KNOWN)
    _to_company(call)
    call.say("Acme Mail Inc")
    call.say("Dana Smith")
    call.press("1")  # the caller ID is the callback number: the incident opens now (issue 13)
    heard = call.say("ops at acme dot example")
    assert "O P S, at, A C M E" in _said(heard)
    call.hang_up()
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        lines = _lines(s, call.call_sid)
    assert incident.email == "ops@acme.example" and "email" not in incident.missing_fields
    assert {"kind": "field_unconfirmed", "field": "email", "when": "hang_up"} in lines


def test_a_withheld_caller_without_a_number_who_hangs_up_at_their_e_mail_read_back_is_rescued(phone, hotline):
    call = phone("anonymous")
    _to_company(call)
    call.say("Acme Mail Inc")
    call.say("Dana Smith")
    for _ in range(3):
        prompt = call.press("123")  # not a number: asked three times, then moved on without one
    assert "e-mail" in _said(prompt)
    call.say("ops at acme dot example")
    call.hang_up()
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
    assert (incident.email, incident.callback_phone, incident.company) == ("ops@acme.example", "", "Acme Mail Inc")
