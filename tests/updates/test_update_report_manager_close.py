"""The updates report counts the incidents a manager closed without the customer's agreement (the core's
``resolved_by_manager``) apart from the confirmed, the unconfirmed and the rejected: an outside probe found them
counted nowhere. Driven through the services on SQLite and PostgreSQL; old ``resolved`` lines still read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.db import Database
from app.models import Incident, ProposalKind
from app.reports.updates import figures_json, update_figures
from app.services.acks import Actor, resolve
from app.services.events import log_event
from app.services.resolution import decide, pending_proposal, propose
from app.settings import Settings
from tests.updates.conftest import verified_callback

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MARIA = Actor(name="Maria", via="dashboard", is_manager=True)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _incident(session, reference: str, called_back: bool = True) -> Incident:
    incident = Incident(reference=reference, received_at=T0, captured_at=T0, callback_due_at=_at(15),
                        callback_phone="+14155550100", email="dana@acme.example", contact_name="Dana")
    session.add(incident)
    session.flush()
    if called_back:
        verified_callback(session, incident, _at(5))
    return incident


def test_a_managers_close_without_the_customers_agreement_is_counted_apart_and_not_timed(database_url):
    db = Database(database_url)
    try:
        with db.transaction() as s:
            agreed = _incident(s, "MGR1")  # the customer agreed: confirmed, timed
            assert propose(s, agreed, ProposalKind.RESOLVED, summary="drained", by="Alice", now=_at(30),
                           settings=Settings()).ok
            assert decide(s, pending_proposal(s, agreed), confirmed=True, via="sms", who="Dana", now=_at(40)).ok
            called = _incident(s, "MGR2")  # reached, then closed by a manager without their word
            assert resolve(s, called, MARIA, _at(90), reason="the customer left for the weekend").outcome == (
                "resolved_by_manager")
            never_called = _incident(s, "MGR3", called_back=False)
            assert resolve(s, never_called, MARIA, _at(20), reason="duplicate of MGR2").outcome == (
                "resolved_by_manager")
            refused = _incident(s, "MGR4")  # a rep's close without agreement is refused: nothing closed
            assert not resolve(s, refused, Actor(name="Alice", via="dashboard"), _at(50), reason="fixed").ok
            # a line from before the core named its outcomes says nothing of who closed: never counted a manager's
            log_event(s, at=_at(60), actor="Maria", kind="resolved", incident_id=refused.id, detail={"via": "dashboard"})
            late = _incident(s, "MGR5")  # closed after the range
            assert resolve(s, late, MARIA, T0 + timedelta(days=2), reason="gone").ok
        with db.session() as s:
            f = update_figures(s, T0, T0 + timedelta(days=1))
    finally:
        db.dispose()
    assert (f.confirmed, f.unconfirmed, f.rejected, f.closed_by_manager) == (1, 0, 0, 2)
    assert f.time_to_resolution.count == 1 and f.time_to_resolution.maximum == 40 * 60
    assert figures_json(f, T0, T0 + timedelta(days=1))["updates"]["closed_by_manager"] == 2
