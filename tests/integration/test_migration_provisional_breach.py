"""Migration d9f1b3c5e7a2 refolds the facts that kept a provisional deadline's breach line, on both databases.

A database at the revision before it holds an incident opened mid-call whose intake went on past the
opening's provisional deadline: its breach line was logged before the deadline set when the details
were in, and the earlier fold kept it as the breach. After the upgrade that row has no breach line
(the deadline that counts is later), every other row is untouched, and the table equals a full refold.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, update

from app.models import IncidentEvent, IncidentFactsRow
from app.reports.facts_sync import rebuild_facts
from tests.integration.refold_support import facts, generated_before, upgraded

BEFORE = "c7e9a1b3d5f8"  # the revision before d9f1b3c5e7a2
F = IncidentFactsRow


def test_the_upgrade_drops_a_breach_line_logged_before_the_deadline_that_counts(empty_database_url):
    engine = generated_before(empty_database_url, BEFORE)
    long = next(row for row in facts(engine) if row.outcome == "no_callback" and row.acknowledged_at is None
                and row.breach_logged_at is not None)
    provisional_breach = long.breach_logged_at
    details_in = provisional_breach + timedelta(minutes=2)
    with engine.begin() as conn:  # the details came in after the provisional deadline's breach step ran
        conn.execute(insert(IncidentEvent.__table__), [
            {"incident_id": long.incident_id, "at": details_in, "actor": "ivr", "kind": "deadline_set",
             "detail": {"reason": "details complete", "captured_at": details_in.isoformat(),
                        "callback_due_at": (details_in + timedelta(minutes=15)).isoformat()}}])
        rebuild_facts(conn, said_only=True)
        # the earlier fold kept the provisional deadline's breach line
        conn.execute(update(F).where(F.incident_id == long.incident_id).values(breach_logged_at=provisional_breach))
    before = facts(engine)

    by_id = upgraded(empty_database_url, engine, before, changed={long.incident_id})  # nothing else touched
    assert by_id[long.incident_id].breach_logged_at is None
    assert by_id[long.incident_id].due_at == details_in + timedelta(minutes=15)
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
