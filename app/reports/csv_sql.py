"""The CSV export's lines from the stored parts (``csv_parts``): joined by the database, streamed in big pieces.

Each facts row holds its line's parts already rendered, so a range's export is one
index-ordered scan of ``incident_facts`` (``ix_incident_facts_captured_at_reference``)
that only joins strings: the directory's rep names (rendered once per export, passed as
arrays) and the breach cells judged at ``as_of`` are the only parts chosen per row. On
PostgreSQL the lines leave the database in pieces of one day each (``string_agg``), so
the driver and Python handle a few hundred values for a year instead of 250,000 lines;
elsewhere (SQLite), and when refolded lines must be merged in, they are joined in Python
(``parts_rows``). ``tests/integration/test_report_agreement.py`` compares the bytes with a
full recomputation on both databases.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

from sqlalchemy import DateTime, select, text, type_coerce
from sqlalchemy.orm import Session

from app.models import IncidentFactsRow
from app.reports.csv_parts import BREACHED, NOT_BREACHED, breach_cell

F = IncidentFactsRow
DAY_SLOTS = 96  # captured_slot is 15-minute UTC slots: a piece is one UTC day of lines


def parts_rows(session: Session, where: list, breached, cells: Mapping[int, str],
               chunk: int) -> Iterator[tuple[tuple[datetime, str], str]]:
    """((captured_at naive UTC, reference), line) of the fresh rows in report order, joined in Python."""
    stmt = (select(type_coerce(F.captured_at, DateTime()), F.reference, F.csv_lead, F.acknowledged_at.is_not(None),
                   F.acknowledged_rep_id, F.csv_acked_by, F.csv_tail, breached, F.breach_reason)
            .where(*where).order_by(F.captured_at, F.reference).execution_options(yield_per=chunk))
    for captured, reference, lead, acked, rep_id, acked_by, tail, is_breached, reason in session.execute(stmt):
        who = cells.get(rep_id, acked_by) if acked else acked_by
        yield (captured, reference), lead + who + tail + breach_cell(bool(is_breached), reason)


def postgres_pieces(session: Session, starts_at: datetime, ends_at: datetime, as_of: datetime | None,
                    cells: Mapping[int, str]) -> Iterator[bytes]:
    """The fresh rows' lines in report order, one UTC day per piece, rendered by PostgreSQL (naive UTC bounds)."""
    params = {"s": starts_at, "e": ends_at, "as_of": as_of, "ids": list(cells), "cells": list(cells.values())}
    session.execute(text("SET LOCAL work_mem TO '64MB'"))  # this read-only transaction: each day sorts in memory
    raw = session.connection().connection.dbapi_connection
    with raw.cursor(name="compliance_csv") as cursor:  # server-side: a day at a time, never the year in memory
        cursor.itersize = 16
        cursor.execute(_query(as_of is not None), {k: v for k, v in params.items() if v is not None})
        for (piece,) in cursor:
            yield piece.encode()


def _query(with_as_of: bool) -> str:
    breached = "f.outcome <> 'met'" + (" AND (f.due_at < %(as_of)s OR f.breach_logged_at IS NOT NULL)"
                                       if with_as_of else "")
    fresh = " AND f.listed_at <= %(as_of)s AND f.last_event_at <= %(as_of)s" if with_as_of else ""
    reasons = " ".join(f"WHEN {_literal(reason)} THEN {_literal(cell)}" for reason, cell in BREACHED.items())
    line = (f"f.csv_lead || COALESCE(n.cell, f.csv_acked_by) || f.csv_tail || "
            f"(CASE WHEN {breached} THEN (CASE f.breach_reason {reasons} END) ELSE {_literal(NOT_BREACHED)} END)")
    return (f"SELECT string_agg({line}, '' ORDER BY f.captured_at, f.reference) "
            "FROM incident_facts f "
            "LEFT JOIN unnest(%(ids)s::int[], %(cells)s::text[]) AS n(id, cell) "
            "ON n.id = f.acknowledged_rep_id AND f.acknowledged_at IS NOT NULL "
            "WHERE f.captured_at >= %(s)s AND f.captured_at < %(e)s AND f.listed_at >= %(s)s AND f.listed_at < %(e)s"
            f"{fresh} GROUP BY f.captured_slot / {DAY_SLOTS} ORDER BY f.captured_slot / {DAY_SLOTS}")


def _literal(value: str) -> str:
    """A SQL string literal (standard-conforming: only the quote is doubled)."""
    return "'" + value.replace("'", "''").replace("%", "%%") + "'"

