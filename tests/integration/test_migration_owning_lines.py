"""Migration d6f8a0c2e4b7 refolds the facts of incidents a rep came to own by a self-reported call or an e-mail
contact, on both databases.

A database at the revision before it holds facts rows the earlier fold wrote, which read only ``acknowledged``
lines as an acknowledgement: an incident whose first owning line was a ``callback_self_reported`` (a rep's
``CALLED``) or a ``reached_by_email`` had no acknowledgement in the report (and the breach reason "nobody
acknowledged") while the board and the API said acknowledged. After the upgrade those rows name the rep and the
time, every other row is untouched, and the table equals a full refold from the log.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from app.event_kind import EventKind
from app.models import IncidentEvent
from app.reports import facts as facts_module
from app.reports.facts_sync import rebuild_facts
from tests.integration.refold_support import facts, generated_before, upgraded

BEFORE = "b5d7f9a1c3e6"  # the revision before d6f8a0c2e4b7


def test_the_upgrade_reads_a_self_report_or_an_e_mail_contact_before_any_ack_as_the_acknowledgement(
        empty_database_url, monkeypatch):
    engine = generated_before(empty_database_url, BEFORE)
    called, mailed = [row for row in facts(engine) if row.acknowledged_at is None and row.outcome == "no_callback"][:2]
    acked_self = next(row for row in facts(engine) if row.outcome == "self_reported" and row.acknowledged_at)
    called_at = called.captured_at + timedelta(minutes=4)
    with engine.begin() as conn:  # lines an earlier release wrote, and the facts rows it folded from them
        conn.execute(insert(IncidentEvent.__table__), [
            {"incident_id": called.incident_id, "at": called_at, "actor": "Bob", "kind": "callback_self_reported",
             "detail": {"callback_id": 9101, "rep_id": 2, "called_at": called_at.isoformat(), "note": "own phone"}},
            {"incident_id": mailed.incident_id, "at": mailed.captured_at + timedelta(minutes=6), "actor": "Carol",
             "kind": "reached_by_email", "detail": {"rep_id": 3, "via": "web", "how": "wrote to ops@"}}])
        with monkeypatch.context() as old_fold:
            old_fold.setattr(facts_module, "OWNING_KINDS", (EventKind.ACKNOWLEDGED,))
            rebuild_facts(conn, said_only=True)
    before = facts(engine)
    assert {row.incident_id: row.acknowledged_at for row in before if row.incident_id in
            (called.incident_id, mailed.incident_id)} == {called.incident_id: None, mailed.incident_id: None}

    by_id = upgraded(empty_database_url, engine, before, changed={called.incident_id, mailed.incident_id})
    assert (by_id[called.incident_id].acknowledged_at, by_id[called.incident_id].acknowledged_rep_id,
            by_id[called.incident_id].breach_reason) == (called_at, 2, "self-reported call only (unverified)")
    assert (by_id[mailed.incident_id].acknowledged_at, by_id[mailed.incident_id].acknowledged_rep_id) == \
        (mailed.captured_at + timedelta(minutes=6), 3)
    assert by_id[acked_self.incident_id].acknowledged_at == acked_self.acknowledged_at  # acknowledged first: as before
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
