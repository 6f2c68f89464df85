"""The compliance report's arithmetic against a hand-written event log (no database, no clock).

Six incidents captured in the week of Mon 2026-11-23 (UTC), one per outcome:

    MET1     acknowledged, called back, answered after 5:30                -> met
    LATE1    acknowledged at 5 min, callback placed at 16 min, answered 20 min -> late, "acknowledged but called late"
    RETRY1   first callback not answered, second answered after 6:40        -> met (the attempt does not count against it)
    UNREACH1 acknowledged, callback placed at 2 min, never answered         -> attempted, "customer unreachable"
    SELF1    acknowledged, the rep self-reports a call at 8 min             -> self-reported, breached,
             reason "self-reported call only (unverified)": a self-report is a claim, not a placed call
    NOACK1   nobody acknowledged, nothing happened                          -> no callback, "nobody acknowledged"
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.reports.compliance import compliance_report
from app.reports.facts import BreachReason, IncidentFacts, LoggedEvent, MissingOpening, Outcome
from app.reports.stats import nearest_rank, percent

REPS = {1: "Alice", 2: "Bob"}
WEEK = (date(2026, 11, 23), date(2026, 11, 30))  # Mon .. next Mon (excluded)


def t(text: str) -> datetime:
    """A UTC instant written as 'YYYY-MM-DD HH:MM[:SS]'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


LOGS: dict[str, list[LoggedEvent]] = {
    "MET1": [
        LoggedEvent("incident_opened", t("2026-11-23 10:00"), "ivr",
                    {"reference": "MET1", "callback_due_at": "2026-11-23T10:15:00+00:00"}),
        LoggedEvent("page_sent", t("2026-11-23 10:00:05"), "twilio",
                    {"page_id": 1, "to": "+4915100000001", "role": "primary", "channel": "sms", "purpose": "page"}),
        LoggedEvent("acknowledged", t("2026-11-23 10:02"), "Alice", {"rep_id": 1, "via": "sms"}),
        LoggedEvent("callback_requested", t("2026-11-23 10:03"), "rep", {"callback_id": 1, "rep_id": 1}),
        LoggedEvent("callback_met", t("2026-11-23 10:05:31"), "twilio",
                    {"callback_id": 1, "answered_at": "2026-11-23T10:05:30+00:00", "seconds_after_capture": 330.0}),
    ],
    "LATE1": [
        LoggedEvent("incident_opened", t("2026-11-24 14:00"), "ivr",
                    {"reference": "LATE1", "callback_due_at": "2026-11-24T14:15:00+00:00"}),
        LoggedEvent("acknowledged", t("2026-11-24 14:05"), "Bob", {"rep_id": 2, "via": "voice"}),
        LoggedEvent("callback_breached", t("2026-11-24 14:15"), "system",
                    {"due_at": "2026-11-24T14:15:00+00:00", "acknowledged": True, "callback_started": False}),
        LoggedEvent("callback_requested", t("2026-11-24 14:16"), "rep", {"callback_id": 2, "rep_id": 2}),
        LoggedEvent("callback_late", t("2026-11-24 14:20:01"), "twilio",
                    {"callback_id": 2, "answered_at": "2026-11-24T14:20:00+00:00", "seconds_after_capture": 1200.0}),
    ],
    "RETRY1": [
        LoggedEvent("incident_opened", t("2026-11-25 09:30"), "ivr",
                    {"reference": "RETRY1", "callback_due_at": "2026-11-25T09:45:00+00:00"}),
        LoggedEvent("acknowledged", t("2026-11-25 09:31"), "Alice", {"rep_id": 1, "via": "web"}),
        LoggedEvent("callback_requested", t("2026-11-25 09:32"), "rep", {"callback_id": 3, "rep_id": 1}),
        LoggedEvent("callback_attempted", t("2026-11-25 09:33"), "twilio", {"callback_id": 3, "status": "no-answer"}),
        LoggedEvent("callback_requested", t("2026-11-25 09:35"), "rep", {"callback_id": 4, "rep_id": 1}),
        LoggedEvent("callback_met", t("2026-11-25 09:36:41"), "twilio",
                    {"callback_id": 4, "answered_at": "2026-11-25T09:36:40+00:00", "seconds_after_capture": 400.0}),
    ],
    "UNREACH1": [
        LoggedEvent("incident_opened", t("2026-11-26 22:00"), "ivr",
                    {"reference": "UNREACH1", "callback_due_at": "2026-11-26T22:15:00+00:00"}),
        LoggedEvent("acknowledged", t("2026-11-26 22:01"), "Bob", {"rep_id": 2, "via": "sms"}),
        LoggedEvent("callback_requested", t("2026-11-26 22:02"), "rep", {"callback_id": 5, "rep_id": 2}),
        LoggedEvent("callback_attempted", t("2026-11-26 22:03"), "twilio", {"callback_id": 5, "status": "busy"}),
        LoggedEvent("callback_breached", t("2026-11-26 22:15"), "system",
                    {"due_at": "2026-11-26T22:15:00+00:00", "acknowledged": True, "callback_started": True}),
    ],
    "SELF1": [
        LoggedEvent("incident_opened", t("2026-11-27 03:00"), "ivr",
                    {"reference": "SELF1", "callback_due_at": "2026-11-27T03:15:00+00:00"}),
        LoggedEvent("acknowledged", t("2026-11-27 03:04"), "Bob", {"rep_id": 2, "via": "sms"}),
        LoggedEvent("callback_breached", t("2026-11-27 03:15"), "system",
                    {"due_at": "2026-11-27T03:15:00+00:00", "acknowledged": True, "callback_started": False}),
        LoggedEvent("callback_self_reported", t("2026-11-27 03:20"), "Bob",
                    {"callback_id": 6, "called_at": "2026-11-27T03:08:00+00:00", "note": "from my mobile"}),
    ],
    "NOACK1": [
        LoggedEvent("incident_opened", t("2026-11-28 23:50"), "ivr",
                    {"reference": "NOACK1", "callback_due_at": "2026-11-29T00:05:00+00:00"}),
        LoggedEvent("callback_breached", t("2026-11-29 00:05"), "system",
                    {"due_at": "2026-11-29T00:05:00+00:00", "acknowledged": False, "callback_started": False}),
    ],
    # outside the week: the Sunday before, and the Monday the range ends on (excluded)
    "BEFORE": [LoggedEvent("incident_opened", t("2026-11-22 23:59:59"), "ivr",
                           {"reference": "BEFORE", "callback_due_at": "2026-11-23T00:14:59+00:00"})],
    "AFTER": [LoggedEvent("incident_opened", t("2026-11-30 00:00"), "ivr",
                          {"reference": "AFTER", "callback_due_at": "2026-11-30T00:15:00+00:00"})],
}


