"""One typed vocabulary for the event log: every kind the app writes or reads is an EventKind."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.dashboard.timeline import STEP_NAMES, WORDS
from app.event_kind import STEP_EVENT, EventKind
from app.models import StepKind
from app.services.events import log_event


def test_the_timeline_words_only_known_kinds():
    assert set(WORDS) <= {k.value for k in EventKind}
    assert set(STEP_NAMES) == set(STEP_EVENT.values())


def test_every_step_kind_has_its_own_event_kind():
    assert set(STEP_EVENT) == {k.value for k in StepKind}


def test_an_unknown_kind_is_refused_before_it_reaches_the_log():
    with pytest.raises(ValueError):
        log_event(None, at=None, actor="x", kind="acknowledgd")  # type: ignore[arg-type]


def test_no_kind_is_built_with_an_f_string():
    for path in [*Path("app").rglob("*.py"), *Path("workers").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "kind":
                assert not isinstance(node.value, ast.JoinedStr), f"{path}:{node.value.lineno} builds a kind"


@pytest.mark.parametrize(("outcome", "words"), [
    ("refused_needs_agreement", "Resolving refused: the customer's agreement is needed"),
    ("refused_no_verified_callback", "Resolving refused: no verified callback"),
])
def test_a_refused_resolution_reads_the_reason_it_was_logged_with(outcome, words):
    assert WORDS["resolve_refused"]({"via": "web", "outcome": outcome}, "") == (words, "muted")


def test_a_callback_that_never_reached_the_rep_says_the_customer_was_not_called():
    line, tone = WORDS["callback_rep_not_reached"]({"callback_id": 1, "why": "no-answer"}, "")
    assert line == "The rep was not reached (no-answer): the customer was not called" and tone == "bad"


def test_the_customer_update_schedule_reads_plainly_on_the_timeline():
    scheduled = {"interval_minutes": 60, "via": "default", "first_due_at": "2026-12-03T19:05:00+00:00"}
    assert WORDS["updates_scheduled"](scheduled, "") == (
        "Customer updates owed every 60 minutes; the first by Thu 03 Dec 19:05:00 UTC", "")
    moved = {"interval_minutes": 60, "first_due_at": "2026-12-03T19:45:00+00:00"}
    assert WORDS["updates_counted_from_call_end"](moved, "") == (
        "The call ended: the first customer update is owed by Thu 03 Dec 19:45:00 UTC", "muted")
    assert WORDS["updates_withdrawn"]({"round": 1}, "") == (
        "Customer updates stopped: the callback did not count; they start again when a callback is met", "muted")


def test_a_superseded_held_call_reads_as_not_sent_and_names_why():
    line, tone = WORDS["page_not_sent_superseded"]({"page_id": 1, "superseded_by": 2, "rep_id": 1}, "voice call to Al")
    assert line.startswith("Voice call to Al NOT sent: a later held call to the same rep rings instead") and tone == "muted"
    line, tone = WORDS["page_not_sent_superseded"]({"page_id": 1, "superseded_by": 2, "earlier_attempt":
                                                    "outcome_unknown"}, "voice call to Al")
    assert "not sent again" in line and "it may have been sent" in line and tone == "warn"


def test_a_round_superseded_by_a_later_one_reads_as_not_sent_and_names_the_later_page():
    later = {"page_id": 1, "superseded_by": 7, "rep_id": 1, "why": "later_round", "later_purpose": "breach"}
    line, tone = WORDS["page_not_sent_superseded"](later, "SMS at-risk alert to Al")
    assert line == ("SMS at-risk alert to Al NOT sent: the later breach alert to the same rep (page 7) goes instead, "
                    "with the state of now (one page per round, not every round at once)") and tone == "muted"
    line, tone = WORDS["page_not_sent_superseded"]({**later, "earlier_attempt": "outcome_unknown"}, "SMS page to Al")
    assert line.startswith("SMS page to Al not sent again: the later breach alert") and "may have been sent" in line
    assert tone == "warn"


# the event log is append-only: a line of each shape ever written reads as it did
SEND_FAILED = [
    ({"page_id": 1, "error": "OutcomeUnknown: HTTP 503", "attempt": 2, "final": False},
     "Sending SMS page to Al failed (attempt 2): OutcomeUnknown: HTTP 503; will retry"),
    ({"page_id": 1, "error": "Rejected: 21211", "attempt": 1, "final": True},
     "Sending SMS page to Al failed (attempt 1): Rejected: 21211; gave up"),
    ({"page_id": 1, "error": "x", "attempt": 1, "final": True, "status": "delivered"},
     "Sending SMS page to Al failed (attempt 1): x; gave up"),
    ({"page_id": 1, "error": "x"}, "Sending SMS page to Al failed (attempt None): x; will retry"),
    # since session 34 a long retry writes a line per failure_log.LOG_EVERY, counting the attempts since its last
    ({"page_id": 1, "error": "OutcomeUnknown: HTTP 503", "attempt": 112, "final": False,
      "failed_since_last_logged": 97, "last_logged_at": "2026-12-01T03:10:04+00:00"},
     "Sending SMS page to Al failed 97 more times since 03:10 UTC (attempt 112): OutcomeUnknown: HTTP 503; "
     "will retry"),
]


@pytest.mark.parametrize(("detail", "words"), SEND_FAILED)
def test_a_failed_send_reads_the_same_in_every_shape_it_was_ever_written(detail, words):
    assert WORDS["page_send_failed"](detail, "SMS page to Al") == (words, "bad")
