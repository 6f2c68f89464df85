"""Migration c4d8e2a61f37 fills the CSV line parts of existing facts rows from the log, on both databases.

A database at the revision before it holds incidents, their logs and facts rows as the
earlier code wrote them (no CSV parts). After the upgrade every row equals what the app's
fold writes, and the CSV export is byte for byte the full recomputation from the log.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import column, create_engine, insert, inspect, select, table
from sqlalchemy.orm import Session

from app.migrate import upgrade
from app.models import Base, Incident, IncidentEvent, IncidentFactsRow, Rep
from app.reports import export
from app.reports.compliance import compliance_report, range_bounds
from app.reports.facts_sync import rebuild_facts
from app.reports.figures import FactsRange
from app.reports.queries import load_range
from bench.eventlog import Plan, generate, seed_reps

BEFORE = "c4f1a2b3d5e6"  # the revision before c4d8e2a61f37
PARTS = ("csv_lead", "csv_acked_by", "csv_tail")
START, END = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)


def _source() -> tuple[dict, list]:
    """Rows of a generated data set (odd companies included), and its facts rows as the app folds them now."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        seed_reps(conn)
        generate(conn, Plan(150, START, END, unlogged_every=31, seed=4))
        for n, company in enumerate(('=cmd|"x"', "Acme, Inc.", "Line\nbreak", "Ünïcode ✓")):
            conn.execute(Incident.__table__.update().where(Incident.id == n + 1).values(company=company))
        tables = {t: [dict(r._mapping) for r in conn.execute(select(t.__table__))] for t in (Rep, Incident, IncidentEvent)}
    with engine.begin() as conn:  # the fold as the app writes it, companies included
        rebuild_facts(conn)
    with engine.connect() as conn:
        facts = conn.execute(select(*IncidentFactsRow.__table__.columns).order_by(IncidentFactsRow.incident_id)).all()
    engine.dispose()
    return tables, facts


def _migrate_and_compare(url: str) -> None:
    tables, facts = _source()
    upgrade(url, BEFORE)
    engine = create_engine(url)
    with engine.begin() as conn:  # the data and the facts rows as the earlier code left them
        # no CSV parts yet, nor any column added after them
        have = {c["name"] for c in inspect(conn).get_columns("incident_facts")}
        old_columns = [c for c in IncidentFactsRow.__table__.columns if c.name in have]
        assert not have & set(PARTS)
        for model, rows in tables.items():  # in the columns this revision stores (later ones add some)
            stored = {c["name"] for c in inspect(conn).get_columns(model.__tablename__)}
            conn.execute(insert(model.__table__), [{k: v for k, v in row.items() if k in stored} for row in rows])
        old_facts = table("incident_facts", *(column(c.name, c.type) for c in old_columns))  # no CSV parts yet
        conn.execute(insert(old_facts), [{c.name: getattr(row, c.name) for c in old_columns} for row in facts])
    upgrade(url)
    with engine.connect() as conn:
        migrated = conn.execute(select(*IncidentFactsRow.__table__.columns).order_by(IncidentFactsRow.incident_id)).all()
    rng = FactsRange(date(2026, 10, 1), date(2026, 11, 1), "UTC", None)
    with Session(engine) as session:
        csv = b"".join(rng.csv_pieces(session))
        loaded = load_range(session, *range_bounds(rng.start, rng.end, rng.tz), datetime(2100, 1, 1, tzinfo=UTC))
    engine.dispose()
    full = compliance_report(loaded.facts, rng.start, rng.end, rng.tz, rep_names=loaded.rep_names)
    assert migrated == facts and len(facts) == 150 - 150 // 31
    assert all(row.csv_lead for row in migrated)
    assert csv == export.to_csv(full, loaded.companies)


def test_the_upgrade_fills_the_csv_parts_of_existing_facts_rows(empty_database_url):
    _migrate_and_compare(empty_database_url)


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
