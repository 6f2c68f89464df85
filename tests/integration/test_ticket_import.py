"""CSV import of helpdesk tickets: bad rows reported by line, good rows kept."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.models import Account, Ticket, TicketStatus
from app.services.ticket_import import (
    ImportFileNotFound,
    MissingColumns,
    MissingHeader,
    TicketImportError,
    UnknownColumns,
    import_tickets_csv,
)

GOOD_AND_BAD = (
    "number,company,status,contact_name,contact_email,contact_phone,subject,opened_at\n"
    "1001,Acme Mail GmbH,open,Dana,dana@acme.example,(415) 555-2671,Queue stuck,2026-11-25T10:00:00Z\n"
    "10O2,Acme Mail GmbH,open,,,,,\n"
    '1003,Beta Müller AG,pending,Jo,jo@beta.example,+49 30 901820,"Two-line\nsubject",\n'
    "\n"
    "1004,Gamma,open,Kim,not-an-email,,,\n"
    "1005,Gamma,nope,,,,,\n"
    "1006,Gamma,solved,,,,,,extra\n"
    "1007,Gamma,closed,,,,,\n"
)


def _numbers(hotline) -> dict[str, TicketStatus]:
    with hotline.db.transaction() as session:
        return {t.number: t.status for t in session.scalars(select(Ticket))}


def test_bad_rows_reported_by_line_and_good_rows_kept(hotline, clock, tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    report = import_tickets_csv(hotline.db, path, clock.now(), "US")
    assert (report.created, report.updated) == (3, 0)
    assert [line for line, _ in report.errors] == [3, 7, 8, 9]
    messages = dict(report.errors)
    assert messages[3].startswith("number:")
    assert messages[7].startswith("contact_email:")
    assert messages[8].startswith("status:")
    assert "cells" in messages[9]
    assert _numbers(hotline) == {"1001": "open", "1003": "pending", "1007": "closed"}


def test_reimport_updates(hotline, clock):
    import_tickets_csv(hotline.db, io.StringIO("number,company\n1,Acme\n2,Acme\n"), clock.now(), "US")
    clock.advance(hours=1)
    report = import_tickets_csv(
        hotline.db, io.StringIO("number,company,status\n1,Acme,solved\n3,Acme,\n"), clock.now(), "US"
    )
    assert (report.created, report.updated, report.errors) == (1, 1, [])
    assert _numbers(hotline) == {"1": "solved", "2": "open", "3": "open"}


def test_national_numbers_use_the_default_region(hotline, clock):
    csv_text = "number,company,contact_phone\n1,Acme,030 901820\n"
    report = import_tickets_csv(hotline.db, io.StringIO(csv_text), clock.now(), "DE")
    assert report.errors == []
    with hotline.db.transaction() as session:
        assert session.scalar(select(Ticket)).contact.phone == "+4930901820"


def test_bom_and_header_case_are_accepted(hotline, clock, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffNumber, Company ,\r\n42,Acme,\r\n".encode())
    report = import_tickets_csv(hotline.db, path, clock.now(), "US")
    assert (report.created, report.errors) == (1, [])


def test_missing_file(hotline, clock, tmp_path):
    with pytest.raises(ImportFileNotFound):
        import_tickets_csv(hotline.db, tmp_path / "nope.csv", clock.now(), "US")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", MissingHeader),
        ("\n\n", MissingHeader),
        ("number,company,priority\n1,Acme,high\n", UnknownColumns),
        ("number,company,number\n1,Acme,2\n", UnknownColumns),
        ("number,subject\n1,Down\n", MissingColumns),
    ],
)
def test_bad_header_stops_the_import(hotline, clock, text, error):
    with pytest.raises(error) as raised:
        import_tickets_csv(hotline.db, io.StringIO(text), clock.now(), "US")
    assert isinstance(raised.value, TicketImportError)
    assert str(raised.value)
    assert _numbers(hotline) == {}


def test_non_utf8_file_is_refused(hotline, clock, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("number,company\n1,Müller\n".encode("latin-1"))
    with pytest.raises(TicketImportError, match="UTF-8"):
        import_tickets_csv(hotline.db, path, clock.now(), "US")


def test_a_ticket_twice_in_one_file_is_imported_from_its_first_row_and_the_second_is_reported(hotline, clock):
    # the last row silently won; which of two rows is the helpdesk's latest cannot be told from the file
    text = "number,company,status\n1,Acme,open\n2,Beta,open\n1,Acme,solved\n1,x\u0007y,open\n"
    report = import_tickets_csv(hotline.db, io.StringIO(text), clock.now(), "US")
    assert (report.created, report.updated) == (2, 0)
    assert [line for line, _ in report.errors] == [4, 5]
    assert dict(report.errors)[4] == "ticket 1 was already imported from line 2 of this file; this row was not imported"
    assert dict(report.errors)[5].startswith("company:")  # a row that is invalid anyway says why it is
    assert _numbers(hotline) == {"1": "open", "2": "open"}


def test_tam_time_zone_and_business_hours_columns_set_the_account_and_a_bad_one_is_reported_by_line(hotline, clock):
    csv_text = (
        "number,company,tam_phone,tam_time_zone,tam_business_hours\n"
        '1,Acme,+14155550144,America/Los_Angeles,"mon-fri 08:00-18:00, sat 10:00-14:00"\n'
        "2,Beta,,Mars/Olympus,\n"
        "3,Gamma,,,mon-fri 18:00-08:00\n"
        "4,Acme,,,\n"  # empty cells keep Acme's stored zone and hours
        "5,Delta,,Asia/Tokyo,\n"
    )
    report = import_tickets_csv(hotline.db, io.StringIO(csv_text), clock.now(), "US")
    assert (report.created, report.updated) == (3, 0)
    assert [line for line, _ in report.errors] == [3, 4]
    messages = dict(report.errors)
    assert messages[3].startswith("tam_time_zone:") and "Mars/Olympus" in messages[3]
    assert messages[4].startswith("tam_business_hours:") and "18:00-08:00" in messages[4]
    with hotline.db.session() as session:
        clocks = {a.name: (a.tam_time_zone, a.tam_business_hours) for a in session.scalars(select(Account))}
    assert clocks == {"Acme": ("America/Los_Angeles", "mon-fri 08:00-18:00, sat 10:00-14:00"),
                      "Delta": ("Asia/Tokyo", "mon-fri 09:00-17:00")}


@pytest.mark.parametrize("column", ["contact_phone", "contact_phone_alt", "tam_phone"])
@pytest.mark.parametrize("written", ["+1 415 555 0111 ext. 12", "(415) 555-0111 x12", "+14155550111;ext=12"])
def test_a_phone_with_an_extension_is_refused_by_line_naming_the_column(hotline, clock, column, written):
    # The hotline dials these numbers (the TAM's page; the contact's phone offered to a verified caller as the
    # callback number) and cannot dial an extension: kept without it (as before), it rang the switchboard.
    csv_text = f'number,company,{column}\n1,Acme,"{written}"\n2,Acme,+14155550112\n'
    report = import_tickets_csv(hotline.db, io.StringIO(csv_text), clock.now(), "US")
    assert report.created == 1
    assert report.errors == [(2, f"{column}: has an extension (12): the hotline dials this number and cannot dial "
                                 "an extension, give a direct number")]
    assert set(_numbers(hotline)) == {"2"}
