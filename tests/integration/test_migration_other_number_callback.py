"""Migration e4a6c8e0b2d9 refolds the facts of incidents whose call to the rep moved to their other number, on both
databases.

A database at the revision before it holds an incident whose callback's call to the rep Twilio refused for good (a
final ``callback_rep_call_failed`` line), moved to the rep's other number (``callback_rep_other_number``) and then
bridged the customer after the deadline: the earlier fold read the refusal as the callback's end, breach reason
"hotline could not reach the rep". After the upgrade that row says "acknowledged but called late"; a callback whose
other number was refused too keeps "hotline could not reach the rep"; every other row is untouched, and the table
equals a full refold from the log.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, update

from app.models import IncidentEvent, IncidentFactsRow
from app.reports.facts_sync import rebuild_facts
from tests.integration.refold_support import facts, generated_before, upgraded

BEFORE = "a2c4e6f8b0d3"  # the revision before e4a6c8e0b2d9
F = IncidentFactsRow
REP_NOT_REACHED = "hotline could not reach the rep"


def _moved(incident, callback_id: int, *then: tuple[str, dict]) -> list[dict]:
    """A callback asked for a minute past the deadline, its call to the rep refused and moved to their other number,
    then ``then`` (kind, detail) a minute later."""
    at = incident.due_at + timedelta(minutes=1)
    lines = [("rep", "callback_requested", {"rep_id": 1}),
             ("twilio", "callback_rep_call_failed", {"error": "Rejected: 400 (code 21215)", "final": True}),
             ("twilio", "callback_rep_other_number", {"rep_id": 1, "why": "call_failed",
                                                      "outcome": "calling_other_number"})]
    rows = [{"incident_id": incident.incident_id, "at": at, "actor": actor, "kind": kind,
             "detail": {"callback_id": callback_id, **detail}} for actor, kind, detail in lines]
    return rows + [{"incident_id": incident.incident_id, "at": at + timedelta(minutes=1), "actor": "twilio",
                    "kind": kind, "detail": {"callback_id": callback_id, **detail}} for kind, detail in then]


def test_the_upgrade_refolds_callbacks_moved_to_the_reps_other_number(empty_database_url):
    engine = generated_before(empty_database_url, BEFORE)
    # acknowledged in time, nothing placed: the reason comes down to the lines added below
    bridged, refused_too = [row for row in facts(engine) if row.outcome == "no_callback" and row.acknowledged_at
                            and row.acknowledged_at <= row.due_at][:2]
    answered = bridged.due_at + timedelta(minutes=2)
    with engine.begin() as conn:  # lines an earlier release wrote, and the facts rows it folded from them
        conn.execute(insert(IncidentEvent.__table__), _moved(bridged, 9101, ("callback_late", {
            "answered_at": answered.isoformat(), "seconds_after_capture": 1020.0})) + _moved(refused_too, 9102, (
                "callback_rep_call_failed", {"error": "Rejected: 400 (code 21215)", "final": True}), (
                "callback_rep_not_reached", {"rep_id": 1, "why": "call_failed", "outcome": "rep_not_reached"})))
        rebuild_facts(conn)  # ``refused_too`` is folded the same by both releases
        conn.execute(update(F).where(F.incident_id == bridged.incident_id).values(breach_reason=REP_NOT_REACHED))
    before = facts(engine)

    by_id = upgraded(empty_database_url, engine, before, changed={bridged.incident_id})  # nothing else touched
    assert (by_id[bridged.incident_id].outcome, by_id[bridged.incident_id].breach_reason) == (
        "late", "acknowledged but called late")
    assert (by_id[refused_too.incident_id].outcome, by_id[refused_too.incident_id].breach_reason) == (
        "no_callback", REP_NOT_REACHED)
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