@pytest.fixture(scope="module")
def report():
    facts = [IncidentFacts.from_events(events) for events in LOGS.values()]
    return compliance_report(facts, *WEEK, "UTC", rep_names=REPS)


def test_counts_and_percentages(report):
    assert report.total == 6
    assert [(r.key, r.count, r.percent) for r in report.outcomes] == [
        ("met", 2, 33.3),
        ("late", 1, 16.7),
        ("self_reported", 1, 16.7),
        ("worked_by_email", 0, 0.0),
        ("pending", 0, 0.0),
        ("attempted", 1, 16.7),
        ("no_callback", 1, 16.7),
    ]
    assert (report.breached.count, report.breached.percent) == (4, 66.7)
    assert (report.open.count, report.open.percent) == (0, 0.0)


def test_self_reported_is_never_met(report):
    self1 = next(line for line in report.lines if line.reference == "SELF1")
    assert self1.outcome == Outcome.SELF_REPORTED
    assert self1.breached is True
    assert report.count("met") == 2  # MET1 and RETRY1 only


def test_time_to_callback_nearest_rank(report):
    spread = report.time_to_callback
    # samples 330 (MET1), 400 (RETRY1), 1200 (LATE1); self-reported and unanswered have none
    assert (spread.count, spread.median, spread.p90, spread.p99, spread.maximum) == (3, 400.0, 1200.0, 1200.0, 1200.0)


def test_breach_reasons(report):
    assert {line.reference: line.reason for line in report.breaches} == {
        "LATE1": BreachReason.CALLED_LATE,
        "UNREACH1": BreachReason.UNREACHABLE,
        "SELF1": BreachReason.SELF_REPORTED_ONLY,
        "NOACK1": BreachReason.NOBODY_ACKNOWLEDGED,
    }
    assert [(r.label, r.count, r.percent) for r in report.reasons] == [
        ("no callback number, worked by e-mail", 0, 0.0),
        ("callback too short to count", 0, 0.0),
        ("customer unreachable", 1, 25.0),
        ("reached late, on a related incident", 0, 0.0),
        ("nobody paged by the deadline", 0, 0.0),
        ("nobody acknowledged", 1, 25.0),
        ("self-reported call only (unverified)", 1, 25.0),
        ("call to the customer failed", 0, 0.0),
        ("hotline could not reach the rep", 0, 0.0),
        ("acknowledged but called late", 1, 25.0),
        ("acknowledged, no callback attempted", 0, 0.0),
    ]


def test_per_rep(report):
    assert [vars(r) for r in report.reps] == [
        {"name": "Alice", "acknowledged": 2, "met": 2, "late": 0, "attempted": 0, "self_reported": 0},
        {"name": "Bob", "acknowledged": 3, "met": 0, "late": 1, "attempted": 1, "self_reported": 1},
    ]


