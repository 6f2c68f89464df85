"""The account's TAM is told of the incident in words of their own: no ACK/CALL, no ack link, no "press 1".

The TAM is paged as a person who is no rep, and every channel refuses their acknowledgement
(tests/paging/test_ack_guards.py), so an instruction to acknowledge or to call the customer would mislead.
"""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select, update

from app.config_check import oncall_problems
from app.config_report import CheckReport
from app.models import Account, IncidentEvent
from app.prompts import CATALOGS
from app.services.oncall_admin import save_policy
from app.services.page_text import hhmm
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_ack_guards import _tam_page, _ticket_with_a_tam_at_work
from tests.paging.test_acknowledgement import _sms_from
from tests.paging.test_policy import TAM, _call_about_ticket
from tests.paging.test_twilio_failures import _work

TAM_KEYS = ("tam_page_sms", "tam_page_spoken", "tam_page_spoken_taken", "tam_alert_at_risk", "tam_alert_breach",
            "tam_alert_breach_calling", "tam_alert_breach_short", "tam_page_sms_late", "tam_page_spoken_late",
            "tam_page_spoken_taken_late")


def _tam_called_not_texted(desk) -> None:
    """The default policy: the primary rep texted, the account's TAM called (voice only)."""
    with desk.hotline.db.transaction() as s:
        save_policy(s, "default", [{"delay_minutes": 0, "targets": [
            {"type": "schedule", "schedule": "primary", "channels": ["sms"]}, {"type": "tam", "channels": ["voice"]}]},
        ], is_default=True)


def _no_instruction(text: str) -> None:
    for word in ("ACK", "CALL", "/ack/", "Reply", "Antworten Sie", "ress 1", "rücken Sie"):
        assert word not in text, (word, text)


