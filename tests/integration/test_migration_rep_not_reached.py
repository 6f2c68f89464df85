"""Migration a6d4f2b8c9e1 refolds the facts of incidents whose log lines now read more exactly, on both databases.

A database at the revision before it holds incidents whose facts rows the earlier code folded:
a final ``callback_rep_call_failed`` (Twilio refused the hotline's call to the rep) counted as an
attempt on the customer ("customer unreachable"); a ``reached_by_email`` incident had the reason
"acknowledged, no callback attempted". After the upgrade those rows say what the log proves, every
other row is untouched, and the table equals a full refold from the log.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, update

from app.models import IncidentEvent, IncidentFactsRow
from tests.integration.refold_support import facts, generated_before, upgraded

BEFORE = "e5b8d1f3a7c2"  # the revision before a6d4f2b8c9e1
F = IncidentFactsRow


def test_the_upgrade_refolds_rep_call_failures_and_email_incidents(empty_database_url):
    engine = generated_before(empty_database_url, BEFORE)
    # acknowledged in time, nothing placed: the reason comes down to the lines added below
    refused, emailed = [row for row in facts(engine) if row.outcome == "no_callback" and row.acknowledged_at
                        and row.acknowledged_at <= row.due_at][:2]
    with engine.begin() as conn:  # lines an earlier release wrote, and the facts rows it folded from them
        conn.execute(insert(IncidentEvent.__table__), [
            {"incident_id": refused.incident_id, "at": refused.captured_at + timedelta(minutes=20), "actor": "rep",
             "kind": "callback_requested", "detail": {"callback_id": 9001, "rep_id": 1}},
            {"incident_id": refused.incident_id, "at": refused.captured_at + timedelta(minutes=20), "actor": "twilio",
             "kind": "callback_rep_call_failed", "detail": {"callback_id": 9001, "error": "Rejected", "final": True}},
            {"incident_id": emailed.incident_id, "at": emailed.captured_at + timedelta(minutes=20), "actor": "Alice",
             "kind": "reached_by_email", "detail": {"rep_id": 1}},
        ])
        conn.execute(update(F).where(F.incident_id == refused.incident_id)
                     .values(outcome="attempted", breach_reason="customer unreachable"))
        conn.execute(update(F).where(F.incident_id == emailed.incident_id)
                     .values(outcome="worked_by_email", breach_reason="acknowledged, no callback attempted"))
    before = facts(engine)

    by_id = upgraded(empty_database_url, engine, before, changed={refused.incident_id, emailed.incident_id})  # nothing else touched
    assert by_id[refused.incident_id].breach_reason == "hotline could not reach the rep"
    assert by_id[refused.incident_id].outcome != "attempted"
    assert by_id[emailed.incident_id].breach_reason == "no callback number, worked by e-mail"
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
