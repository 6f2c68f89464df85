"""Importing tickets from a helpdesk CSV export: each row its own transaction, each ticket once per file."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy.exc import DataError, IntegrityError

from app.db import Database
from app.services.ticket_input import REQUIRED_FIELDS, TICKET_FIELDS, InvalidTicket, parse_ticket_input
from app.services.tickets import upsert_ticket


class TicketImportError(Exception):
    """The file as a whole cannot be imported (nothing was written)."""


class ImportFileNotFound(TicketImportError):
    """The CSV file does not exist or cannot be read."""


class MissingHeader(TicketImportError):
    """The CSV has no header line (or is empty)."""


class UnknownColumns(TicketImportError):
    """The header names columns that are not ticket fields, or repeats one."""

    def __init__(self, message: str, columns: list[str]) -> None:
        super().__init__(message)
        self.columns = columns


class MissingColumns(TicketImportError):
    """The header lacks a required column."""

    def __init__(self, message: str, columns: list[str]) -> None:
        super().__init__(message)
        self.columns = columns


@dataclass
class ImportReport:
    """How many rows were created and updated, and which lines failed and why."""

    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # each ticket imported so far: the line it came from

    @property
    def imported(self) -> int:
        """Rows written (created plus updated)."""
        return self.created + self.updated


def import_tickets_csv(
    db: Database, path_or_file: str | os.PathLike[str] | TextIO, now: datetime, default_region: str = "US",
    hotline_number: str = "",
) -> ImportReport:
    """Upsert every row of a ticket CSV; bad rows are reported by line number, good rows kept. ``hotline_number``:
    TWILIO_NUMBER, which no ticket phone may be."""
    report = ImportReport()
    with _opened(path_or_file) as stream:
        reader = csv.reader(stream)
        try:
            header, line_no = _read_header(reader)
            for row in reader:
                start, line_no = line_no + 1, reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                _import_row(db, header, row, start, now, (default_region, hotline_number), report)
        except UnicodeDecodeError as exc:
            raise TicketImportError(f"the file is not UTF-8 text ({exc.reason})") from exc
        except csv.Error as exc:
            raise TicketImportError(f"line {reader.line_num}: malformed CSV ({exc})") from exc
    return report


def _import_row(
    db: Database,
    header: list[str],
    row: list[str],
    line_no: int,
    now: datetime,
    numbers: tuple[str, str],
    report: ImportReport,
) -> None:
    if len(row) > len(header):
        report.errors.append((line_no, f"{len(row)} cells but the header has {len(header)} columns"))
        return
    values = {name: cell for name, cell in zip(header, row, strict=False) if name and cell.strip()}
    try:
        data = parse_ticket_input(values, *numbers)  # the default region, the hotline's own number
    except InvalidTicket as exc:
        report.errors.append((line_no, str(exc)))
        return
    if data.number in report.lines:
        # A ticket twice in one file: which row is the helpdesk's latest cannot be told, so the first one stands
        # and the operator is told (the last row silently won before).
        report.errors.append((line_no, f"ticket {data.number} was already imported from line "
                                       f"{report.lines[data.number]} of this file; this row was not imported"))
        return
    try:
        with db.transaction() as session:
            _ticket, created = upsert_ticket(session, data, now)
    except (IntegrityError, DataError) as exc:
        report.errors.append((line_no, f"the database refused the row ({type(exc.orig).__name__})"))
        return
    report.lines[data.number] = line_no
    if created:
        report.created += 1
    else:
        report.updated += 1


def _read_header(reader: Iterator[list[str]]) -> tuple[list[str], int]:
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [cell.strip().lower() for cell in row]
            break
    else:
        raise MissingHeader("the CSV is empty: expected a header line naming the columns")
    # Blank header cells (a trailing comma from a spreadsheet) name no column.
    unknown = [name for name in header if name and name not in TICKET_FIELDS]
    if unknown:
        raise UnknownColumns(
            f"unknown column(s) {', '.join(repr(c) for c in unknown)}; allowed: {', '.join(TICKET_FIELDS)}",
            unknown,
        )
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise UnknownColumns(f"column(s) named twice: {', '.join(repeated)}", repeated)
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if missing:
        raise MissingColumns(f"missing required column(s): {', '.join(missing)}", missing)
    return header, reader.line_num  # type: ignore[attr-defined]


@contextmanager
def _opened(path_or_file: str | os.PathLike[str] | TextIO) -> Iterator[TextIO]:
    if not isinstance(path_or_file, str | os.PathLike):
        yield path_or_file
        return
    path = Path(path_or_file)
    try:
        stream = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError as exc:
        raise ImportFileNotFound(f"no such file: {path}") from exc
    except OSError as exc:
        raise ImportFileNotFound(f"cannot read {path}: {exc.strerror}") from exc
    with stream:
        yield stream
