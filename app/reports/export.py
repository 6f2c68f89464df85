"""CSV and JSON exports of a compliance report, each with the SHA-256 of its exact bytes.

The digest travels outside the content (``X-Content-SHA256`` header, ``.sha256`` file),
so the CSV stays plain CSV. The JSON document also carries ``rows_sha256``: the digest
of its rows in canonical form (``canonical_json``), which anyone can recompute from it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from app.reports.compliance import IncidentLine, Report
from app.reports.facts import promise_verdict
from app.reports.stats import spread_json

# related_reference, last: the related incident whose callback is this one's answer (a dropped call's redial), or ""
COLUMNS = ("reference", "company", "captured_at", "due_at", "acknowledged_at", "acknowledged_by",
           "callback_answered_at", "outcome", "seconds_to_callback", "breached", "breach_reason", "related_reference")
_UNSAFE = re.compile(r"[^A-Za-z0-9_+-]")  # what a file name should not hold (``range_filename``)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 1000  # rows per streamed piece
# the breached cell of ``facts.promise_verdict``: broken, kept, or not decided yet at the report's as_of
VERDICT_CELLS = {True: "yes", False: "no", None: "pending"}


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the form whose digest is published."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, or None."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def rows(report: Report, companies: Mapping[str, str]) -> list[dict[str, Any]]:
    """One dict per incident, in report order, with the export columns (the in-memory report's lines)."""
    return [row(line, companies.get(line.reference, "")) for line in report.lines]


def row(line: IncidentLine, company: str) -> dict[str, Any]:
    """One incident's export columns."""
    f = line.facts
    return {
        "reference": f.reference,
        "company": company,
        "captured_at": iso(f.captured_at),
        "due_at": iso(f.due_at),
        "acknowledged_at": iso(f.acknowledged_at),
        "acknowledged_by": line.acknowledged_by,
        "callback_answered_at": iso(f.answered_at),
        "outcome": line.outcome.value,
        "seconds_to_callback": f.seconds_to_callback,
        "breached": promise_verdict(line.breached, line.outcome),  # None: not decided yet at as_of
        "breach_reason": str(line.reason) if line.reason else "",  # a StrEnum's str is its value
        "related_reference": f.related_reference,
    }


def values(line: IncidentLine, company: str) -> tuple[Any, ...]:
    """One incident's export values in ``COLUMNS`` order (what ``row`` holds, as a tuple)."""
    return tuple(row(line, company).values())


def to_csv(report: Report, companies: Mapping[str, str]) -> bytes:
    """The CSV export: a header line, then one line per incident (UTF-8, CRLF)."""
    return b"".join(stream_csv(values(line, companies.get(line.reference, "")) for line in report.lines))


def stream_csv(rows: Iterable[tuple[Any, ...]], chunk: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The CSV export in pieces of ``chunk`` rows, from value tuples (``values``) in report order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    batch: list[tuple[str, ...]] = []
    for data in rows:
        batch.append(_csv_cells(data))
        if len(batch) == chunk:
            writer.writerows(batch)
            batch.clear()
            yield _drain(buffer)
    writer.writerows(batch)
    yield _drain(buffer)


def csv_line(data: tuple[Any, ...]) -> str:
    """One CSV line (CRLF included) of export values, as ``stream_csv`` writes it."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(_csv_cells(data))
    return buffer.getvalue()


def csv_header() -> str:
    """The CSV export's first line: the column names (CRLF included)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(COLUMNS)
    return buffer.getvalue()


def stream_csv_lines(lines: Iterable[str], chunk: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The CSV export in pieces from ready lines (``csv_line`` or the stored parts), header first."""
    batch = [csv_header()]
    for line in lines:
        batch.append(line)
        if len(batch) >= chunk:
            yield "".join(batch).encode()
            batch.clear()
    yield "".join(batch).encode()


def to_json(report: Report, companies: Mapping[str, str]) -> bytes:
    """The JSON export: range, summary, rows, and the SHA-256 of the canonical rows."""
    return b"".join(stream_json(report, (values(line, companies.get(line.reference, "")) for line in report.lines)))


def stream_json(report: Report, rows: Iterable[tuple[Any, ...]], chunk: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The JSON export in pieces: byte for byte ``json.dumps(document, indent=2)``, rows never all in memory.

    ``rows_sha256`` (the digest of the canonical rows) comes last in the document, so it
    is computed while the rows go out.
    """
    head = json.dumps({"range": _range(report), "summary": summary(report)}, indent=2, ensure_ascii=False)
    digest = hashlib.sha256(b"[")
    parts = [head[:-2], ',\n  "rows": [']
    n = 0
    for n, data in enumerate(rows, 1):
        item = dict(zip(COLUMNS, data, strict=True))
        if n > 1:
            digest.update(b",")
        digest.update(canonical_json(item))
        text = json.dumps(item, indent=2, ensure_ascii=False).replace("\n", "\n    ")
        parts.append(("\n    " if n == 1 else ",\n    ") + text)
        if n % chunk == 0:
            yield "".join(parts).encode()
            parts = []
    digest.update(b"]")
    parts.append("\n  ]" if n else "]")
    parts.append(f',\n  "rows_sha256": "{digest.hexdigest()}"\n}}')
    yield "".join(parts).encode()


def summary(report: Report) -> dict[str, Any]:
    """The aggregate figures in plain JSON types."""
    return {
        "incidents": report.total,
        "outcomes": {row.key: {"count": row.count, "percent": row.percent} for row in report.outcomes},
        "breached": {"count": report.breached.count, "percent": report.breached.percent},
        "open": {"count": report.open.count, "percent": report.open.percent},
        "breach_reasons": {row.label: row.count for row in report.reasons},
        "seconds_to_callback": spread_json(report.time_to_callback),
        "per_rep": [vars(rep) for rep in report.reps],
        "per_hour_of_week": [{"weekday": b.weekday, "hour": b.hour, "incidents": b.incidents, "met": b.met,
                              "breached": b.breached} for b in report.hours if b.incidents],
    } | ({"unknown_values": list(report.unknown_values)} if report.unknown_values else {})  # only then: same bytes


def filename(report: Report, ext: str) -> str:
    """The export's file name (``range_filename``) of a report."""
    return range_filename(report.start, report.end, ext, report.tz, report.as_of)


def range_filename(start: date, end: date, ext: str, tz: str, as_of: datetime | None) -> str:
    """compliance_<start>_<end>_<zone>_asof-<YYYYMMDDTHHMMSSZ>.<ext> for a range (end excluded).

    The name says what the bytes certify: the same dates in another zone, or judged at another instant, are other
    bytes, so they get another name (until probe V two such files downloaded under one name, and their ``.sha256``
    lines named the same file). The zone keeps its letters, digits, ``_``, ``+`` and ``-``; every other character
    (the ``/`` of an IANA name) becomes ``-``: ``Asia/Karachi`` is ``Asia-Karachi``. ``as_of`` is in UTC, to the
    second (microseconds only when it has them); None (every deadline judged passed) names none.
    """
    zone = _UNSAFE.sub("-", tz)
    stamp = "" if as_of is None else "_asof-" + as_of.astimezone(UTC).strftime(
        "%Y%m%dT%H%M%S" + (".%f" if as_of.microsecond else "") + "Z")
    return f"compliance_{start.isoformat()}_{end.isoformat()}_{zone}{stamp}.{ext}"


def _range(report: Report) -> dict[str, Any]:
    return {"start": report.start.isoformat(), "end": report.end.isoformat(), "end_excluded": True,
            "tz": report.tz, "starts_at": iso(report.starts_at), "ends_at": iso(report.ends_at),
            "as_of": iso(report.as_of)}


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


def _csv_cells(data: tuple[Any, ...]) -> tuple[str, ...]:
    """``_cell`` of each value, unrolled for the export's known column types (a year is 250,000 rows)."""
    ref, company, captured, due, acked, acked_by, answered, outcome, seconds, breached, reason, related = data
    return (csv_text(ref), csv_text(company), captured or "", due or "", acked or "", csv_text(acked_by), answered or "",
            outcome, "" if seconds is None else str(seconds), VERDICT_CELLS[breached], reason, csv_text(related))


def csv_text(value: str) -> str:
    """A text cell with the formula guard: a leading ' on = + - @ TAB CR (a spreadsheet must not run it)."""
    return "'" + value if value[:1] in _FORMULA_STARTS else value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value  # a company named "=HYPERLINK(...)" must not run in a spreadsheet
    return str(value)
