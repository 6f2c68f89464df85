"""Migration f4c6e8a0b2d5 adds the collector's position, on both databases; the first pass after it goes on from the
last event collected before the upgrade, sending none twice and skipping none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, insert, inspect, select, text
from sqlalchemy.orm import Session

from app.migrate import alembic_config, upgrade
from app.models import FeedCursor, HelpdeskDelivery, Incident, IncidentEvent
from app.services import helpdesk_webhooks as webhooks
from app.services.events import log_event

BEFORE = "e3b5c7d9f1a4"  # the revision before f4c6e8a0b2d5
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _incident(session: Session, reference: str, at: datetime, old: bool = False) -> int:
    """An incident and its opening line; ``old``: written by the release before (the columns it knew)."""
    due = at + timedelta(minutes=15)
    # a Core insert: the ORM's writes every column of today's model, some of which the older schema lacks
    incident_id = session.execute(insert(Incident.__table__).values(
        reference=reference, received_at=at, captured_at=at, callback_due_at=due).returning(Incident.id)).scalar_one()
    line = {"at": at, "actor": "ivr", "kind": "incident_opened", "incident_id": incident_id,
            "detail": {"reference": reference, "source": "ivr", "callback_due_at": due.isoformat(), "missing": []}}
    if old:
        session.execute(insert(IncidentEvent.__table__).values(**line))
    else:
        log_event(session, **line)
    return incident_id


def test_the_first_pass_after_the_upgrade_goes_on_from_the_last_event_collected(empty_database_url):
    from alembic import command

    upgrade(empty_database_url, BEFORE)
    engine = create_engine(empty_database_url)
    with Session(engine) as session, session.begin():  # sent before the upgrade (by the old collector): long ago
        incident_id = _incident(session, "111111", NOW - timedelta(hours=3), old=True)
        session.flush()
        event_id = session.execute(text("SELECT max(id) FROM incident_events")).scalar_one()
        session.execute(insert(HelpdeskDelivery.__table__).values(
            event_id=event_id, incident_id=incident_id, kind="incident.opened", status="delivered", attempts=1,
            next_attempt_at=NOW - timedelta(hours=3), last_error="", created_at=NOW - timedelta(hours=3)))
    with Session(engine) as session, session.begin():  # not collected yet when the hotline stopped for the upgrade
        _incident(session, "222222", NOW - timedelta(hours=1), old=True)
    assert "event_feed_cursors" not in inspect(engine).get_table_names()

    upgrade(empty_database_url)

    with Session(engine) as session, session.begin():
        assert webhooks.collect(session, NOW) == 1  # 222222, older than the first look-back, is still sent
    with Session(engine) as session, session.begin():
        _incident(session, "333333", NOW)
    with Session(engine) as session, session.begin():
        assert webhooks.collect(session, NOW) == 1  # then the feed, from where the first pass started it
        assert webhooks.collect(session, NOW) == 0
    with Session(engine) as session:
        refs = session.execute(select(Incident.reference).join(HelpdeskDelivery, HelpdeskDelivery.incident_id
                                                               == Incident.id).order_by(HelpdeskDelivery.id)).scalars()
        assert list(refs) == ["111111", "222222", "333333"]
        assert session.scalars(select(FeedCursor.reader)).all() == [webhooks.FEED_READER]
    engine.dispose()

    command.downgrade(alembic_config(empty_database_url), BEFORE)
    engine = create_engine(empty_database_url)
    assert "event_feed_cursors" not in inspect(engine).get_table_names()
    assert "helpdesk_deliveries" in inspect(engine).get_table_names()
    engine.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
