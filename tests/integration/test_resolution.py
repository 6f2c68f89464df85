"""Resolving an incident: only after a callback, logged, and it leaves the board."""

from __future__ import annotations

from email.utils import format_datetime

from sqlalchemy import select

from app.models import Incident, IncidentEvent
from app.services.callbacks import confirm_person, customer_leg_status, open_callback
from tests.integration.board_support import CSRF, login_as, make_incident, make_rep


def _incident(hotline, incident_id):
    with hotline.db.session() as s:
        return s.get(Incident, incident_id)


def test_resolving_needs_a_callback_first_then_the_incident_leaves_the_board(client, hotline, clock):
    rep_id = make_rep(hotline)
    incident_id = make_incident(hotline, reference="424242")
    login_as(client, hotline, rep_id=rep_id)

    refused = client.post("/incidents/424242/resolve", data={"csrf_token": CSRF, "back": "incident"},
                          follow_redirects=True)
    assert "Call the customer back before resolving 424242" in refused.get_data(as_text=True)
    assert _incident(hotline, incident_id).status == "open"

    with hotline.db.transaction() as s:
        incident = s.get(Incident, incident_id)
        callback = open_callback(s, incident, rep_id, clock.now(), rep_call_sid="CA" + "1" * 32)
        customer_leg_status(s, callback.id, "answered", format_datetime(clock.now()), "CA" + "2" * 32, clock.now())
        confirm_person(s, callback.id, clock.now())  # the customer pressed a key
    assert "Resolved (the customer agrees)" in client.get("/incidents/424242").get_data(as_text=True)
    unagreed = client.post("/incidents/424242/resolve", data={"csrf_token": CSRF, "back": "incident"},
                           follow_redirects=True)  # issue 11: a callback alone does not close it
    assert "closes only when the customer agrees" in unagreed.get_data(as_text=True)
    assert _incident(hotline, incident_id).status == "open"
    done = client.post("/incidents/424242/resolve", data={"csrf_token": CSRF, "back": "incident",
                                                          "who_agreed": "Dana Smith"}, follow_redirects=True)
    assert "Dana Smith agreed" in done.get_data(as_text=True)
    assert _incident(hotline, incident_id).status == "resolved"
    assert "424242" not in client.get("/board").get_data(as_text=True)
    with hotline.db.session() as s:
        kinds = s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident_id)).all()
    assert kinds.count("resolved") == 1


def test_resolve_without_csrf_changes_nothing(client, hotline):
    incident_id = make_incident(hotline, reference="434343")
    login_as(client, hotline)
    assert client.post("/incidents/434343/resolve", data={"back": "incident"}).status_code == 400
    assert _incident(hotline, incident_id).status == "open"
