"""The escalation core's rule of when a customer's texted words reach the readers (``words_go_at``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.escalation.customer_words import AT_ONCE_WHILE_OWED, names_contact, words_go_at
from app.escalation.model import Snapshot

NOW = datetime(2026, 11, 3, 17, 0, tzinfo=UTC)
QUIET = NOW + timedelta(minutes=12)  # the quiet quarter hour since the last texted words ends then
OWED = dict(due_at=NOW + timedelta(minutes=9), acknowledged=True)
REACHED = dict(due_at=NOW + timedelta(minutes=9), acknowledged=True, answered_at=NOW - timedelta(minutes=1))


@pytest.mark.parametrize("facts, quiet_until, texted, expected", [
    (OWED, None, 0, NOW),  # nothing texted lately: at once
    (REACHED, NOW - timedelta(seconds=1), 3, NOW),  # the quarter hour is over
    (OWED, QUIET, 1, NOW),  # the callback is owed: at once
    (dict(due_at=NOW + timedelta(minutes=9)), QUIET, 1, NOW),  # nobody acknowledged yet: owed too
    (OWED, QUIET, AT_ONCE_WHILE_OWED - 1, NOW),  # the last one of the bound
    (OWED, QUIET, AT_ONCE_WHILE_OWED, OWED["due_at"]),  # past the bound: held, but never past the deadline
    (dict(due_at=NOW + timedelta(minutes=20)), QUIET, AT_ONCE_WHILE_OWED, QUIET),  # the quarter hour ends first
    (dict(due_at=NOW - timedelta(minutes=2)), QUIET, AT_ONCE_WHILE_OWED, QUIET),  # the deadline passed: the quarter hour
    (REACHED, QUIET, 0, QUIET),  # reached: the quarter hour holds them
    (dict(due_at=NOW + timedelta(minutes=9), reached_by_email=True), QUIET, 0, QUIET),
    (dict(due_at=NOW + timedelta(minutes=9), resolved=True), QUIET, 0, QUIET),
])
def test_when_the_customers_words_go(facts, quiet_until, texted, expected):
    assert words_go_at(Snapshot(**facts), quiet_until, texted, NOW) == expected


@pytest.mark.parametrize("facts", [OWED, REACHED, dict(due_at=NOW + timedelta(minutes=9), resolved=True)])
def test_words_naming_a_contact_go_at_once_whatever_the_bound(facts):
    """An outside probe (K1): the customer's tenth text while owed, a new callback number, was held to the deadline."""
    assert words_go_at(Snapshot(**facts), QUIET, AT_ONCE_WHILE_OWED + 4, NOW, contact=True) == NOW


@pytest.mark.parametrize("words, region, named", [
    ("URGENT: this phone is dying, please call me back on +1 212 555 0199 instead", "US", True),
    ("call me on 212 555 0199", "US", True),
    ("Bitte rufen Sie mich unter 030 1234567 an", "DE", True),
    ("call me on 030 1234567", None, False),  # no region: only a number with its +
    ("contact me at jon@acme-mail.example instead", "US", True),
    ("mail: <ops@example.com>.", "US", True),
    ("NO - 250000 mails deferred, see 479676", "US", False),  # a count and a reference are no numbers
    ("error 550 since 10:33 on 2026-12-07, any news?", "US", False),
    ("the @support account is locked", "US", False),
])
def test_what_names_a_contact(words, region, named):
    assert names_contact(words, region) is named
