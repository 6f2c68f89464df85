"""Migration b1d3f5a7c9e2 gives an incident whose only call was self-reported its own breach reason, on both
databases.

A database at the revision before it holds facts rows the earlier fold wrote: a self-reported incident (a rep's
``CALLED``) read "acknowledged, no callback attempted" (or "hotline could not reach the rep" when the hotline's call
to the rep had failed first) beside its self_reported outcome. After the upgrade those rows say "self-reported call
only (unverified)"; a self-reported incident whose customer the hotline's call rang unanswered keeps "customer
unreachable", every other row is untouched, and the table equals a full refold from the log.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from app.models import IncidentEvent, IncidentFactsRow
from app.reports.facts_sync import rebuild_facts
from tests.integration.refold_support import facts, generated_before, upgraded

BEFORE = "a9c1e3f5b7d2"  # the revision before b1d3f5a7c9e2
F = IncidentFactsRow
ONLY = "self-reported call only (unverified)"


def _self_report(incident, callback_id: int) -> list[dict]:
    at = incident.due_at - timedelta(minutes=5)
    return [{"incident_id": incident.incident_id, "at": at, "actor": "Bob", "kind": "callback_self_reported",
             "detail": {"callback_id": callback_id, "rep_id": 2, "called_at": at.isoformat(), "note": "own phone"}}]


def _rep_not_reached(incident, callback_id: int) -> list[dict]:
    asked = incident.due_at - timedelta(minutes=8)
    return [{"incident_id": incident.incident_id, "at": asked, "actor": "Bob", "kind": "callback_requested",
             "detail": {"callback_id": callback_id, "rep_id": 2}},
            {"incident_id": incident.incident_id, "at": asked + timedelta(seconds=40), "actor": "twilio",
             "kind": "callback_rep_not_reached", "detail": {"callback_id": callback_id, "rep_id": 2, "why": "no-answer"}}]


def _unanswered(incident, callback_id: int) -> list[dict]:
    asked = incident.due_at - timedelta(minutes=8)
    return [{"incident_id": incident.incident_id, "at": asked, "actor": "Bob", "kind": "callback_requested",
             "detail": {"callback_id": callback_id, "rep_id": 2}},
            {"incident_id": incident.incident_id, "at": asked + timedelta(seconds=40), "actor": "twilio",
             "kind": "callback_attempted", "detail": {"callback_id": callback_id, "status": "no-answer",
                                                      "voicemail": False, "rang": True}}]


def test_the_upgrade_names_a_breach_whose_only_call_was_self_reported(empty_database_url):
    engine = generated_before(empty_database_url, BEFORE)
    # acknowledged in time, nothing placed: the reason comes down to the lines added below
    only, after_rep, rang = [row for row in facts(engine) if row.outcome == "no_callback" and row.acknowledged_at
                             and row.acknowledged_at <= row.due_at - timedelta(minutes=8)][:3]
    with engine.begin() as conn:  # lines an earlier release wrote, and the facts rows that release folded
        conn.execute(insert(IncidentEvent.__table__), _self_report(only, 9301) + _rep_not_reached(after_rep, 9302)
                     + _self_report(after_rep, 9303) + _unanswered(rang, 9304) + _self_report(rang, 9305))
        rebuild_facts(conn)  # this release's fold; the earlier one's reasons below
        for row, earlier in ((only, "acknowledged, no callback attempted"),
                             (after_rep, "hotline could not reach the rep")):
            assert conn.execute(update(F).where(F.incident_id == row.incident_id, F.breach_reason == ONLY)
                                .values(breach_reason=earlier)).rowcount == 1
        generated = [r.incident_id for r in conn.execute(
            select(F.incident_id).where(F.outcome == "self_reported", F.breach_reason == ONLY,
                                       F.incident_id.not_in([only.incident_id, after_rep.incident_id])))]
        assert generated  # the generated log holds self-reported incidents of its own: the earlier fold's reason
        conn.execute(update(F).where(F.incident_id.in_(generated))
                     .values(breach_reason="acknowledged, no callback attempted"))
    before = facts(engine)

    by_id = upgraded(empty_database_url, engine, before,
                     changed={only.incident_id, after_rep.incident_id, *generated})  # nothing else touched
    for row in (only, after_rep):
        assert (by_id[row.incident_id].outcome, by_id[row.incident_id].breach_reason) == ("self_reported", ONLY)
    assert (by_id[rang.incident_id].outcome, by_id[rang.incident_id].breach_reason) == (
        "self_reported", "customer unreachable")  # the hotline's call rang them unanswered: verified, as before
    assert all(by_id[i].breach_reason == ONLY for i in generated)
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
