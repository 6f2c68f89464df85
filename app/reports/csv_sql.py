"""The CSV export's lines from the stored parts (``csv_parts``): joined by the database, streamed in big pieces.

Each facts row holds its line's parts already rendered, so a range's export is one
index-ordered scan of ``incident_facts`` (``ix_incident_facts_captured_at_reference``)
that only joins strings: the directory's rep names (rendered once per export, passed as
arrays) and the breach cells judged at ``as_of`` are the only parts chosen per row. On
PostgreSQL the lines leave the database in pieces of one UTC day each (``string_agg``), so
the driver and Python handle a few hundred values for a year instead of 250,000 lines;
each day is its own range scan of that index, in order, so nothing sorts the whole range
(grouping the range by day sorted a year's 250,000 lines, 54 MB, on disk);
elsewhere (SQLite), and when refolded lines must be merged in, they are joined in Python
(``parts_rows``). ``tests/integration/test_report_agreement.py`` compares the bytes with a
full recomputation on both databases.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta

from sqlalchemy import DateTime, select, text, type_coerce
from sqlalchemy.orm import Session

from app.models import IncidentFactsRow
from app.reports.csv_parts import BREACHED, NOT_BREACHED, PENDING, breach_cell, with_related
from app.reports.facts import Outcome

F = IncidentFactsRow
_MET = Outcome.MET.value


def parts_rows(session: Session, where: list, breached, cells: Mapping[int, str],
               chunk: int) -> Iterator[tuple[tuple[datetime, str], str]]:
    """((captured_at naive UTC, reference), line) of the fresh rows in report order, joined in Python."""
    stmt = (select(type_coerce(F.captured_at, DateTime()), F.reference, F.csv_lead, F.acknowledged_at.is_not(None),
                   F.acknowledged_rep_id, F.csv_acked_by, F.csv_tail, breached, F.breach_reason, F.outcome,
                   F.related_reference)
            .where(*where).order_by(F.captured_at, F.reference).execution_options(yield_per=chunk))
    for captured, reference, lead, acked, rep_id, acked_by, tail, is_breached, reason, outcome, related \
            in session.execute(stmt):
        who = cells.get(rep_id, acked_by) if acked else acked_by
        yield (captured, reference), lead + who + tail + with_related(
            breach_cell(bool(is_breached), reason, outcome == _MET), related)


def postgres_pieces(session: Session, starts_at: datetime, ends_at: datetime, as_of: datetime | None,
                    cells: Mapping[int, str]) -> Iterator[bytes]:
    """The fresh rows' lines in report order, one UTC day per piece, rendered by PostgreSQL (naive UTC bounds)."""
    lows = days_from(starts_at, ends_at)
    params = {"s": starts_at, "e": ends_at, "as_of": as_of, "ids": list(cells), "cells": list(cells.values()),
              "lo": lows, "hi": [*lows[1:], ends_at]}
    # This read-only transaction: the planner's estimate for a year of day scans (365 times a day's rows
    # over-counted) is past jit_above_cost, and compiling the expressions cost 150 ms of a 370 ms query.
    session.execute(text("SET LOCAL jit = off"))
    raw = session.connection().connection.dbapi_connection
    with raw.cursor(name="compliance_csv") as cursor:  # server-side: a day at a time, never the year in memory
        cursor.itersize = 16
        cursor.execute(_query(as_of is not None), {k: v for k, v in params.items() if v is not None})
        for (piece,) in cursor:
            yield piece.encode()


def days_from(starts_at: datetime, ends_at: datetime) -> list[datetime]:
    """The start of each piece: ``starts_at``, then every UTC midnight before ``ends_at``."""
    lows, day = [starts_at], starts_at.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    while day < ends_at:
        lows.append(day)
        day += timedelta(days=1)
    return lows


def _query(with_as_of: bool) -> str:
    # figures.stored_breached: a stored reason says the fold could count it breached at all
    breached = "f.breach_reason <> ''" + (" AND (f.due_at < %(as_of)s OR f.breach_logged_at IS NOT NULL)"
                                          if with_as_of else "")
    # figures.FactsRange._fresh: stamped by as_of, and no line of the incident written after it (queries.written_after)
    fresh = (" AND f.listed_at <= %(as_of)s AND f.last_event_at <= %(as_of)s AND f.incident_id NOT IN (SELECT "
             "e.incident_id FROM incident_events e WHERE e.written_at > %(as_of)s AND e.incident_id IS NOT NULL)"
             if with_as_of else "")
    reasons = " ".join(f"WHEN {_literal(reason)} THEN {_literal(cell)}" for reason, cell in BREACHED.items())
    # the directory's cell for an acknowledging rep it has, else the stored one
    who = ("COALESCE(CASE WHEN f.acknowledged_at IS NOT NULL THEN "
           "(%(cells)s::text[])[array_position(%(ids)s::int[], f.acknowledged_rep_id)] END, f.csv_acked_by)")
    # a reason this version does not know (a newer version's, between its `db upgrade` and this host's restart):
    # the stored text as a cell (csv_parts.breach_cell), never a NULL that would drop the line from string_agg
    unknown = "'yes,' || " + _quoted_cell("f.breach_reason") + " || chr(13) || chr(10)"
    # not breached: kept by a met callback, else not decided yet at as_of (csv_parts.breach_cell)
    breach = (f"(CASE WHEN {breached} THEN (CASE f.breach_reason {reasons} ELSE {unknown} END) "
              f"WHEN f.outcome = {_literal(_MET)} THEN {_literal(NOT_BREACHED)} ELSE {_literal(PENDING)} END)")
    # csv_parts.with_related: the related incident's reference, the last cell, before the breach cells' line end
    related = "(CASE WHEN f.related_reference = '' THEN '' ELSE " + _text_cell("f.related_reference") + " END)"
    line = f"f.csv_lead || {who} || f.csv_tail || left({breach}, -2) || ',' || {related} || chr(13) || chr(10)"
    return ("SELECT p.piece FROM unnest(%(lo)s::timestamp[], %(hi)s::timestamp[]) WITH ORDINALITY AS d(lo, hi, n) "
            f"CROSS JOIN LATERAL (SELECT string_agg({line}, '' ORDER BY f.captured_at, f.reference) AS piece "
            "FROM incident_facts f WHERE f.captured_at >= d.lo AND f.captured_at < d.hi "
            f"AND f.listed_at >= %(s)s AND f.listed_at < %(e)s{fresh}) p "
            "WHERE p.piece IS NOT NULL ORDER BY d.n")


def _quoted_cell(column: str) -> str:
    """SQL: the text of ``column`` as one CSV cell, quoted as the ``csv`` module quotes (only a cell holding a comma,
    a quote, CR or LF; a quote doubled)."""
    needs = " + ".join(f"strpos({column}, {char})" for char in ("','", "'\"'", "chr(13)", "chr(10)"))
    return f"(CASE WHEN {needs} > 0 THEN '\"' || replace({column}, '\"', '\"\"') || '\"' ELSE {column} END)"


def _text_cell(column: str) -> str:
    """SQL: ``column`` as ``export.csv_text`` writes a text cell: the formula guard, then quoted as a cell."""
    guard = "', '".join(("=", "+", "-", "@"))
    guarded = (f"(CASE WHEN left({column}, 1) IN ('{guard}', chr(9), chr(13)) THEN chr(39) || {column} "
               f"ELSE {column} END)")
    return _quoted_cell(guarded)


def _literal(value: str) -> str:
    """A SQL string literal (standard-conforming: only the quote is doubled)."""
    return "'" + value.replace("'", "''").replace("%", "%%") + "'"

