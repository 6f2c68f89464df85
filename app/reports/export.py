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
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.reports.compliance import Report

COLUMNS = ("reference", "company", "captured_at", "due_at", "acknowledged_at", "acknowledged_by",
           "callback_answered_at", "outcome", "seconds_to_callback", "breached", "breach_reason")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
    """One dict per incident, in report order, with the export columns."""
    out = []
    for line in report.lines:
        f = line.facts
        first = f.first_answer
        out.append({
            "reference": f.reference,
            "company": companies.get(f.reference, ""),
            "captured_at": iso(f.captured_at),
            "due_at": iso(f.due_at),
            "acknowledged_at": iso(f.acknowledged_at),
            "acknowledged_by": line.acknowledged_by,
            "callback_answered_at": iso(first.answered_at) if first else None,
            "outcome": line.outcome.value,
            "seconds_to_callback": f.seconds_to_callback,
            "breached": line.breached,
            "breach_reason": line.reason.value if line.reason else "",
        })
    return out


def to_csv(report: Report, companies: Mapping[str, str]) -> bytes:
    """The CSV export: a header line, then one line per incident (UTF-8, CRLF)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for row in rows(report, companies):
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue().encode()


def to_json(report: Report, companies: Mapping[str, str]) -> bytes:
    """The JSON export: range, summary, rows, and the SHA-256 of the canonical rows."""
    data = rows(report, companies)
    document = {"range": _range(report), "summary": summary(report), "rows": data,
                "rows_sha256": sha256_hex(canonical_json(data))}
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


def summary(report: Report) -> dict[str, Any]:
    """The aggregate figures in plain JSON types."""
    spread = report.time_to_callback
    return {
        "incidents": report.total,
        "outcomes": {row.key: {"count": row.count, "percent": row.percent} for row in report.outcomes},
        "breached": {"count": report.breached.count, "percent": report.breached.percent},
        "open": {"count": report.open.count, "percent": report.open.percent},
        "breach_reasons": {row.label: row.count for row in report.reasons},
        "seconds_to_callback": {"count": spread.count, "median": spread.median, "p90": spread.p90,
                                "p99": spread.p99, "max": spread.maximum, "percentile_method": "nearest-rank"},
        "per_rep": [vars(rep) for rep in report.reps],
        "per_hour_of_week": [{"weekday": b.weekday, "hour": b.hour, "incidents": b.incidents, "met": b.met,
                              "breached": b.breached} for b in report.hours if b.incidents],
    }


def filename(report: Report, ext: str) -> str:
    """compliance_<start>_<end>.<ext> (end excluded)."""
    return f"compliance_{report.start.isoformat()}_{report.end.isoformat()}.{ext}"


def _range(report: Report) -> dict[str, Any]:
    return {"start": report.start.isoformat(), "end": report.end.isoformat(), "end_excluded": True,
            "tz": report.tz, "starts_at": iso(report.starts_at), "ends_at": iso(report.ends_at),
            "as_of": iso(report.as_of)}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value  # a company named "=HYPERLINK(...)" must not run in a spreadsheet
    return str(value)