def test_the_tams_page_sms_says_what_happened_and_asks_nothing(desk, network):
    _ticket_with_a_tam_at_work(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    tam = network.phone(TAM).expect_sms("SEV1")
    incident = _call_about_ticket(desk)
    desk.settle()
    [body] = tam.sms
    assert body == (f"SEV1 {incident.reference} Globex Mailers: SMTP injection failing. For your information as the "
                    f"account's TAM: the on-call reps are being paged to call the customer back by "
                    f"{hhmm(incident.callback_due_at, 'Asia/Tokyo')}. You need not reply.")  # on the TAM's clock
    _no_instruction(body)
    [rep_page] = alice.sms  # the reps' page is unchanged
    assert f"Reply ACK {incident.reference} or CALL {incident.reference}." in rep_page and "/ack/" in rep_page


def test_the_tams_voice_page_tells_them_and_offers_no_menu(desk, network):
    _ticket_with_a_tam_at_work(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    tam = network.phone(TAM).expect_sms("SEV1", fail="undelivered").expect_call()  # the SMS fails: called at once
    incident = _call_about_ticket(desk)
    desk.settle()
    [call] = tam.calls
    ref = ", ".join(incident.reference)
    assert call.heard == (f"Severity 1 incident {ref}, for Globex Mailers: SMTP injection failing. You are told as the "
                          f"account's technical account manager: the on-call reps are being paged to call the "
                          f"customer back by {hhmm(incident.callback_due_at, 'Asia/Tokyo')[:5]} J S T. You need do nothing on this call. "
                          f"Goodbye.")
    assert call.pressed == []  # nothing to press: no <Gather>
    _no_instruction(call.heard)
    assert _tam_page(desk, incident.id, "voice").status == "answered"
    assert desk.incident(incident.id).acknowledged_at is None


def test_the_tams_voicemail_gets_the_same_words_not_the_reps_instruction(desk, network):
    _ticket_with_a_tam_at_work(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    tam = network.phone(TAM).expect_sms("SEV1", fail="undelivered").expect_call(machine=True)
    _call_about_ticket(desk)
    desk.settle()
    [call] = tam.calls
    assert call.heard.startswith("Severity 1 incident") and "reply to the text message" not in call.heard
    _no_instruction(call.heard)


def test_the_tams_at_risk_alert_asks_nothing_of_them(desk, network):
    _ticket_with_a_tam_at_work(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False).expect_call(answer=False)
    alice.expect_sms("AT RISK")
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False).expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False).expect_sms("AT RISK")
    tam = network.phone(TAM).expect_sms("SEV1").expect_sms("AT RISK")
    incident = _call_about_ticket(desk)
    desk.settle()
    for minute in (3, 6, 10):
        desk.at(minutes=minute)
    at_risk = tam.sms[-1]
    assert at_risk.startswith(f"SEV1 {incident.reference} Globex Mailers: AT RISK, ")
    # the deadline's time beside the count, on the TAM's clock: an alert Twilio took late still says when it is due
    assert re.search(r"AT RISK, \d+ min left \(by \d\d:\d\d [A-Z]{3,4}\) and the customer not called back yet\. "
                     r"The on-call reps and managers are being alerted\. You need not reply\.$", at_risk), at_risk
    _no_instruction(at_risk)
    assert f"Reply CALL {incident.reference}" in alice.sms[-1]  # the reps are still asked to call


@pytest.mark.parametrize("lang", ["en-US", "de-DE"])
@pytest.mark.parametrize("key", TAM_KEYS)
def test_the_tams_texts_carry_no_instruction_in_either_language(lang, key):
    template = CATALOGS[lang][key]
    assert "{link}" not in template
    _no_instruction(template)



def test_the_tam_reads_and_hears_the_deadline_on_their_own_clock_as_the_reps_do(desk, network):
    # the TAM works in Tokyo (tam_time_zone): "by 03:15 UTC" is a sum to do at noon; the reps get their own clock
    _ticket_with_a_tam_at_work(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    tam = network.phone(TAM).expect_sms("SEV1", fail="undelivered").expect_call()  # the SMS fails: called at once
    incident = _call_about_ticket(desk)
    desk.settle()
    due = incident.callback_due_at
    tokyo, los_angeles = hhmm(due, "Asia/Tokyo"), hhmm(due, "America/Los_Angeles")
    assert tokyo.endswith(" JST") and los_angeles.endswith(" PST")
    [body] = [m.body for m in desk.network.twilio.messages if m.to == TAM]
    assert f"call the customer back by {tokyo}." in body and "UTC" not in body
    [call] = tam.calls
    assert f"call the customer back by {tokyo[:5]} J S T." in call.heard and "U T C" not in call.heard
    assert f"by {los_angeles}." in alice.sms[0]  # Alice's page, on her clock, as before


def test_the_tams_voice_page_answered_after_a_rep_acknowledged_says_who_has_it_not_that_reps_are_paged(desk, network):
    _ticket_with_a_tam_at_work(desk)
    _tam_called_not_texted(desk)
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    network.phone(ALICE).expect_sms("SEV1")
    tam = network.phone(TAM).expect_call()
    incident = _call_about_ticket(desk)
    _work(desk)  # Twilio has the pages; the phone network has not rung the TAM yet
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {incident.reference}").get_data(as_text=True)
    desk.settle()
    ref, tokyo = ", ".join(incident.reference), hhmm(incident.callback_due_at, "Asia/Tokyo")[:5]
    [call] = tam.calls
    assert call.heard == (f"Severity 1 incident {ref}, for Globex Mailers: SMTP injection failing. You are told as the "
                          f"account's technical account manager: Alice Primary, an on-call rep, acknowledged it at "
                          f"12:00 J S T; the customer must be called back by {tokyo} J S T. You need do nothing on "
                          f"this call. Goodbye.")  # on the TAM's clock: acknowledged at 03:00 UTC
    assert call.pressed == []
    _no_instruction(call.heard)


def test_a_tam_whose_stored_zone_no_longer_loads_is_still_told_in_utc_and_check_names_it(desk, network, caplog):
    # a TAM zone stored under an older tz database (or set in SQL: no API writes it) that this one has not: the TAM
    # must still hear of the incident, their business hours and the deadline worked out in UTC as for a rep or a
    # schedule (wallclock.stored_zone), the log saying whose zone it is, and `hotline check` naming it
    _ticket_with_a_tam_at_work(desk)
    with desk.hotline.db.transaction() as s:
        account = s.scalars(select(Account).where(Account.name == "Globex Mailers")).one()
        s.execute(update(Account).where(Account.id == account.id).values(
            tam_time_zone="Asia/Atlantis", tam_business_hours="mon-fri 02:00-04:00"))  # 03:00 UTC Thursday: open
        account_id = account.id
    caplog.set_level(logging.WARNING)
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    tam = network.phone(TAM).expect_sms("SEV1")
    incident = _call_about_ticket(desk)
    desk.settle()
    [body] = tam.sms
    assert f"call the customer back by {hhmm(incident.callback_due_at)}." in body and "UTC" in body
    with desk.hotline.db.session() as s:
        assert not list(s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "target_unresolvable")))
    assert any(f"account {account_id}'s TAM" in r.getMessage() and "Asia/Atlantis" in r.getMessage()
               for r in caplog.records)
    report = CheckReport()
    oncall_problems(desk.hotline.settings, report, desk.clock.now(), strict=True)
    [named] = [p for p in report.warnings if "Asia/Atlantis" in p.message]
    assert named.where == "accounts[Globex Mailers].tam_time_zone" and "UTC" in named.message
    assert not [p for p in report.errors if "time zone" in p.message]


def test_the_tams_voice_page_rung_after_the_deadline_says_it_passed_as_the_reps_does(desk, network):
    """The reps' voice page answered after the deadline says it passed (``page_text.deadline_passed``); the TAM's
    said the reps were paged "to call the customer back by 12:15 J S T" at 12:16, as if still in time."""
    _ticket_with_a_tam_at_work(desk)
    _tam_called_not_texted(desk)
    network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("have not reached you")
    network.phone(ALICE).expect_sms("SEV1").expect_sms("BREACHED")
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    tam = network.phone(TAM).expect_call()
    incident = _call_about_ticket(desk)
    desk.at(minutes=16)  # no worker ran until then: the TAM is rung after the deadline
    [call] = tam.calls
    due = hhmm(incident.callback_due_at, "Asia/Tokyo")[:5]
    assert (f"You are told as the account's technical account manager: the callback deadline, {due} J S T, has "
            "passed; the on-call reps are being paged to call the customer back now. You need do nothing on this "
            "call. Goodbye.") in call.heard
    assert "back by" not in call.heard and call.pressed == []
    _no_instruction(call.heard)
