"""Migration c7e9a1b3d5f8 refolds the facts of incidents whose callback to the customer never rang, on both databases.

A database at the revision before it holds facts rows the earlier fold wrote: a ``callback_attempted``
line whose status says Twilio could not place the call to the customer ("failed", "canceled") counted as
an attempt the customer left unanswered ("attempted", "customer unreachable"). After the upgrade that
row says the call to the customer failed, a leg that rang unanswered keeps "customer unreachable",
every other row is untouched, and the table equals a full refold from the log.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, update

from app.models import IncidentEvent, IncidentFactsRow
from app.reports.facts_sync import rebuild_facts
from tests.integration.refold_support import facts, generated_before, upgraded

BEFORE = "b3c5d7e9f1a4"  # the revision before c7e9a1b3d5f8
F = IncidentFactsRow


def _leg(incident, callback_id: int, status: str) -> list[dict]:
    at = incident.captured_at + timedelta(minutes=3)
    return [{"incident_id": incident.incident_id, "at": at, "actor": "rep", "kind": "callback_requested",
             "detail": {"callback_id": callback_id, "rep_id": 1}},
            {"incident_id": incident.incident_id, "at": at + timedelta(seconds=30), "actor": "twilio",
             "kind": "callback_attempted", "detail": {"callback_id": callback_id, "status": status, "voicemail": False}}]


def test_the_upgrade_refolds_callbacks_twilio_could_not_place(empty_database_url):
    engine = generated_before(empty_database_url, BEFORE)
    # acknowledged in time, nothing placed: the reason comes down to the lines added below
    failed, canceled, rang = [row for row in facts(engine) if row.outcome == "no_callback" and row.acknowledged_at
                              and row.acknowledged_at <= row.due_at][:3]
    with engine.begin() as conn:  # lines an earlier release wrote, and the facts rows it folded from them
        conn.execute(insert(IncidentEvent.__table__),
                     _leg(failed, 9001, "failed") + _leg(canceled, 9002, "canceled") + _leg(rang, 9003, "no-answer"))
        rebuild_facts(conn, said_only=True)  # ``rang`` is folded the same by both releases
        conn.execute(update(F).where(F.incident_id.in_([failed.incident_id, canceled.incident_id]))
                     .values(outcome="attempted", breach_reason="customer unreachable"))
    before = facts(engine)

    by_id = upgraded(empty_database_url, engine, before, changed={failed.incident_id, canceled.incident_id})  # nothing else touched
    for row in (failed, canceled):
        assert (by_id[row.incident_id].outcome, by_id[row.incident_id].breach_reason) == (
            "no_callback", "call to the customer failed")
    assert (by_id[rang.incident_id].outcome, by_id[rang.incident_id].breach_reason) == (
        "attempted", "customer unreachable")
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