def test_per_hour_of_week_in_utc(report):
    busy = {b.index: (b.weekday, b.hour, b.incidents, b.met, b.breached) for b in report.hours if b.incidents}
    assert len(report.hours) == 168
    assert busy == {
        10: ("Mon", 10, 1, 1, 0),
        38: ("Tue", 14, 1, 0, 1),
        57: ("Wed", 9, 1, 1, 0),
        94: ("Thu", 22, 1, 0, 1),
        99: ("Fri", 3, 1, 0, 1),
        143: ("Sat", 23, 1, 0, 1),
    }


def test_the_same_log_in_berlin_moves_the_saturday_night_incident_to_sunday():
    facts = [IncidentFacts.from_events(events) for events in LOGS.values()]
    berlin = compliance_report(facts, *WEEK, "Europe/Berlin", rep_names=REPS)
    assert berlin.starts_at == t("2026-11-22 23:00")  # CET midnight
    assert berlin.total == 7  # BEFORE (Mon 00:59:59 CET) is in, NOACK1 (Sun 00:50 CET) still in
    busy = {b.index: b.incidents for b in berlin.hours if b.incidents}
    assert busy == {0: 1, 11: 1, 39: 1, 58: 1, 95: 1, 100: 1, 144: 1}


def test_an_empty_range_gives_zeros():
    facts = [IncidentFacts.from_events(events) for events in LOGS.values()]
    for report in (compliance_report([], *WEEK, "UTC"),
                   compliance_report(facts, date(2027, 1, 4), date(2027, 1, 11), "Europe/Berlin")):
        assert report.total == 0
        assert all((r.count, r.percent) == (0, 0.0) for r in report.outcomes)
        assert (report.breached.count, report.breached.percent) == (0, 0.0)
        assert all((r.count, r.percent) == (0, 0.0) for r in report.reasons)
        spread = report.time_to_callback
        assert (spread.count, spread.median, spread.p90, spread.p99, spread.maximum) == (0, None, None, None, None)
        assert report.reps == ()
        assert sum(b.incidents for b in report.hours) == 0 and len(report.hours) == 168


def test_a_range_across_the_october_dst_change_in_berlin():
    """2026-10-25 lasts 25 hours in Berlin; the hour 02:00-02:59 happens twice, both in Sun 02."""

    def opened(ref: str, at: str) -> IncidentFacts:
        due = t(at) + timedelta(minutes=15)
        return IncidentFacts.from_events([LoggedEvent("incident_opened", t(at), "ivr",
                                                      {"reference": ref, "callback_due_at": due.isoformat()})])

    facts = [
        opened("SAT2359", "2026-10-24 21:59"),  # Sat 23:59 CEST: the day before
        opened("SUN0000", "2026-10-24 22:00"),  # Sun 00:00 CEST
        opened("SUN0230A", "2026-10-25 00:30"),  # Sun 02:30 CEST (first time)
        opened("SUN0230B", "2026-10-25 01:30"),  # Sun 02:30 CET (second time)
        opened("SUN2359", "2026-10-25 22:59"),  # Sun 23:59 CET
        opened("MON0000", "2026-10-25 23:00"),  # Mon 00:00 CET: the range's end, excluded
    ]
    report = compliance_report(facts, date(2026, 10, 25), date(2026, 10, 26), "Europe/Berlin")
    assert (report.starts_at, report.ends_at) == (t("2026-10-24 22:00"), t("2026-10-25 23:00"))
    assert report.range_hours == 25
    assert [line.reference for line in report.lines] == ["SUN0000", "SUN0230A", "SUN0230B", "SUN2359"]
    assert {b.index: b.incidents for b in report.hours if b.incidents} == {144: 1, 146: 2, 167: 1}
    spring = compliance_report(facts, date(2026, 3, 29), date(2026, 3, 30), "Europe/Berlin")
    assert spring.range_hours == 23


def test_a_deadline_not_yet_passed_is_neither_kept_nor_broken():
    facts = IncidentFacts.from_events(LOGS["NOACK1"][:1])  # no breach line yet
    before = compliance_report([facts], *WEEK, "UTC", as_of=t("2026-11-29 00:04"))
    after = compliance_report([facts], *WEEK, "UTC", as_of=t("2026-11-29 00:06"))
    assert (before.breached.count, before.open.count, before.breaches) == (0, 1, ())
    assert (after.breached.count, after.open.count) == (1, 0)
    assert after.breaches[0].reason == BreachReason.NOBODY_ACKNOWLEDGED


