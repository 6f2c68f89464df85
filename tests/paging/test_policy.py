"""The policy is copied onto the incident; the account's TAM hears of it in business hours."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.config_check import oncall_problems
from app.config_report import CheckReport
from app.models import Account, Incident, IncidentEvent
from app.services.oncall_admin import save_policy
from app.services.tickets import parse_ticket_input, upsert_ticket
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA

TAM = "+14155550144"


def test_editing_the_policy_does_not_change_a_running_escalation(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    with desk.hotline.db.transaction() as s:  # an admin now pages managers after 1 minute, and drops Bob
        save_policy(s, "default", [
            {"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "primary"}]},
            {"delay_minutes": 1, "targets": [{"type": "managers"}]},
        ], is_default=True)
    desk.at(minutes=1)  # a page to Maria now would be unexpected
    network.phone(ALICE).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)  # the copy on the incident still says: primary by voice + secondary
    assert desk.incident(incident.id).escalation["levels"][1]["delay_minutes"] == 3
    network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=6)


def _call_about_ticket(desk) -> Incident:
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER)
    call.dial()
    call.press("1")
    call.press("2")  # SMTP injection failing
    for keys in ("7788", "2468", "1", "1", "1", "1"):  # ticket and support PIN; company, name, number, e-mail
        call.press(keys)
    call.say("All SMTP sessions are refused.")
    call.record(seconds=5)
    call.press("1")
    with desk.hotline.db.session() as s:
        return s.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()


@pytest.mark.parametrize("tam_zone, tam_paged", [("Asia/Tokyo", True), ("America/New_York", True)])
def test_the_accounts_tam_is_told_in_and_outside_their_business_hours(desk, network, tam_zone, tam_paged):
    # 03:00 UTC on a Thursday: noon in Tokyo (open), 22:00 the evening before in New York (closed: with no e-mail
    # address on file the TAM is texted all the same, tests/updates/test_tam_after_hours.py)
    with desk.hotline.db.transaction() as s:
        upsert_ticket(s, parse_ticket_input({
            "number": "7788", "company": "Globex Mailers", "contact_name": "Hank Scorpio",
            "contact_email": "hank@globex.example", "contact_phone": "+14155550166",
            "tam_name": "Terry TAM", "tam_phone": TAM, "support_pin": "2468"}), desk.clock.now())
        s.scalars(select(Account).where(Account.name == "Globex Mailers")).one().tam_time_zone = tam_zone
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    if tam_paged:
        network.phone(TAM).expect_sms("Globex Mailers")
    incident = _call_about_ticket(desk)
    desk.settle()
    assert incident.ticket_number == "7788"
    assert (TAM in [m.to for m in desk.network.twilio.messages]) is tam_paged


@pytest.mark.parametrize("hours", ["9-17", "mon-fri 17:00-09:00", "", "mon-fri", "mon-fri 09:00-17:00,"])
def test_a_tam_whose_stored_hours_do_not_read_is_told_in_the_default_hours_and_check_names_it(desk, network, hours):
    # business hours the API and import refuse can still be written in SQL: hours the code cannot read must neither
    # fail the page (the reps are paged as ever) nor silently drop the TAM; they are read as the default hours
    # (mon-fri 09:00-17:00 on the TAM's clock: noon on a Thursday in Tokyo), logged, and named by `hotline check`
    with desk.hotline.db.transaction() as s:
        upsert_ticket(s, parse_ticket_input({
            "number": "7788", "company": "Globex Mailers", "contact_name": "Hank Scorpio",
            "contact_email": "hank@globex.example", "contact_phone": "+14155550166",
            "tam_name": "Terry TAM", "tam_phone": TAM, "support_pin": "2468"}), desk.clock.now())
        account = s.scalars(select(Account).where(Account.name == "Globex Mailers")).one()
        account.tam_time_zone, account.tam_business_hours = "Asia/Tokyo", hours
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    network.phone(TAM).expect_sms("Globex Mailers")
    incident = _call_about_ticket(desk)
    desk.settle()
    with desk.hotline.db.session() as s:
        kinds = set(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident.id)))
    assert "target_unresolvable" not in kinds
    report = CheckReport()
    oncall_problems(desk.hotline.settings, report, desk.clock.now(), strict=True)
    [named] = [p for p in report.warnings if p.where == "accounts[Globex Mailers].tam_business_hours"]
    assert repr(hours) in named.message and "mon-fri 09:00-17:00" in named.message
    assert not [p for p in report.errors if "business hours" in p.message]
