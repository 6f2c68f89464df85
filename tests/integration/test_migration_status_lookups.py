"""Migration a8c0e2f4b6d9 adds where each lookup of a final status stands, on both databases: every row is kept, and
a page waiting at the upgrade (with the ``status_asked`` lines an earlier release wrote) is looked up after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, insert, inspect, select
from sqlalchemy.orm import Session

from app.migrate import upgrade
from app.models import Channel, Incident, IncidentEvent, Page, PageStatus, StatusLookup
from app.services.status_checks import _claim
from app.services.status_lookups import PAGES, SMS_ASKS, due_status_checks

BEFORE = "d6f8a0c2e4b7"  # the revision before a8c0e2f4b6d9
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_a_page_waiting_at_the_upgrade_is_looked_up_after_it(empty_database_url):
    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    sent = NOW - timedelta(minutes=3)
    with Session(engine) as session, session.begin():
        # a Core insert: the ORM's writes every column of today's model, some of which the older schema lacks
        incident_id = session.execute(insert(Incident.__table__).values(
            reference="515151", received_at=sent, captured_at=sent, callback_due_at=sent + timedelta(minutes=15))
            .returning(Incident.id)).scalar_one()
        page = Page(incident_id=incident_id, channel=Channel.SMS, to_number="+14155550111", status=PageStatus.SENT,
                    twilio_sid="SM" + "a" * 32, next_attempt_at=sent, created_at=sent, sent_at=sent, updated_at=sent)
        session.add(page)
        session.flush()
        # the release before's columns only (a Core insert: today's model would also write written_at)
        session.execute(insert(IncidentEvent.__table__).values(
            incident_id=incident_id, at=sent + timedelta(minutes=2), actor="system", kind="status_asked",
            detail={"page_id": page.id, "sid": page.twilio_sid, "ask": 1}))
        page_id = page.id
    assert "status_lookups" not in inspect(engine).get_table_names()

    upgrade(empty_database_url)

    with Session(engine) as session, session.begin():
        assert [(job.kind, job.target_id) for job in due_status_checks(session, NOW)] == [("page_status", page_id)]
        assert _claim(session, PAGES, page_id, incident_id, "SM" + "a" * 32, sent, SMS_ASKS, NOW)
    with Session(engine) as session:
        assert session.get(StatusLookup, ("page_status", page_id)).asks == 1
        assert due_status_checks(session, NOW) == []  # asked: next at its schedule's next time
        assert [job.target_id for job in due_status_checks(session, sent + SMS_ASKS[1])] == [page_id]
        asked = session.scalars(select(IncidentEvent.detail).where(IncidentEvent.kind == "status_asked")).all()
        assert [detail["ask"] for detail in asked] == [1, 1]  # the earlier line kept as it was
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
