"""No ticket phone is the hotline's own number (TWILIO_NUMBER), as no rep's is.

An outside probe gave an account's TAM the hotline's number in a ticket import and in `POST /tickets`: both were
accepted, `hotline check` said nothing, and the TAM's page was an SMS from the hotline to itself, which Twilio
refuses (the TAM never heard). Now the import names the row and the column, the API answers 422 naming the field, and
`hotline check` names an account stored so before.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.config_check import CheckReport, oncall_problems
from app.models import Account, Ticket
from app.services.api_tokens import create_token
from app.services.ticket_import import import_tickets_csv

HOTLINE = "+14155550123"  # the hotline's number in these tests (a mobile: the tests' own is refused as personal)
WHY = "is TWILIO_NUMBER, the hotline's own number: give the person's own phone"


@pytest.fixture
def on_the_hotline_number(hotline):
    hotline.settings = hotline.settings.with_overrides(twilio_number=HOTLINE)
    return hotline


@pytest.mark.parametrize("column", ["tam_phone", "contact_phone", "contact_phone_alt"])
def test_the_import_refuses_the_hotlines_number_by_line_naming_the_column(on_the_hotline_number, clock, column):
    csv_text = f"number,company,{column}\n1,Acme,(415) 555-0123\n2,Acme,+14155550124\n"
    report = import_tickets_csv(on_the_hotline_number.db, io.StringIO(csv_text), clock.now(), "US", HOTLINE)
    assert (report.created, report.errors) == (1, [(2, f"{column}: {WHY}")])
    with on_the_hotline_number.db.session() as s:
        assert list(s.scalars(select(Ticket.number))) == ["2"]


@pytest.mark.parametrize("field", ["tam_phone", "contact_phone"])
def test_the_api_refuses_the_hotlines_number_naming_the_field(on_the_hotline_number, client, clock, field):
    with on_the_hotline_number.db.transaction() as s:
        token = create_token(s, "helpdesk", clock.now(), scopes=["tickets:write", "accounts:admin"])
    response = client.post("/api/v1/tickets", json={"number": "2001", "company": "Umbrella", field: HOTLINE},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert (response.get_json()["error"]["field"], response.get_json()["error"]["message"]) == (field, WHY)
    with on_the_hotline_number.db.session() as s:
        assert s.scalar(select(Ticket.id)) is None


def test_a_tam_stored_on_the_hotlines_number_is_a_check_error(on_the_hotline_number, clock):
    with on_the_hotline_number.db.transaction() as s:  # stored before the rule: straight into the table
        s.add(Account(name="Initech", tam_phone=HOTLINE))
        s.add(Account(name="Acme", tam_phone="+14155550124"))
    report = CheckReport()
    oncall_problems(on_the_hotline_number.settings, report, clock.now(), strict=True)
    [own] = [p for p in report.errors if "TAM phone is TWILIO_NUMBER" in p.message]
    assert own.where == "accounts[Initech].tam_phone" and "call the hotline" in own.message
