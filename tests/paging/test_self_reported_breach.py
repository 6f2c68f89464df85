"""A rep's ``CALLED`` (their word that they called from their own phone) never keeps the promise: at the deadline
the managers hear of the breach, told what the hotline's own calls did and that the rep's call is unverified
(probe G F2: no alert went), and the report names the reason by what the log proves."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Incident, IncidentEvent, Page
from tests.paging.conftest import ALICE, MARIA
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_at_risk_unproven_callback import _at, _callback_by_sms
from tests.paging.test_callback_proof import _dial_done, _facts, _leg_status


def _breach_sms_to(desk, incident_id: int, number: str) -> list[str]:
    with desk.hotline.db.session() as s:
        sids = set(s.scalars(select(Page.twilio_sid).where(Page.incident_id == incident_id, Page.purpose == "breach",
                                                           Page.channel == "sms", Page.to_number == number)))
    return [m.body for m in desk.network.twilio.messages if m.sid in sids]


def test_after_an_unanswered_callback_the_alert_names_both_and_the_reason_stays_unreachable(desk, network):
    callback = _callback_by_sms(desk, network)
    desk.clock.set(desk.t0 + timedelta(minutes=2, seconds=40))
    _leg_status(desk, callback, "ringing", 150)
    _leg_status(desk, callback, "no-answer", 160)
    _dial_done(desk, callback, "no-answer")
    with desk.hotline.db.session() as s:
        reference = s.get(Incident, callback.incident_id).reference
    desk.clock.set(desk.t0 + timedelta(minutes=6))
    assert "Noted" in _sms_from(desk, ALICE, f"CALLED {reference}").get_data(as_text=True)

    _at(desk, 15)

    [alert] = _breach_sms_to(desk, callback.incident_id, MARIA)
    assert ("BREACHED, a callback was tried and did not reach the customer; a call self-reported by Alice Primary "
            "(unverified)") in alert
    assert _breach_sms_to(desk, callback.incident_id, ALICE) == []  # the reps are not chased
    with desk.hotline.db.session() as s:
        breached = s.scalars(select(IncidentEvent.detail).where(IncidentEvent.incident_id == callback.incident_id,
                                                                IncidentEvent.kind == "callback_breached")).one()
    assert breached["outcome"] == "breached_self_reported" and breached["alerted"] >= 1
    facts = _facts(desk, callback.incident_id)
    assert facts.outcome == "self_reported" and facts.breach_reason().value == "customer unreachable"
