"""The compliance report's stored CSV line names the company the caller corrects after their incident opened.

The incident opens mid-call once the callback number is confirmed (issue 13); a company said or corrected after that
is written by the lean step (``lean_step``, raw SQL, no ORM flush), which left the facts row's stored CSV line
(``incident_facts.csv_lead``) naming the company as it was: the report said "Globe X" for a caller who corrected it to
"Globex" and hung up, while the board said "Globex". It is refolded with each such answer now.
"""

from __future__ import annotations

from sqlalchemy import select

from app.models import Incident, IncidentFactsRow


def _lead(hotline) -> tuple[str, str]:
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
        return incident.company, s.scalar(select(IncidentFactsRow.csv_lead)
                                          .where(IncidentFactsRow.incident_id == incident.id))


def test_a_company_corrected_after_the_incident_opened_is_the_one_the_csv_line_names(phone, hotline):
    call = phone("+14155550100")
    call.dial()
    call.press("1")
    call.press("1")  # API calls failing
    call.press("#")  # no ticket
    call.say("Globe X")
    call.say("Jane Doe")
    call.press("1")  # the caller ID: the incident opens
    call.say("jane at globex dot com")
    call.press("1")
    call.say("Every API call returns 500.")
    call.record(seconds=5)
    company, lead = _lead(hotline)
    assert company == "Globe X" and ",Globe X," in lead
    call.say("That's not correct.")
    call.press("2")
    call.say("Globex")  # corrected, then the caller hangs up before confirming
    company, lead = _lead(hotline)
    assert company == "Globex" and ",Globex," in lead
