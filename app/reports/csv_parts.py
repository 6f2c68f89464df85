"""One incident's CSV export line in stored parts: rendered when its facts are folded, joined when exported.

A line is ``lead + acknowledged_by + tail + breach``, the related-reference cell put before its line end
(``with_related``):

- ``lead``: reference, company, captured, due and acknowledged-at cells, each followed by a comma;
- ``acknowledged_by``: the rep's name from the directory when it has the rep (looked up when the
  export runs: a renamed rep shows the new name), else the ``acked_by`` part stored here (the
  name the log gives, or ``rep #id``);
- ``tail``: a comma, then the answered-at, outcome and seconds cells, each followed by a comma;
- ``breach``: ``yes,<reason>``, ``no,`` (a met callback) or ``pending,`` (not decided yet) and CRLF, judged at the
  report's ``as_of`` (``facts.promise_verdict``);
- the related incident's reference (``incident_facts.related_reference``), the last cell.

Every cell is exactly what ``export.stream_csv`` writes (the ``csv`` module's own quoting, the
formula guard, ISO 8601 UTC with ``Z``): ``tests/integration/test_report_agreement.py`` compares
the bytes with a full recomputation from the log.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from app.reports.compliance import rep_label
from app.reports.export import csv_text, iso
from app.reports.facts import BreachReason, IncidentFacts

NOT_BREACHED = "no,\r\n"  # kept: a met callback
PENDING = "pending,\r\n"  # not decided yet at as_of: the deadline still to come, or still provisional


def cells(values: Sequence[str]) -> str:
    """The values as cells of a CSV line, comma-separated, quoted by the ``csv`` module where a cell needs it."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([*values, ""])  # a trailing empty cell: each value is quoted as in a longer line
    return buffer.getvalue()[:-3]  # less that cell's comma and the CRLF


BREACHED = {reason.value: f"yes,{cells([reason.value])}\r\n" for reason in BreachReason}


def parts(reference: str, company: str, facts: IncidentFacts) -> dict[str, Any]:
    """The stored parts of one incident's line (``as_of``- and directory-independent)."""
    acked = facts.acknowledged_at
    seconds = facts.seconds_to_callback
    acked_by = rep_label(facts.acknowledged_rep_id, facts.acknowledged_actor, {}) if acked else ""
    return {
        "csv_lead": cells([csv_text(reference), csv_text(company), _iso(facts.captured_at), _iso(facts.due_at),
                           _iso(acked)]) + ",",
        "csv_acked_by": cells([csv_text(acked_by)]),
        "csv_tail": "," + cells([_iso(facts.answered_at), facts.outcome.value,
                                 "" if seconds is None else str(seconds)]) + ",",
    }


def rep_cells(names: Mapping[int, str]) -> dict[int, str]:
    """Each directory rep's acknowledged-by cell."""
    return {rep_id: cells([csv_text(name)]) for rep_id, name in names.items()}


def breach_cell(breached: bool, reason: str, met: bool) -> str:
    """The breached and reason cells and the line end: ``yes`` broken, ``no`` kept (``met``), else ``pending``.

    A reason this version does not know (a newer version's, stored between its ``db upgrade`` and this host's
    restart) is its stored text: the line the newer version writes, never a line dropped or an error mid-export.
    """
    if not breached:
        return NOT_BREACHED if met else PENDING
    return BREACHED.get(reason) or f"yes,{cells([reason])}\r\n"


def with_related(breach: str, related: str) -> str:
    """The breach cells (``breach_cell``, ending the line) with the related-reference cell, the line's last, before
    the line end: the reference of the related incident whose callback reached the customer for this one."""
    return breach[:-2] + ("," + cells([csv_text(related)]) + "\r\n" if related else ",\r\n")


def _iso(at: datetime | None) -> str:
    return iso(at) or ""
