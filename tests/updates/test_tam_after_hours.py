"""The account's TAM hears of its Sev-1 outside their business hours too: by e-mail, which wakes nobody.

Through the real escalation steps (simulated Twilio, a real SMTP server, both databases): at night the TAM gets
the page, the at-risk alert and the breach alert each once by e-mail, and no SMS or call at all; a TAM with an
address but no phone is e-mailed in business hours too; a German caller's incident is told in German as well.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.config_check import oncall_problems
from app.config_report import CheckReport
from app.dashboard.timeline import timeline
from app.models import Account, Delivery, Incident, IncidentEvent
from app.services.page_text import dated
from app.services.tickets import parse_ticket_input, upsert_ticket
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_policy import TAM, _call_about_ticket

TAM_EMAIL = "terry@globex.example"


def _ticket(desk, zone: str, phone: str = TAM) -> None:
    """Ticket 7788 of Globex Mailers, whose TAM keeps their business hours (mon-fri 09:00-17:00) in ``zone``."""
    fields = {"number": "7788", "company": "Globex Mailers", "contact_name": "Hank Scorpio",
              "contact_email": "hank@globex.example", "contact_phone": "+14155550166", "tam_name": "Terry TAM",
              "tam_email": TAM_EMAIL, "support_pin": "2468"}
    with desk.hotline.db.transaction() as s:
        upsert_ticket(s, parse_ticket_input({**fields, **({"tam_phone": phone} if phone else {})}), desk.clock.now())
        s.scalars(select(Account).where(Account.name == "Globex Mailers")).one().tam_time_zone = zone


def _tam_mail(desk, incident_id: int) -> list[Delivery]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Delivery).where(Delivery.incident_id == incident_id, Delivery.recipient == "tam")
                              .order_by(Delivery.id)))


def _timeline(desk, incident_id: int) -> list[str]:
    with desk.hotline.db.session() as s:
        events = list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                                .order_by(IncidentEvent.id)))
    return [line.text for line in timeline(events, [])]


def _nothing_rang_or_texted_the_tam(desk) -> None:
    assert [m for m in desk.network.twilio.messages if m.to == TAM] == []
    assert [c for c in desk.network.twilio.calls if c.to == TAM] == []


def test_at_night_the_tam_is_emailed_page_at_risk_and_breach_once_each_and_never_texted_or_rung(desk, network, smtp):
    # 03:00 UTC on a Thursday is 22:00 on Wednesday in New York: the TAM's business hours are over
    _ticket(desk, "America/New_York")
    customer, alice, bob, maria = (network.phone(n) for n in (CUSTOMER, ALICE, BOB, MARIA))
    customer.expect_sms("we have your report")
    alice.expect_sms("SEV1").expect_call(answer=False)
    incident = _call_about_ticket(desk)
    desk.settle()

    [page] = _tam_mail(desk, incident.id)
    assert (page.channel, page.purpose, page.to_address, page.status) == ("email", "page", TAM_EMAIL, "sent")
    [mail] = smtp.inbox.to(TAM_EMAIL)
    assert mail["Subject"] == (f"SEV1 {incident.reference} Globex Mailers: Severity 1 incident (for your "
                               "information, nothing to do)")
    body = mail.get_content()
    due = dated(incident.callback_due_at, "America/New_York")
    assert due.startswith(incident.callback_due_at.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%d "))  # read hours later: with the day
    assert due.endswith(" EST")
    assert (f"SEV1 {incident.reference} Globex Mailers: SMTP injection failing. For your information as the "
            f"account's TAM: the on-call reps are being paged to call the customer back by {due}.") in body
    assert "outside your business hours (mon-fri 09:00-17:00, America/New_York)" in body
    assert "You need do nothing" in body and "ACK" not in body and "/ack/" not in body
    assert "Sie müssen" not in body  # an English caller's incident: English only
    assert ("The account's TAM told by e-mail (page), not paged: outside their business hours "
            "(mon-fri 09:00-17:00, America/New_York)") in _timeline(desk, incident.id)
    assert {"EMAIL page to the account's TAM queued", "EMAIL page accepted for delivery (attempt 1)"} <= set(
        _timeline(desk, incident.id))

    alice.expect_call(answer=False)
    bob.expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)
    maria.expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=6)
    for phone in (alice, bob, maria):
        phone.expect_sms("AT RISK")
    desk.at(minutes=10)
    assert [d.purpose for d in _tam_mail(desk, incident.id)] == ["page", "at_risk"]
    assert "AT RISK" in smtp.inbox.to(TAM_EMAIL)[-1].get_content()

    maria.expect_sms("BREACHED").expect_call(answer=False)
    customer.expect_sms("have not reached you")  # the customer's breach notice (by SMS: it is no TAM's)
    desk.at(minutes=15)
    for minute in (20, 25):  # the repages every 5 minutes: the TAM's breach alert is written once
        alice.expect_sms("BREACHED").expect_call(answer=False)
        maria.expect_sms("BREACHED").expect_call(answer=False)
        desk.at(minutes=minute)
    assert [d.purpose for d in _tam_mail(desk, incident.id)] == ["page", "at_risk", "breach"]
    [*_, breach] = smtp.inbox.to(TAM_EMAIL)
    assert len(smtp.inbox.to(TAM_EMAIL)) == 3
    assert f"callback deadline {due} BREACHED" in breach.get_content()
    _nothing_rang_or_texted_the_tam(desk)
    network.verify()


def test_a_tam_with_an_address_but_no_phone_is_emailed_in_business_hours_too(desk, network, smtp):
    _ticket(desk, "Asia/Tokyo", phone="")  # noon in Tokyo: open, but there is no number to text
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = _call_about_ticket(desk)
    desk.settle()
    [page] = _tam_mail(desk, incident.id)
    assert (page.purpose, page.to_address, page.status) == ("page", TAM_EMAIL, "sent")
    body = smtp.inbox.to(TAM_EMAIL)[0].get_content()
    assert "no phone number is on file for you as the account's TAM" in body and "business hours" not in body
    assert f"back by {dated(incident.callback_due_at, 'Asia/Tokyo')}" in body
    assert ("The account's TAM told by e-mail (page), not paged: no TAM phone is on file"
            in _timeline(desk, incident.id))
    _nothing_rang_or_texted_the_tam(desk)


def test_a_german_callers_incident_reaches_the_tam_in_english_and_in_german(desk, network, smtp):
    _ticket(desk, "Europe/Berlin")  # 04:00 in Berlin: closed
    network.phone(CUSTOMER).expect_sms("Wir haben Ihre Meldung")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=CUSTOMER)
    call.dial()
    call.press("2")  # Deutsch
    call.press("2")  # SMTP-Einlieferung
    for keys in ("7788", "2468", "1", "1", "1", "1"):  # ticket and PIN; company, name, number, e-mail
        call.press(keys)
    call.say("Alle SMTP-Sitzungen werden abgewiesen.")
    call.record(seconds=5)
    call.press("1")
    desk.settle()
    with desk.hotline.db.session() as s:
        incident = s.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()
    assert incident.language == "de-DE"
    [page] = _tam_mail(desk, incident.id)
    assert (page.purpose, page.language) == ("page", "de-DE")
    english, german = smtp.inbox.to(TAM_EMAIL)[0].get_content().replace("\r\n", "\n").split("\n\n-----\n\n")
    assert "For your information as the account's TAM" in english and "outside your business hours" in english
    assert "Zur Information für Sie als TAM des Kunden: Die Bereitschaft wird alarmiert" in german
    assert "außerhalb Ihrer Geschäftszeiten (mon-fri 09:00-17:00, Europe/Berlin)" in german
    assert "Sie müssen nichts tun" in german
    assert "SMTP injection failing" in english and "SMTP-Einlieferung fällt aus" in german  # no English in German
    assert "failing" not in german
    _nothing_rang_or_texted_the_tam(desk)


def test_check_warns_when_tams_have_an_address_and_no_smtp_is_set(desk):
    """An outside probe ran with SMTP_HOST empty and a TAM e-mail on file: `hotline check` said 0 warnings, and the
    TAM was told nothing at night (each e-mail logged as not sent)."""
    from app.config_check import oncall_problems
    from app.config_report import CheckReport

    _ticket(desk, "America/New_York")
    with_smtp, without = CheckReport(), CheckReport()
    oncall_problems(desk.hotline.settings, with_smtp, desk.clock.now(), strict=True)
    oncall_problems(desk.hotline.settings.with_overrides(smtp_host=""), without, desk.clock.now(), strict=True)
    assert not [p for p in with_smtp.warnings if p.where == "SMTP_HOST"]
    [warned] = [p for p in without.warnings if p.where == "SMTP_HOST"]
    assert "1 account(s) give their TAM an e-mail address" in warned.message and not without.errors


def _ticket_without_email(desk, zone: str) -> None:
    """Ticket 7788 of Globex Mailers, whose TAM has a phone but no e-mail address on file."""
    with desk.hotline.db.transaction() as s:
        upsert_ticket(s, parse_ticket_input({
            "number": "7788", "company": "Globex Mailers", "contact_name": "Hank Scorpio",
            "contact_email": "hank@globex.example", "contact_phone": "+14155550166", "tam_name": "Terry TAM",
            "tam_phone": TAM, "support_pin": "2468"}), desk.clock.now())
        s.scalars(select(Account).where(Account.name == "Globex Mailers")).one().tam_time_zone = zone


def test_at_night_a_tam_with_no_address_is_texted_page_at_risk_and_breach_never_rung_and_the_timeline_says_why(
        desk, network, smtp):
    # probe A F7: a TAM with a phone but no e-mail heard nothing of three breached Sev-1s, and nothing said so
    _ticket_without_email(desk, "America/New_York")  # 03:00 UTC Thursday: 22:00 Wednesday in New York
    customer, alice, bob, maria, tam = (network.phone(n) for n in (CUSTOMER, ALICE, BOB, MARIA, TAM))
    customer.expect_sms("we have your report")
    alice.expect_sms("SEV1").expect_call(answer=False)
    tam.expect_sms("SEV1 ")
    incident = _call_about_ticket(desk)
    desk.settle()
    lines = _timeline(desk, incident.id)
    assert ("The account's TAM told by SMS (page), not called: outside their business hours (mon-fri 09:00-17:00, "
            "America/New_York), and no e-mail address is on file for them") in lines

    alice.expect_call(answer=False)
    bob.expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)
    maria.expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=6)
    for phone in (alice, bob, maria, tam):
        phone.expect_sms("AT RISK")
    desk.at(minutes=10)
    maria.expect_sms("BREACHED").expect_call(answer=False)
    tam.expect_sms("BREACHED")
    customer.expect_sms("have not reached you")
    desk.at(minutes=15)
    alice.expect_sms("BREACHED").expect_call(answer=False)
    maria.expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=20)  # a repage round: the TAM's breach alert was sent once
    assert len([m for m in desk.network.twilio.messages if m.to == TAM]) == 3
    assert [c for c in desk.network.twilio.calls if c.to == TAM] == []
    assert _tam_mail(desk, incident.id) == [] and smtp.inbox.to(TAM_EMAIL) == []
    network.verify()


def test_at_night_a_tam_whose_text_fails_is_not_rung_instead(desk, network):
    _ticket_without_email(desk, "America/New_York")
    network.phone(CUSTOMER).expect_sms("we have your report")
    network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    network.phone(TAM).expect_sms("SEV1 ", fail="undelivered")  # no expect_call: a call to the TAM fails the test
    _call_about_ticket(desk)
    desk.settle()
    assert [c for c in desk.network.twilio.calls if c.to == TAM] == []
    network.verify()


def test_check_warns_of_an_account_whose_tam_has_a_phone_but_no_address(desk):
    _ticket_without_email(desk, "America/New_York")
    report = CheckReport()
    oncall_problems(desk.hotline.settings, report, desk.clock.now(), strict=True)
    [named] = [p for p in report.warnings if p.where == "accounts[Globex Mailers].tam_email"]
    assert "no e-mail address" in named.message and "texted" in named.message and "tam_email" in named.fix


def _ticket_without_contact(desk) -> None:
    """Ticket 7788 of Globex Mailers, whose TAM is named but has neither a phone nor an e-mail address on file."""
    with desk.hotline.db.transaction() as s:
        upsert_ticket(s, parse_ticket_input({
            "number": "7788", "company": "Globex Mailers", "contact_name": "Hank Scorpio",
            "contact_email": "hank@globex.example", "contact_phone": "+14155550166", "tam_name": "Terry TAM",
            "support_pin": "2468"}), desk.clock.now())


def test_a_tam_with_neither_a_phone_nor_an_address_is_told_nothing_and_the_timeline_says_why(desk, network, smtp):
    _ticket_without_contact(desk)
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = _call_about_ticket(desk)
    desk.settle()
    alice.expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)  # the next level (no TAM target) says nothing more of the TAM
    said = [line for line in _timeline(desk, incident.id) if "TAM" in line]
    assert said == ["The account's TAM told nothing of this incident (page), nor of its alerts: neither a TAM phone "
                    "nor a TAM e-mail address is on file"]
    assert _tam_mail(desk, incident.id) == [] and smtp.inbox.to(TAM_EMAIL) == []
    _nothing_rang_or_texted_the_tam(desk)
    network.verify()


def test_check_warns_of_an_account_whose_tam_has_neither_a_phone_nor_an_address(desk):
    _ticket_without_contact(desk)
    with desk.hotline.db.transaction() as s:  # an account that names no TAM at all has none to tell: no warning
        upsert_ticket(s, parse_ticket_input({"number": "9911", "company": "Initech", "contact_name": "Bill Lumbergh",
                                             "contact_phone": "+14155550177"}), desk.clock.now())
    report = CheckReport()
    oncall_problems(desk.hotline.settings, report, desk.clock.now(), strict=True)
    [named] = [p for p in report.warnings if p.where.startswith("accounts[Globex Mailers]")]
    assert named.where == "accounts[Globex Mailers].tam_email"
    assert "neither a phone nor an e-mail address" in named.message and "told of none" in named.message
    assert "tam_email" in named.fix and "tam_phone" in named.fix
    assert not [p for p in report.warnings if "Initech" in p.where] and not report.errors
