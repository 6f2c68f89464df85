"""Migration b3c5d7e9f1a4 refolds the facts rows whose time to callback was rounded down, on both databases.

A database at the revision before it holds facts rows the earlier fold wrote: a callback answered
900.04 s after capture stored as 900.0 (a kept promise's figure, its CSV cell too). After the upgrade
that row says 900.1, every other row is untouched, and the table equals a full refold from the log.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, update

from app.models import IncidentEvent, IncidentFactsRow
from app.reports.facts_sync import rebuild_facts
from tests.integration.refold_support import facts, generated_before, upgraded

BEFORE = "f1a7c3e9b5d2"  # the revision before b3c5d7e9f1a4
F = IncidentFactsRow


def test_the_upgrade_rounds_up_the_time_of_a_callback_answered_just_after_the_deadline(empty_database_url):
    engine = generated_before(empty_database_url, BEFORE)
    late = next(row for row in facts(engine) if row.outcome == "no_callback")
    answered = late.captured_at + timedelta(seconds=900, microseconds=40_000)  # 40 ms past the deadline
    with engine.begin() as conn:  # a line an earlier release wrote, and the facts row it folded from it
        conn.execute(insert(IncidentEvent.__table__), [
            {"incident_id": late.incident_id, "at": answered + timedelta(seconds=2), "actor": "twilio",
             "kind": "callback_late", "detail": {"callback_id": 9001, "answered_at": answered.isoformat()}}])
        rebuild_facts(conn, said_only=True)
        conn.execute(update(F).where(F.incident_id == late.incident_id).values(
            seconds_to_callback=900.0, csv_tail=f",{answered.isoformat().replace('+00:00', 'Z')},late,900.0,"))
    before = facts(engine)

    by_id = upgraded(empty_database_url, engine, before, changed={late.incident_id})  # nothing else touched
    assert (by_id[late.incident_id].outcome, by_id[late.incident_id].seconds_to_callback) == ("late", 900.1)
    assert by_id[late.incident_id].csv_tail.endswith(",late,900.1,")
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