@pytest.mark.parametrize(("paged", "acknowledged", "reason"), [
    (None, False, BreachReason.NOBODY_ACKNOWLEDGED),  # a breach line written before it said: read as before
    (True, False, BreachReason.NOBODY_ACKNOWLEDGED),
    (False, False, BreachReason.NOBODY_PAGED),
    (False, True, BreachReason.NO_CALLBACK_ATTEMPTED),  # acknowledged unpaged (the board) in time: theirs to call
])
def test_a_breach_line_saying_nobody_was_paged_by_the_deadline_gives_its_own_reason(paged, acknowledged, reason):
    opened, breach = LOGS["NOACK1"]
    said = {} if paged is None else {"paged_by_deadline": paged}
    lines = [opened, LoggedEvent(breach.kind, breach.at, breach.actor, {**breach.detail, **said})]
    if acknowledged:
        lines.append(LoggedEvent("acknowledged", t("2026-11-28 23:55"), "Alice", {"rep_id": 1}))
    assert IncidentFacts.from_events(lines).breach_reason() == reason


def test_facts_do_not_depend_on_the_order_of_the_lines():
    shuffled = list(reversed(LOGS["RETRY1"]))
    facts = IncidentFacts.from_events(shuffled)
    assert facts == IncidentFacts.from_events(LOGS["RETRY1"])
    assert (facts.outcome, facts.seconds_to_callback, facts.acknowledged_rep_id) == (Outcome.MET, 400.0, 1)


def test_a_log_without_its_opening_line_is_refused():
    with pytest.raises(MissingOpening):
        IncidentFacts.from_events(LOGS["MET1"][1:])


def test_nearest_rank_picks_an_observed_value():
    values = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]
    assert [nearest_rank(values, p) for p in (50, 90, 99, 100)] == [5, 9, 10, 10]  # linear interpolation: 5.5, 9.1
    assert nearest_rank([42], 50) == 42
    assert nearest_rank([], 50) is None
    assert (percent(1, 3), percent(2, 3), percent(0, 0)) == (33.3, 66.7, 0.0)


def test_a_percentage_half_way_between_two_tenths_rounds_up_as_a_manager_recomputing_it_would():
    """1 breach of 16 incidents is 6.25 %: the report said 6.2 (Python's round goes to the even tenth), a
    spreadsheet's ROUND and a calculator say 6.3. Exactly half way rounds up, from the exact fraction."""
    assert [percent(1, 16), percent(3, 16), percent(5, 16), percent(1, 80), percent(1, 160)] == \
        [6.3, 18.8, 31.3, 1.3, 0.6]
    assert [percent(7, 200), percent(16, 16), percent(1, 7)] == [3.5, 100.0, 14.3]


def test_a_range_must_move_forward():
    with pytest.raises(ValueError):
        compliance_report([], date(2026, 11, 30), date(2026, 11, 23), "UTC")


def test_an_incident_worked_by_email_is_counted_separately_never_met():
    opened = LoggedEvent("incident_opened", t("2026-11-27 03:00"), "system",
                         {"reference": "R9MAIL", "callback_due_at": t("2026-11-27 03:15").isoformat()})
    reached = LoggedEvent("reached_by_email", t("2026-11-27 03:20"), "Alice", {"rep_id": 1})
    facts = IncidentFacts.from_events([opened, reached])
    assert facts.outcome == Outcome.WORKED_BY_EMAIL and facts.deciding_callback is None
    assert facts.breached()  # the 15-minute promise is about a call; e-mail contact does not meet it
    assert facts.breach_reason() == BreachReason.NO_CALLBACK_NUMBER  # not "no callback attempted": nothing to call


def _rep_leg_log(*ended: LoggedEvent) -> list[LoggedEvent]:
    return [LoggedEvent("incident_opened", t("2026-11-26 22:00"), "ivr",
                        {"reference": "REPLEG", "callback_due_at": "2026-11-26T22:15:00+00:00"}),
            LoggedEvent("acknowledged", t("2026-11-26 22:01"), "Alice", {"rep_id": 1, "via": "sms"}),
            LoggedEvent("callback_requested", t("2026-11-26 22:03"), "rep", {"callback_id": 7, "rep_id": 1}),
            *ended]


@pytest.mark.parametrize("ended", [
    # the rep's phone rang out, or a machine took it (this release logs the consequence)
    (LoggedEvent("callback_rep_leg_status", t("2026-11-26 22:04"), "twilio", {"callback_id": 7, "status": "no-answer"}),
     LoggedEvent("callback_rep_not_reached", t("2026-11-26 22:04"), "twilio",
                 {"callback_id": 7, "rep_id": 1, "why": "no-answer", "outcome": "rep_not_reached"})),
    # Twilio refused the call to the rep: a line an earlier release wrote, read the same way now
    (LoggedEvent("callback_rep_call_failed", t("2026-11-26 22:03"), "twilio",
                 {"callback_id": 7, "error": "Rejected: 400", "final": True}),),
], ids=["unanswered", "refused_by_twilio"])
def test_a_callback_that_never_reached_the_rep_is_no_attempt_on_the_customer(ended):
    facts = IncidentFacts.from_events(_rep_leg_log(*ended))
    assert facts.outcome == Outcome.NO_CALLBACK and facts.deciding_callback is None  # nobody credited an attempt
    assert facts.breached() and facts.breach_reason() == BreachReason.REP_NOT_REACHED  # never "customer unreachable"


