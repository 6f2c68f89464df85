"""The escalation core decides when the customer's updates become owed (policy step 5), as a table.

Only a customer reached (a person answered, met or late; e-mail contact recorded) or the rep's word that they
were (CALLED) starts them, and never on a resolved incident; nothing else does, so no second schedule starts.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from app.escalation import (
    Acknowledge,
    CallbackAnswered,
    CallbackUnanswered,
    Connect,
    ReachedByEmail,
    Resolve,
    SelfReported,
    StepDue,
    decide,
)
from tests.unit.test_escalation_core import ALICE, DUE, STATES, T0

CASES = [
    # (trigger, state, updates owed from now)
    (CallbackAnswered(DUE, by_person=True), "callback_in_progress", True),  # met
    (CallbackAnswered(DUE + timedelta(minutes=1), by_person=True), "callback_in_progress", True),  # late
    (CallbackAnswered(DUE, by_person=True), "attempted", True),  # a second try reached a person
    (CallbackAnswered(DUE, by_person=False), "callback_in_progress", False),  # a voicemail reached nobody
    (CallbackAnswered(DUE, by_person=True), "met", False),  # already answered: its schedule runs
    (CallbackUnanswered(), "callback_in_progress", False),
    (CallbackUnanswered(voicemail=True), "callback_in_progress", False),
    (SelfReported(ALICE), "acknowledged", True),  # the chase stops on the rep's word
    (SelfReported(ALICE), "self_reported", False),  # stored once
    (SelfReported(ALICE), "resolved", False),
    (ReachedByEmail(ALICE), "no_callback_number", True),
    (ReachedByEmail(ALICE), "no_number_reached_by_email", False),
    (ReachedByEmail(ALICE), "acknowledged", False),  # a number means the promise is a call
    (Acknowledge(ALICE), "open", False),
    (Connect(ALICE), "acknowledged", False),
    (Resolve(by_manager=True, reason="done"), "met", False),
    (StepDue("breach"), "met", False),
]


@pytest.mark.parametrize(("trigger", "state", "owed"), CASES, ids=[f"{type(t).__name__}-{s}" for t, s, _ in CASES])
def test_updates_become_owed_only_when_the_customer_was_reached(trigger, state, owed):
    assert decide(trigger, STATES[state], T0).start_updates is owed


def test_an_answer_on_a_resolved_incident_counts_but_owes_no_updates():
    resolved = replace(STATES["callback_in_progress"], resolved=True)
    decision = decide(CallbackAnswered(DUE, by_person=True), resolved, T0)
    assert decision.outcome == "met" and not decision.start_updates
