"""No phone number, e-mail, token or password in any log line at DEBUG (issue 9, row 8)."""

from __future__ import annotations

import logging
import re
import urllib.request

from app import create_app
from app.cli import main
from app.logging_redact import RedactingFilter, install, redact
from app.services.api_tokens import create_token
from tests.conftest import REDIS_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _ack_link

EMAIL = "dana@acme.example"
TICKET_EMAIL, TICKET_PHONE = "victor@bigcorp.example", "+14155550188"


def _forbidden_strings(*tokens: str) -> list[str]:
    numbers = [CUSTOMER, ALICE, BOB, MARIA, TICKET_PHONE]
    found = [*numbers, *(n.lstrip("+") for n in numbers), *(n.replace("+", "%2B") for n in numbers),
             *(n[-10:] for n in numbers), EMAIL, EMAIL.replace("@", "%40"), TICKET_EMAIL, TEST_AUTH_TOKEN, *tokens]
    return [f for f in found if f]



def test_a_whole_call_and_page_cycle_at_debug_logs_no_personal_data_or_token(desk, network, served, hotline,
                                                                               clock, caplog):
    caplog.set_level(logging.DEBUG)
    # Building an app installs the redacting filter on the root handlers present now, pytest's
    # capturing handler among them (the fixtures' app was built before that handler existed).
    create_app(hotline)
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    with hotline.db.transaction() as session:
        api_token = create_token(session, "helpdesk", clock.now())
    # The helpdesk pushes the customer's ticket over the real HTTP server (token in the header).
    ticket = urllib.request.Request(f"{served}/api/v1/tickets", method="POST", data=(
        b'{"number": "4521", "company": "BigCorp", "contact_email": "' + TICKET_EMAIL.encode() +
        b'", "contact_phone": "' + TICKET_PHONE.encode() + b'"}'),
        headers={"Authorization": f"Bearer {api_token}", "Content-Type": "application/json"})
    assert urllib.request.urlopen(ticket).status == 201
    incident = desk.open_incident()  # intake webhooks, signed like Twilio
    desk.settle()  # pages go out through the real Twilio client to the simulated Twilio over HTTP
    token = _ack_link(desk, incident.id)
    # The rep opens the link and acknowledges on werkzeug's server: the access log sees the token.
    assert urllib.request.urlopen(f"{served}/ack/{token}").status == 200
    assert urllib.request.urlopen(urllib.request.Request(f"{served}/ack/{token}?x={EMAIL}", data=b"action=ack",
                                                         method="POST")).status == 200
    desk.settle()
    assert desk.incident(incident.id).acknowledged_at is not None

    lines = [r.getMessage() + "\n" + (r.exc_text or "") for r in caplog.records]
    loggers = {r.name for r in caplog.records}
    leaks = [(f, line) for line in lines for f in _forbidden_strings(token, api_token) if f in line]
    assert leaks == []
    # the test saw what it is about: the access log with the link, and the Twilio client's request log
    assert any(re.search(r"/ack/\[redacted\]", line) for line in lines if "HTTP/1.1" in line)
    assert "werkzeug" in loggers and "app.telephony.twilio_rest" in loggers
    assert any("Messages.json" in line for line in lines)
    # the operator's line for each page Twilio accepted (the rep's SMS and call), at INFO
    accepted = [line for line in lines if re.match(r"page \d+ of incident \d+ \(\w+ page, oncall:primary\) accepted by "
                                                   r"Twilio as \w+, attempt 1\n", line)]
    assert {line.split("(")[1].split(" ")[0] for line in accepted} == {"sms", "voice"}


def test_redact_covers_what_the_libraries_log():
    assert redact("POST /ack/eyJwIjo0fQ.sig HTTP/1.1") == "POST /ack/[redacted] HTTP/1.1"
    assert "4155550100" not in redact("Query Params: {'To': '+14155550100'}")
    assert "4155550100" not in redact("GET /Messages.json?To=%2B14155550100&PageSize=20")
    assert redact("from dana@acme.example") == "from [email]"
    assert redact("Authorization: Bearer hl_abcdefghijklmnop") == "Authorization: [redacted] [redacted]"
    assert "hunter2hunter2" not in redact("password=hunter2hunter2&email=x")
    assert redact("incident 123456 page 42 at 2026-11-26T03:00:00+00:00") == \
        "incident 123456 page 42 at 2026-11-26T03:00:00+00:00"


def test_redact_sees_numbers_and_links_however_they_are_written_or_encoded():
    for written in ("/s?to=%2B1%20415%20555%200177", "/s?to=%2B1+415+555+0177", "/s?to=(415)%20555-0177",
                    "/s?to=%28415%29%20555%2D0177", "call 415-555-0177", "call (415) 555-0177", "call 415.555.0177"):
        assert "555" not in redact(written) and "0177" not in redact(written), written
    assert redact("GET /%61ck/eyJwIjo0fQ.sig HTTP/1.1") == "GET /ack/[redacted] HTTP/1.1"
    assert redact("GET /%72esolution/eyJwIjo0fQ.sig HTTP/1.1") == "GET /resolution/[redacted] HTTP/1.1"
    assert redact("from o'brien@acme.example and o%27brien%40acme.example") == "from [email] and [email]"
    assert redact("{'email': 'admin@example.com'}") == "{'email': '[email]'}"
    # nothing else is decoded: an encoded line break, quote or space cannot forge a line or a field
    assert redact('GET /x?a=%0A127.0.0.1%20-%20%22GET HTTP/1.1') == 'GET /x?a=%0A127.0.0.1%20-%20%22GET HTTP/1.1'
    for kept in ("10.0.0.1:8000 - - [05/Dec/2026:14:00:00 +0000]", "took 0.123 s, 456 rows",
                 "at 2026-12-05 14:31:41.123", "GET /reports?tz=America%2FNew_York&start=2026-11-01"):
        assert redact(kept) == kept


def test_tracebacks_are_redacted_too(caplog):
    caplog.set_level(logging.DEBUG)
    install()
    try:
        raise ValueError(f"could not save {CUSTOMER} for {EMAIL}")
    except ValueError:
        logging.getLogger("app.voice.routes").exception("voice webhook failed for %s", CUSTOMER)
    [record] = caplog.records
    assert CUSTOMER not in record.getMessage() and CUSTOMER not in record.exc_text and EMAIL not in record.exc_text
    assert CUSTOMER not in caplog.text and EMAIL not in caplog.text


def _redacting(filters) -> bool:
    return any(isinstance(f, RedactingFilter) for f in filters)


def test_the_cli_installs_the_filter_on_the_root_handlers_and_the_twilio_and_werkzeug_loggers(tmp_path):
    from click.testing import CliRunner

    root = logging.getLogger()
    watched = [logging.getLogger(name) for name in ("werkzeug", "twilio.http_client")]
    handler = logging.StreamHandler()
    root.addHandler(handler)
    for logger in watched:
        for f in [f for f in logger.filters if isinstance(f, RedactingFilter)]:
            logger.removeFilter(f)
    try:
        result = CliRunner().invoke(main, ["-v", "api-token", "list"], env={
            "HOTLINE_DATA_DIR": str(tmp_path / "d"), "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
            "REDIS_URL": REDIS_URL})
        assert result.exit_code == 0, result.output
        assert _redacting(handler.filters)
        assert all(_redacting(logger.filters) for logger in watched)
    finally:
        root.removeHandler(handler)