def _customer_leg(status: str, minute: int = 4, callback_id: int = 7, **detail) -> LoggedEvent:
    return LoggedEvent("callback_attempted", t(f"2026-11-26 22:{minute:02d}"), "twilio",
                       {"callback_id": callback_id, "status": status, "voicemail": False, **detail})


def _moved(minute: int) -> tuple[LoggedEvent, LoggedEvent]:
    """Twilio refused the call to the rep (its final failure line), and the callback's call moved to the rep's other
    number (``callbacks.mark_rep_not_reached``), both at 22:``minute``, in the order the hotline logs them."""
    return (LoggedEvent("callback_rep_call_failed", t(f"2026-11-26 22:{minute:02d}"), "twilio",
                        {"callback_id": 7, "error": "Rejected: 400 (code 21215)", "final": True}),
            LoggedEvent("callback_rep_other_number", t(f"2026-11-26 22:{minute:02d}"), "twilio",
                        {"callback_id": 7, "rep_id": 1, "why": "call_failed", "outcome": "calling_other_number"}))


def _answer(kind: str, at: str) -> LoggedEvent:
    return LoggedEvent(kind, t(f"2026-11-26 {at}"), "twilio",
                       {"callback_id": 7, "answered_at": f"2026-11-26T{at}+00:00", "seconds_after_capture": 0.0})


@pytest.mark.parametrize(("requested", "then", "outcome", "reason"), [
    (3, (_answer("callback_met", "22:04:30"),), Outcome.MET, None),
    (16, (_answer("callback_late", "22:17:30"),), Outcome.LATE, BreachReason.CALLED_LATE),
    (16, (_customer_leg("no-answer", minute=17),), Outcome.ATTEMPTED, BreachReason.CALLED_LATE),
    # the other number's call fails too: now the rep was not reached
    (3, (LoggedEvent("callback_rep_call_failed", t("2026-11-26 22:04"), "twilio",
                     {"callback_id": 7, "error": "Rejected: 400 (code 21215)", "final": True}),
         LoggedEvent("callback_rep_not_reached", t("2026-11-26 22:04"), "twilio",
                     {"callback_id": 7, "rep_id": 1, "why": "call_failed", "outcome": "rep_not_reached"})),
     Outcome.NO_CALLBACK, BreachReason.REP_NOT_REACHED),
], ids=["met", "late", "attempted_late", "other_number_refused_too"])
def test_a_refused_rep_call_moved_to_the_other_number_is_judged_by_that_call(requested, then, outcome, reason):
    """Probe QB: the refused call's final failure line is not the callback's end once its call moved to the rep's
    other number: the report says what that call came to (met, late, attempted), never "hotline could not reach the
    rep" of a callback that reached the rep and rang the customer."""
    asked = LoggedEvent("callback_requested", t(f"2026-11-26 22:{requested:02d}"), "rep",
                        {"callback_id": 7, "rep_id": 1})
    log = _rep_leg_log()[:2] + [asked, *_moved(requested), *then]
    facts = IncidentFacts.from_events(log)
    [callback] = facts.callbacks
    assert facts.outcome == outcome and facts.breach_reason() == reason
    assert (callback.rep_not_reached_at is None) == (outcome != Outcome.NO_CALLBACK)


@pytest.mark.parametrize("status", ["failed", "canceled"])
def test_a_call_to_the_customer_twilio_could_not_place_is_not_customer_unreachable(status):
    """An invalid number, a carrier refusal, a leg canceled before it was placed: the customer's phone never rang."""
    facts = IncidentFacts.from_events(_rep_leg_log(_customer_leg(status)))
    assert facts.outcome == Outcome.NO_CALLBACK and facts.deciding_callback is None  # no attempt to credit
    assert facts.breached() and facts.breach_reason() == BreachReason.CALL_NOT_PLACED


@pytest.mark.parametrize("line", [
    _customer_leg("no-answer"), _customer_leg("busy"), _customer_leg("completed", voicemail=True),
    # a line without a status (as an older release may have written it) is read as before: it rang
    LoggedEvent("callback_attempted", t("2026-11-26 22:04"), "twilio", {"callback_id": 7}),
], ids=["no-answer", "busy", "voicemail", "no-status"])
def test_a_call_that_rang_the_customer_unanswered_is_still_customer_unreachable(line):
    facts = IncidentFacts.from_events(_rep_leg_log(line))
    assert facts.outcome == Outcome.ATTEMPTED and facts.breach_reason() == BreachReason.UNREACHABLE


