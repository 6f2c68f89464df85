"""Migration e3a5c7e9b1d4 refolds the incidents whose breach reason is "customer unreachable", on both databases.

A database at the revision before it holds facts rows the earlier fold wrote: a callback asked for by the deadline
whose customer leg rang unanswered only after it counted as "customer unreachable". After the upgrade that row says
"acknowledged but called late", a leg that rang unanswered by the deadline keeps "customer unreachable", every
other row is untouched, and the table equals a full refold from the log.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, update

from app.models import IncidentEvent, IncidentFactsRow
from app.reports.facts_sync import rebuild_facts
from tests.integration.refold_support import facts, generated_before, upgraded

BEFORE = "d2f4a6c8e0b3"  # the revision before e3a5c7e9b1d4
F = IncidentFactsRow


def _leg(incident, callback_id: int, rings_after_due: bool) -> list[dict]:
    asked = incident.due_at - timedelta(seconds=4 if rings_after_due else 120)
    ended = incident.due_at + timedelta(seconds=36) if rings_after_due else asked + timedelta(seconds=40)
    return [{"incident_id": incident.incident_id, "at": asked, "actor": "rep", "kind": "callback_requested",
             "detail": {"callback_id": callback_id, "rep_id": 1}},
            {"incident_id": incident.incident_id, "at": ended, "actor": "twilio", "kind": "callback_attempted",
             "detail": {"callback_id": callback_id, "status": "no-answer", "voicemail": False}}]


def test_the_upgrade_refolds_callbacks_that_rang_the_customer_only_after_the_deadline(empty_database_url):
    engine = generated_before(empty_database_url, BEFORE)
    # acknowledged in time, nothing placed: the reason comes down to the lines added below
    late, in_time = [row for row in facts(engine) if row.outcome == "no_callback" and row.acknowledged_at
                     and row.acknowledged_at <= row.due_at - timedelta(seconds=120)][:2]
    with engine.begin() as conn:  # lines an earlier release wrote, and the facts rows that release folded
        conn.execute(insert(IncidentEvent.__table__), _leg(late, 9101, True) + _leg(in_time, 9102, False))
        rebuild_facts(conn)  # this release's fold: ``late`` is called late, ``in_time`` unreachable
    with engine.begin() as conn:  # what the earlier release's fold had stored for ``late``
        conn.execute(update(F).where(F.incident_id == late.incident_id).values(breach_reason="customer unreachable"))
    before = facts(engine)
    assert sum(row.breach_reason == "customer unreachable" for row in before) >= 2

    by_id = upgraded(empty_database_url, engine, before, changed={late.incident_id})  # nothing else touched
    assert (by_id[late.incident_id].outcome, by_id[late.incident_id].breach_reason) == (
        "attempted", "acknowledged but called late")
    assert (by_id[in_time.incident_id].outcome, by_id[in_time.incident_id].breach_reason) == (
        "attempted", "customer unreachable")
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
