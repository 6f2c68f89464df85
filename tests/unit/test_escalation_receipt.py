"""The receipt rule as a table (SMS if the number takes one, else e-mail if we have an address, else nothing),
and what the receipt e-mail says."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from app.escalation import Audience, Decision, PageOrder, Snapshot, State, StepDue, decide
from app.services.customer_text import breach_notice_email, receipt_email

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
DUE = T0 + timedelta(minutes=15)
BASE = Snapshot(due_at=DUE, levels=3)
SMS = (PageOrder(Audience.CUSTOMER, ("sms",), "receipt"),)

# (has a callback number, it takes SMS, has an e-mail address, resolved) -> (outcome, SMS pages, e-mail purpose)
RECEIPT = {
    (True, True, False, False): ("receipt_queued", SMS, ""),
    (True, True, True, False): ("receipt_queued", SMS, ""),  # SMS reaches them: one receipt, not two
    (True, False, True, False): ("receipt_emailed", (), "receipt"),  # a landline with an e-mail address
    (False, False, True, False): ("receipt_emailed", (), "receipt"),  # no number (withheld), an e-mail address
    (True, False, False, False): ("skipped_not_textable", (), ""),  # a landline and no address: nothing to write to
    (False, False, False, False): ("skipped_not_textable", (), ""),
    (True, True, True, True): ("skipped_resolved", (), ""),
    (True, False, True, True): ("skipped_resolved", (), ""),
    (False, False, True, True): ("skipped_resolved", (), ""),
}


@pytest.mark.parametrize(("facts", "expected"), list(RECEIPT.items()))
def test_the_receipt_goes_by_sms_else_by_email_else_not_at_all(facts, expected):
    number, textable, email, resolved = facts
    snap = replace(BASE, has_callback_number=number, textable_customer=textable, has_email=email, resolved=resolved)
    outcome, pages, mail = expected
    decision = decide(StepDue("receipt"), snap, T0)
    assert (decision.outcome, decision.pages, decision.email_customer) == (outcome, pages, mail)
    assert decision.ok and decision.log == () and decision.next_state == snap.state


def test_a_receipt_to_an_unproven_number_past_the_hourly_bound_is_withheld_and_logged():
    # a rescued report without recorded details (its number a caller ID nobody proved), the bound reached
    decision = decide(StepDue("receipt"), replace(BASE, receipt_withheld=True), T0)
    assert (decision.outcome, decision.pages, decision.email_customer) == ("receipt_withheld", (), "")
    assert decision.log == ("receipt_withheld",) and decision.next_state == BASE.state


def test_only_the_receipt_emails_the_customer():
    snap = replace(BASE, textable_customer=False, has_email=True)
    for kind in ("page", "at_risk", "breach", "repage"):
        assert decide(StepDue(kind), snap, T0).email_customer == ""


def test_an_emailed_receipt_changes_nothing_else():
    snap = replace(BASE, textable_customer=False, has_email=True, acknowledged=True, owner_rep_id=1)
    assert decide(StepDue("receipt"), snap, T0) == Decision("receipt_emailed", State.ACKNOWLEDGED,
                                                            email_customer="receipt")


# --- the words ----------------------------------------------------------------------------------------------------

def _mail(language="en-US", now=T0, number=True, hotline="+15005550006", name="Dana Smith"):
    return receipt_email("123456", DUE, "Europe/London" if language == "en-US" else "Europe/Berlin", language,
                         name=name, hotline_number=hotline, has_callback_number=number, now=now)


def test_the_receipt_email_names_the_reference_the_deadline_on_the_customers_clock_and_the_hotline():
    subject, body = _mail()
    assert subject == "Sev-1 incident 123456: we have your report"
    assert body == ("Hello Dana Smith,\n\nwe have your Severity-1 report, reference 123456.\n\n"
                    "An engineer will call you back by 03:15 GMT.\n\n"
                    "To add details, call us on +15005550006 and give your reference 123456. "
                    "Replies to this e-mail are not added to your incident.\n\nYour Severity-1 hotline\n")


def test_the_german_receipt_email_is_german_in_mez():
    subject, body = _mail("de-DE")
    assert subject == "Sev-1-Vorfall 123456: Ihre Meldung ist eingegangen"
    assert "Referenznummer 123456" in body and "spätestens um 04:15 Uhr (MEZ) zurück" in body
    assert "unter +15005550006" in body and "Antworten auf diese E-Mail" in body


@pytest.mark.parametrize(("language", "sorry"), [("en-US", "We are sorry"), ("de-DE", "Entschuldigung")])
def test_past_the_deadline_the_receipt_email_apologises_and_names_no_time(language, sorry):
    _subject, body = _mail(language, now=DUE)
    assert sorry in body and "03:15" not in body and "04:15" not in body and "123456" in body


@pytest.mark.parametrize("language", ["en-US", "de-DE"])
def test_without_a_callback_number_the_receipt_email_promises_no_call(language):
    _subject, body = _mail(language, number=False)
    assert "03:15" not in body and "04:15" not in body
    assert ("no telephone number" in body) if language == "en-US" else ("keine Telefonnummer" in body)


@pytest.mark.parametrize("language", ["en-US", "de-DE"])
def test_without_a_hotline_number_it_asks_for_a_call_and_never_for_a_reply_by_sms(language):
    _subject, body = _mail(language, hotline="")
    assert "+1" not in body and "SMS" not in body and "123456" in body
    assert ("call the Severity-1 hotline again" in body) if language == "en-US" else ("neuen Anruf" in body)


def test_no_name_on_record_reads_hello_comma():
    _subject, body = _mail(name="")
    assert body.startswith("Hello,\n")


# --- the breach notice by e-mail ------------------------------------------------------------------------------------

def _breach_mail(language="en-US", number=True, hotline="+15005550006", name="Dana Smith"):
    return breach_notice_email("123456", DUE, "Europe/London" if language == "en-US" else "Europe/Berlin", language,
                               name=name, hotline_number=hotline, has_callback_number=number, now=DUE)


def test_the_breach_email_names_the_time_we_promised_apologises_and_says_what_happens_now():
    subject, body = _breach_mail()
    assert subject == "Sev-1 incident 123456: we are sorry, we have not reached you yet"
    assert body == ("Hello Dana Smith,\n\nwe promised to call you back by 03:15 GMT about your Severity-1 incident, "
                    "reference 123456, and we have not reached you. We are sorry.\n\n"
                    "Your incident has been escalated to our managers, and an engineer will call you as soon as "
                    "possible.\n\nTo add details, call us on +15005550006 and give your reference 123456. "
                    "Replies to this e-mail are not added to your incident.\n\nYour Severity-1 hotline\n")


def test_the_german_breach_email_is_german_in_mez_and_without_a_number_promises_no_call():
    subject, body = _breach_mail("de-DE", number=False, name="")
    assert subject == "Sev-1-Vorfall 123456: Entschuldigung, wir haben Sie noch nicht erreicht"
    assert body.startswith("Guten Tag,\n\nwir hatten Ihnen zugesagt, dass sich ein Techniker wegen Ihres "
                           "Severity-1-Vorfalls (Referenznummer 123456) bis 04:15 Uhr (MEZ) bei Ihnen meldet")
    assert "Bitte entschuldigen Sie." in body and "an unsere Manager eskaliert" in body
    assert "unter dieser E-Mail-Adresse" in body and "ruft Sie" not in body and "unter +15005550006" in body


@pytest.mark.parametrize("language", ["en-US", "de-DE"])
def test_the_breach_email_after_a_call_too_short_to_count_says_the_call_ended_too_soon(language):
    """The customer answered (a landline: no SMS), so "we have not reached you" would be false."""
    subject, body = breach_notice_email("123456", DUE, "Europe/London", language, name="Dana Smith",
                                        hotline_number="+15005550006", has_callback_number=True, now=DUE,
                                        too_short=True)
    if language == "en-US":
        assert subject == "Sev-1 incident 123456: we are sorry, our call ended too soon"
        assert ("we promised to call you back by 03:15 GMT about your Severity-1 incident, reference 123456, and our "
                "call ended before we could talk your problem through. We are sorry.") in body
        assert "an engineer will call you as soon as possible" in body and "not reached" not in body
    else:
        assert subject == "Sev-1-Vorfall 123456: Entschuldigung, unser Anruf endete zu früh"
        assert "unser Anruf endete, bevor wir Ihr Problem besprechen konnten. Bitte entschuldigen Sie." in body
        assert "ruft Sie so schnell wie möglich an" in body and "nicht erreicht" not in body