def test_a_failed_leg_then_one_that_rang_unanswered_in_time_is_customer_unreachable():
    again = LoggedEvent("callback_requested", t("2026-11-26 22:06"), "rep", {"callback_id": 8, "rep_id": 1})
    facts = IncidentFacts.from_events(_rep_leg_log(_customer_leg("failed"), again,
                                                   _customer_leg("no-answer", minute=7, callback_id=8)))
    assert facts.outcome == Outcome.ATTEMPTED and facts.breach_reason() == BreachReason.UNREACHABLE


def _late_ring(*between: LoggedEvent, rep_answered: str = "22:15:06") -> IncidentFacts:
    """A CALL at 22:14:56, 4 s before the deadline; the rep answers the hotline's call at 22:15:06 and the customer's
    leg, dialled then, rings out at 22:15:36."""
    return IncidentFacts.from_events([
        LoggedEvent("incident_opened", t("2026-11-26 22:00"), "ivr",
                    {"reference": "LATERING", "callback_due_at": "2026-11-26T22:15:00+00:00"}),
        LoggedEvent("acknowledged", t("2026-11-26 22:14:56"), "Bob", {"rep_id": 2, "via": "sms"}),
        LoggedEvent("callback_requested", t("2026-11-26 22:14:56"), "rep", {"callback_id": 9, "rep_id": 2}),
        LoggedEvent("callback_breached", t("2026-11-26 22:15:01"), "system",
                    {"due_at": "2026-11-26T22:15:00+00:00", "acknowledged": True, "callback_started": True}),
        LoggedEvent("callback_rep_leg_status", t(f"2026-11-26 {rep_answered}"), "twilio",
                    {"callback_id": 9, "status": "in-progress"}),
        *between,
        LoggedEvent("callback_leg_status", t("2026-11-26 22:15:36"), "twilio",
                    {"callback_id": 9, "status": "no-answer", "timestamp": "2026-11-26T22:15:36+00:00"}),
        LoggedEvent("callback_attempted", t("2026-11-26 22:15:36"), "twilio",
                    {"callback_id": 9, "status": "no-answer", "voicemail": False}),
    ])


def test_a_call_asked_for_before_the_deadline_that_rang_the_customer_only_after_it_is_called_late():
    # a probe saw "customer unreachable" for a CALL sent 4 s before the deadline: the customer's phone could not
    # ring before the rep answered the hotline's call, after the deadline; the report blamed the customer
    facts = _late_ring(LoggedEvent("callback_leg_status", t("2026-11-26 22:15:08"), "twilio",
                                   {"callback_id": 9, "status": "ringing", "timestamp": "2026-11-26T22:15:08+00:00"}))
    assert facts.outcome == Outcome.ATTEMPTED and facts.breach_reason() == BreachReason.CALLED_LATE
    assert _late_ring().breach_reason() == BreachReason.CALLED_LATE  # no word of the ring at all: no proof either


def test_a_customer_phone_twilio_said_was_ringing_by_the_deadline_unanswered_is_customer_unreachable():
    ringing = LoggedEvent("callback_leg_status", t("2026-11-26 22:14:59"), "twilio",
                          {"callback_id": 9, "status": "ringing", "timestamp": "2026-11-26T22:14:59+00:00"})
    assert _late_ring(ringing, rep_answered="22:14:58").breach_reason() == BreachReason.UNREACHABLE


def test_a_failed_leg_and_a_missed_rep_leg_say_the_call_to_the_customer_failed():
    again = LoggedEvent("callback_requested", t("2026-11-26 22:06"), "rep", {"callback_id": 8, "rep_id": 1})
    missed = LoggedEvent("callback_rep_not_reached", t("2026-11-26 22:07"), "twilio", {"callback_id": 8, "why": "busy"})
    facts = IncidentFacts.from_events(_rep_leg_log(_customer_leg("failed"), again, missed))
    assert facts.outcome == Outcome.NO_CALLBACK and facts.breach_reason() == BreachReason.CALL_NOT_PLACED


