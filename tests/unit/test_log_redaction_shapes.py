"""The log redactor sees the link tokens and phone numbers of the shapes an outside probe (AT2) found left whole in
the access log and in ``redact``: link paths written otherwise than ``/ack/<token>``, numbers written with other
separators or a national or international prefix, and values percent-encoded twice; ordinary lines stay as written."""

from __future__ import annotations

import pytest

from app.db import Database
from app.logging_redact import redact

TOKEN = "eyJwIjozLCJ0IjoxNzY0OTM2MDAwfQ.zlPzIpCOaGQQkCcqDik_habmjaw"


@pytest.mark.parametrize("line", [
    f'"GET /ack//{TOKEN} HTTP/1.1" 308',
    f'"GET /ACK/{TOKEN} HTTP/1.1" 404',
    f'"POST /Resolution/{TOKEN} HTTP/1.1" 404',
    f'"GET //ack///{TOKEN}/ HTTP/1.1" 404',
    f'"GET /acknowledge/{TOKEN} HTTP/1.1" 404',  # any path segment shaped as one of our signed tokens
    f'"GET /x?next=/y/{TOKEN} HTTP/1.1" 404',
])
def test_a_link_token_is_redacted_however_its_path_is_written(line):
    redacted = redact(line)
    assert TOKEN not in redacted and TOKEN[-12:] not in redacted and "[redacted]" in redacted


@pytest.mark.parametrize(("written", "digits"), [
    ("1-415-555-0186", "5550186"),
    ("1.415.555.0186", "5550186"),
    ("1 415 555 0186", "5550186"),
    ("415/555-0186", "5550186"),
    ("0151 12345678", "12345678"),
    ("0151/12345678", "12345678"),
    ("030 901820", "901820"),
    ("0044 20 7946 0958", "7946"),
    ("0049 151 12345678", "12345678"),
    ("+1 415 5550186", "0186"),
    ("+49 151 12345678", "678"),
    ("to=%252B14155550186", "5550186"),
])
def test_a_phone_number_is_redacted_whole_with_any_separator_or_prefix(written, digits):
    for line in (f"call back on {written} please", f"GET /s?to={written} HTTP/1.1"):
        redacted = redact(line)
        assert digits not in redacted and digits[-2:] + " " not in redacted, (line, redacted)


def test_an_email_encoded_twice_is_redacted():
    assert redact("GET /s?email=vera%2540victim.example HTTP/1.1") == "GET /s?email=[email] HTTP/1.1"


@pytest.mark.parametrize("kept", [
    '10.0.0.1:8000 - - [05/Dec/2026:14:00:00 +0000] "GET /board HTTP/1.1" 200 5195',
    "incident 123456 page 42 at 2026-11-26T03:00:00+00:00",
    "job step-1234 due 2026-12-05T14:00:00Z took 0.123 s, 456 rows",
    "callback 3 of 2026/12/05 01:30, duration 00:05:12.123456",
    "GET /static/dashboard.css?v=0a8d7ec HTTP/1.1",
    "GET /incidents/123456/updates/interval HTTP/1.1",
    "version 1.2.3 build 0012 345678, pid 01234 5678",
    "GET /x?a=%250A%2522 HTTP/1.1",  # an encoded line break or quote, even encoded twice, stays encoded
])
def test_ordinary_log_lines_stay_as_written(kept):
    assert redact(kept) == kept


def test_a_failing_statement_names_no_value_it_carried(tmp_path):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with database.engine.connect() as conn:
        with pytest.raises(DBAPIError) as raised:
            conn.execute(text("INSERT INTO nowhere (phone) VALUES (:phone)"), {"phone": "+14155550186"})
    assert "4155550186" not in str(raised.value) and "parameters hidden" in str(raised.value)
