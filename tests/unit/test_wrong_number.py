"""A reply to the missed-call SMS that says the call was not theirs, told from a report (pure)."""

from __future__ import annotations

import pytest

from app.services.wrong_number import MAX_WORDS, says_wrong_number

NOT_THEIRS = [
    "Who is this? I never called you, wrong number",  # an outside probe's first run
    "wrong number",
    "Wrong Number!!",
    "WRONG NUMBER",
    "wrong #",
    "Wrong#",
    "who is this",
    "Who's this?",
    "Who’s this?",  # a phone's curly apostrophe
    "who dis",
    "I never called",
    "i never called you",
    "Not me",
    "not me.",
    "didn't call",
    "I didn’t call you",
    "I didn`t call anyone",
    "I did not call",
    "stop texting me",
    "Please stop texting me, wrong number",
    "Sorry, you have the wrong number",
    "falsche Nummer",
    "Falsche Nummer!",
    "Wer ist da?",
    "wer ist da",
    "ich habe nicht angerufen",
    "Ich habe Sie nicht angerufen, falsche Nummer",
    "Hab nicht angerufen",
    "Sie haben sich verwählt",
]

REPORTS = [
    "Acme Mail, SMTP down, wrong number of messages delivered",
    "wrong number of messages delivered",  # no other sign: "wrong number of" is no disowning
    "Hooli Inc, Gavin. All SMTP injection fails with 421 since 10:00",
    "Wrong number? No, Globex here, our outbound email is failing",
    "Not me, my colleague called: Initech, mail is down",
    "who is this? our mail server is down",
    "I never called but our SMTP relay is down, Acme",
    "wrong number 421 errors on every send",
    "Falsche Nummer? Nein, Müller GmbH, unser E-Mail-Versand ist ausgefallen",
    "Wer ist da? Bei uns geht der Mailversand nicht",
    "Ich habe nicht angerufen, aber unser Server hat eine Störung",
    "Acme Corp, wrong number in the bounce queue",
    "Who is this? We cannot send anything to anyone since this morning and customers are waiting",  # too long
    "",
    "   ",
    "Acme",
    "Hello",
    "Yes",
    "STOP",  # the opt-out keyword: its own path (sms_opt_outs), never this one
]


@pytest.mark.parametrize("body", NOT_THEIRS)
def test_a_reply_that_says_the_call_was_not_theirs_is_told(body):
    assert says_wrong_number(body), body


@pytest.mark.parametrize("body", REPORTS)
def test_a_reply_that_may_be_a_report_is_never_taken_for_a_wrong_number(body):
    assert not says_wrong_number(body), body


def test_only_a_short_reply_counts():
    short = "wrong number " + " ".join(["sorry"] * (MAX_WORDS - 2))
    assert says_wrong_number(short)
    assert not says_wrong_number(short + " sorry")