def test_a_breach_line_of_the_provisional_deadline_before_the_details_were_in_is_no_breach():
    """Opened mid-call (issue 13) at 22:00, the intake went on past 22:15 (the opening's provisional deadline,
    whose breach step ran), the details were in at 22:17: the promise runs to 22:32."""
    log = [LoggedEvent("incident_opened", t("2026-11-26 22:00"), "ivr",
                       {"reference": "LONG", "callback_due_at": "2026-11-26T22:15:00+00:00"}),
           LoggedEvent("callback_breached", t("2026-11-26 22:15"), "system", {"due_at": "2026-11-26T22:15:00+00:00"}),
           LoggedEvent("deadline_set", t("2026-11-26 22:17"), "ivr",
                       {"captured_at": "2026-11-26T22:17:00+00:00", "callback_due_at": "2026-11-26T22:32:00+00:00"}),
           LoggedEvent("acknowledged", t("2026-11-26 22:18"), "Alice", {"rep_id": 1, "via": "sms"})]
    facts = IncidentFacts.from_events(log)
    assert (facts.due_at, facts.breach_logged_at) == (t("2026-11-26 22:32"), None)
    assert not facts.breached(as_of=t("2026-11-26 22:25"))  # a report pinned before the deadline that counts
    assert facts.breached(as_of=t("2026-11-26 22:33"))  # and after it, as for any deadline passed
    breached_again = LoggedEvent("callback_breached", t("2026-11-26 22:32"), "system", {})
    assert IncidentFacts.from_events([*log, breached_again]).breach_logged_at == t("2026-11-26 22:32")


def test_a_retry_that_reached_the_rep_after_a_missed_one_is_judged_on_the_retry():
    missed = LoggedEvent("callback_rep_not_reached", t("2026-11-26 22:04"), "twilio", {"callback_id": 7, "why": "busy"})
    retry = [LoggedEvent("callback_requested", t("2026-11-26 22:20"), "rep", {"callback_id": 8, "rep_id": 1}),
             LoggedEvent("callback_late", t("2026-11-26 22:21"), "twilio",
                         {"callback_id": 8, "answered_at": "2026-11-26T22:21:00+00:00"})]
    facts = IncidentFacts.from_events(_rep_leg_log(missed, *retry))
    assert facts.outcome == Outcome.LATE and facts.breach_reason() == BreachReason.CALLED_LATE


def test_a_callback_answered_at_15_00_exactly_is_in_the_last_met_minute_not_the_late_bin():
    """Met is answered <= due: the chart's late bin ("over 15 min") holds only what was late."""
    from types import SimpleNamespace

    from app.reports.charts import times_text
    from app.reports.compliance import BIN_MINUTES, minute_bins

    bins = minute_bins([(59.9, 1), (60.0, 1), (899.6, 1), (900.0, 2), (900.4, 1), (3600.0, 1)])
    assert (bins[0], bins[1], bins[BIN_MINUTES - 1], bins[BIN_MINUTES]) == (1, 1, 3, 2) and sum(bins) == 7
    assert times_text(SimpleNamespace(callback_minutes=bins, sla_minutes=BIN_MINUTES)) == (
        "7 answered callbacks: 1 in minute 0–1, 1 in minute 1–2, 3 in minute 14–15; 2 after more than 15 minutes.")
    # a 6-minute promise (CALLBACK_SLA_MINUTES=6): a callback at 6:34 is late, one at 6:00 exactly is kept
    six = minute_bins([(394.0, 1), (360.0, 1)], 6)
    assert six == (0, 0, 0, 0, 0, 1, 1)
    # a time stored before session 43 from a Twilio Timestamp earlier than the capture (an outside probe's -1188 s
    # failed the report for every range holding it): the first bin, never an error
    assert minute_bins([(-1188.3, 1), (-0.5, 1), (30.0, 1)])[0] == 3
    assert times_text(SimpleNamespace(callback_minutes=six, sla_minutes=6)) == (
        "2 answered callbacks: 1 in minute 5–6; 1 after more than 6 minutes.")


@pytest.mark.parametrize(("after", "seconds", "outcome"), [
    (timedelta(seconds=900), 900.0, Outcome.MET),  # at the deadline exactly: kept
    (timedelta(seconds=899, microseconds=960_000), 900.0, Outcome.MET),  # a tenth up, still not past 900
    (timedelta(seconds=900, microseconds=40_000), 900.1, Outcome.LATE),  # 40 ms late: never 900.0
    (timedelta(seconds=899, microseconds=700_000), 899.7, Outcome.MET),  # exact tenths stay as they are
    (timedelta(seconds=330), 330.0, Outcome.MET),
])
def test_time_to_callback_is_rounded_up_so_a_late_answer_always_reads_past_the_deadline(after, seconds, outcome):
    captured = t("2026-11-23 10:00") + timedelta(microseconds=960_000)
    answered = captured + after
    facts = IncidentFacts.from_events([
        LoggedEvent("incident_opened", captured, "ivr",
                    {"reference": "R", "callback_due_at": (captured + timedelta(minutes=15)).isoformat()}),
        LoggedEvent("callback_met" if outcome == Outcome.MET else "callback_late", answered, "twilio",
                    {"callback_id": 1, "answered_at": answered.isoformat()}),
    ])
    assert (facts.outcome, facts.seconds_to_callback) == (outcome, seconds)
    assert (seconds > 900) == (outcome == Outcome.LATE)


@pytest.mark.parametrize(("answered", "withdrawn", "reason"), [
    # answered in time: the customer was reached, so neither "customer unreachable" (a probe's 4-second call read
    # so) nor "called late"
    ("22:04:00", "22:04:05", BreachReason.TOO_SHORT),
    ("22:14:58", "22:15:03", BreachReason.TOO_SHORT),  # answered in time, withdrawn after the deadline
    ("22:16:00", "22:16:05", BreachReason.CALLED_LATE),  # answered after the deadline: called late
])
def test_an_answer_withdrawn_as_too_short_leaves_an_attempt_by_its_rep(answered, withdrawn, reason):
    """Incident 616353 (probe): the customer pressed the key and hung up 3 s later, the answer is withdrawn
    (``bridge_too_short``): the callback is only attempted, as its row and the API say, credited to its rep."""
    detail = {"callback_id": 7, "answered_at": f"2026-11-26T{answered}+00:00"}
    facts = IncidentFacts.from_events(_rep_leg_log(
        LoggedEvent("callback_met", t(f"2026-11-26 {answered}"), "twilio", {**detail, "outcome": "met"}),
        LoggedEvent("callback_withdrawn", t(f"2026-11-26 {withdrawn}"), "twilio",
                    {**detail, "why": "bridge_too_short", "dial_seconds": "3", "dial_bridged": "true",
                     "outcome": "answer_withdrawn"})))
    assert (facts.outcome, facts.answered_at) == (Outcome.ATTEMPTED, None)
    assert facts.deciding_callback is not None and facts.deciding_callback.rep_id == 1
    assert facts.breach_reason(t("2026-11-26 22:10")) is None  # the deadline 22:15 has not passed: owed still
    assert facts.breach_reason(t("2026-11-26 22:30")) == reason


def test_a_short_callback_in_time_outranks_a_call_that_rang_unanswered():
    """The customer answered one callback in time (too briefly to count), then missed the next: they were reached,
    the reason is the short call, not "customer unreachable"."""
    detail = {"callback_id": 7, "answered_at": "2026-11-26T22:04:00+00:00"}
    again = LoggedEvent("callback_requested", t("2026-11-26 22:06"), "rep", {"callback_id": 8, "rep_id": 1})
    facts = IncidentFacts.from_events(_rep_leg_log(
        LoggedEvent("callback_met", t("2026-11-26 22:04"), "twilio", {**detail, "outcome": "met"}),
        LoggedEvent("callback_withdrawn", t("2026-11-26 22:04:04"), "twilio",
                    {**detail, "why": "bridge_too_short", "dial_seconds": "4", "outcome": "answer_withdrawn"}),
        again, _customer_leg("no-answer", minute=7, callback_id=8)))
    assert facts.outcome == Outcome.ATTEMPTED and facts.breach_reason() == BreachReason.TOO_SHORT
    unanswered_only = IncidentFacts.from_events(_rep_leg_log(again, _customer_leg("no-answer", minute=7, callback_id=8)))
    assert unanswered_only.breach_reason() == BreachReason.UNREACHABLE


def test_a_live_answer_withdrawn_by_twilios_end_reports_does_not_count_a_later_answer_does():
    """Issue 13: a live connect counted at the bridge, then withdrawn (the caller's line dropped before it): the
    report reads the log as the rows say, no answer from that callback; the dial-back's answer is the one."""
    live = {"callback_id": 7, "answered_at": "2026-11-26T22:04:00+00:00", "live": True}
    withdrawn = [LoggedEvent("callback_met", t("2026-11-26 22:04"), "twilio", {**live, "outcome": "met"}),
                 LoggedEvent("callback_withdrawn", t("2026-11-26 22:04:03"), "twilio",
                             {**live, "why": "queue_result_hangup", "outcome": "answer_withdrawn"})]
    facts = IncidentFacts.from_events(_rep_leg_log(*withdrawn))
    assert facts.outcome != Outcome.MET and facts.answered_at is None
    redialled = LoggedEvent("callback_met", t("2026-11-26 22:05"), "twilio",
                            {"callback_id": 7, "answered_at": "2026-11-26T22:04:50+00:00", "outcome": "met"})
    facts = IncidentFacts.from_events(_rep_leg_log(*withdrawn, redialled))
    assert facts.outcome == Outcome.MET and facts.answered_at == t("2026-11-26 22:04:50")


def test_short_bridges_names_each_callback_withdrawn_as_too_short_with_its_last_line():
    from app.reports.facts import short_bridges

    lines = [{"callback_id": 7, "why": "bridge_too_short"}, None, {"callback_id": 8, "why": "queue_result_hangup"},
             {"callback_id": 7, "why": "bridge_too_short", "seen_by": "customer_leg"}, {"why": "bridge_too_short"}]
    assert short_bridges(lines) == {7: {"callback_id": 7, "why": "bridge_too_short", "seen_by": "customer_leg"}}
