"""Issue 13: a breach of the provisional deadline, and the deadline that counts once the caller's details are in.

An incident opened mid-call runs its steps on a provisional deadline (15 minutes from the opening). A call that
falls silent for three minutes is taken for ended, so those steps run; when the call's end is heard of later,
the deadline that counts is set. Board, API and compliance report must tell the same story throughout.
Signed webhooks through the scripted caller, the worker's step jobs, the simulated Twilio for the pages.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import DueStep, IncidentEvent, StepKind
from app.models.user import Role
from app.services.steps import overdue_steps
from tests.integration.board_support import parse
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_early_paging import _answer, _api, _call, _incidents, _report
from workers.consuming import StoppableWorker

OPENING = (lambda c: c.press("1"), lambda c: c.press("1"), lambda c: c.press("#"),
           lambda c: c.say("Acme Mail"), lambda c: c.say("Dana Smith"), lambda c: c.press("1"))


def open_mid_call(desk, recording_seconds: int = 60, then=()):
    """The caller dials and gives the opening 5 s apart (the incident opens mid-call at 0:30), then the e-mail,
    its confirmation, the problem, a recording of ``recording_seconds`` and ``then``, 170 s apart; returns the
    simulated call and the incident."""
    call = _call(desk, CUSTOMER)
    call.dial()
    for answer in OPENING:
        _answer(desk, call, 5, answer)
    [incident] = _incidents(desk)
    for answer in (lambda c: c.say("dana at acme dot example"), lambda c: c.press("1"),
                   lambda c: c.say("Every API call returns 500."), lambda c: c.record(seconds=recording_seconds),
                   *then):
        _answer(desk, call, 170, answer)
    return call, incident


def between_watchdog_passes(desk) -> None:
    """RQ's worker and the phones only, until quiet: what happens between two passes of the watchdog."""
    for _ in range(30):
        StoppableWorker(desk.hotline.jobs.queues, connection=desk.hotline.jobs.redis).work(
            burst=True, logging_level="WARNING")
        before = len(desk.network.webhooks)
        desk.network.run()
        if not desk.hotline.jobs.waiting() and len(desk.network.webhooks) == before:
            return
    raise AssertionError("RQ and the phones did not settle")


# breached nowhere, and the compliance report's row says the promise is not decided yet (JSON null, CSV "pending":
# ``facts.promise_verdict``, probe V's V3): its deadline is provisional or still to come, neither kept nor broken
NOT_BREACHED_NOT_DECIDED = {"board": False, "page": False, "api": False, "report": None}


def _three_views(desk, reference: str) -> dict[str, object]:
    """Breached or not, as the board's row, the incident page, the API and the compliance report say it now."""
    login_as(desk.client, desk.hotline, Role.MANAGER, name="Mia Manager")
    row = parse(desk.client.get("/board")).find("tr", id=f"inc-{reference}").text()
    page = parse(desk.client.get(f"/incidents/{reference}")).find(id="deadline").text()
    return {"board": "Breached" in row, "page": "Breached" in page,
            "api": _api(desk, reference)["breach"]["breached"], "report": _report(desk, desk.clock.now())["json"]}


def _breach_lines(desk, incident_id: int) -> list:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent.at).where(IncidentEvent.incident_id == incident_id,
                                                             IncidentEvent.kind == "callback_breached")))


def test_a_breach_of_the_provisional_deadline_is_withdrawn_when_the_call_end_sets_the_real_one(desk, network):
    """Opened at 0:30 (provisional deadline 15:30); the caller answers until 12:40, then falls silent (the call's
    status callbacks lost). At 15:40 RQ's scheduler hands over the due at-risk and breach steps before the watchdog's
    next pass: the breach is logged on the provisional deadline. That pass takes the call for ended at 12:40: the 15
    minutes run from there (due 27:40). Board, incident page, API and report all say not breached then; nobody is
    told BREACHED about a deadline still ahead (nor the customer, who was promised no time yet, that it passed); the
    at-risk warning and the breach come again on the real deadline, and then all four say breached and the customer
    is told, once, that the deadline the receipt gave passed."""
    alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False).expect_sms("Acknowledged")
    customer = network.phone(CUSTOMER).expect_sms("has taken your incident")
    maria = network.phone(MARIA)
    call, incident = open_mid_call(desk)
    _answer(desk, call, 50, lambda c: c.silence())  # the last word, at 12:40
    opened_at = desk.t0 + timedelta(seconds=30)
    desk.clock.set(desk.t0 + timedelta(minutes=15, seconds=40))
    # the at-risk step ran past the provisional deadline: its alerts say BREACHED, never "AT RISK, 0 min left"
    alice.expect_sms("BREACHED")
    maria.expect_sms("BREACHED").expect_call(answer=False)  # the breach step's alert: the at-risk step's is not hers
    customer.expect_sms("we have your report")  # the receipt, once the deadline that counts is set
    with desk.hotline.db.session() as s:  # RQ's scheduler, at the steps' times
        desk.hotline.jobs.dispatch(overdue_steps(s, desk.clock.now()), desk.clock.now())
    between_watchdog_passes(desk)
    # logged when RQ ran the step, past the provisional deadline (opened_at + 15 minutes)
    assert _breach_lines(desk, incident.id) == [desk.t0 + timedelta(minutes=15, seconds=40)]
    assert desk.t0 + timedelta(minutes=15, seconds=40) > opened_at + timedelta(minutes=15)

    desk.at(minutes=15, seconds=45)  # the watchdog's pass: the call ended at 12:40
    real_due = desk.t0 + timedelta(minutes=27, seconds=40)
    assert desk.incident(incident.id).callback_due_at == real_due
    assert _three_views(desk, incident.reference) == NOT_BREACHED_NOT_DECIDED
    assert desk.incident(incident.id).breached_at is None
    timeline = parse(desk.client.get(f"/incidents/{incident.reference}")).text().lower()
    assert "the breach logged on the provisional deadline of " in timeline and "no longer counts" in timeline
    with desk.hotline.db.session() as s:
        steps = {kind.value: (due, status.value) for kind, due, status in s.execute(
            select(DueStep.kind, DueStep.due_at, DueStep.status).where(DueStep.status == "pending",
                DueStep.incident_id == incident.id, DueStep.kind.in_([StepKind.AT_RISK, StepKind.BREACH])))}
    assert steps == {"at_risk": (real_due - timedelta(minutes=5), "pending"), "breach": (real_due, "pending")}

    desk.at(minutes=21)  # the provisional breach's repage time (20:40) went by: nobody told of a breach ahead
    assert _three_views(desk, incident.reference) == NOT_BREACHED_NOT_DECIDED
    alice.expect_sms("AT RISK")
    maria.expect_sms("AT RISK")
    desk.at(minutes=22, seconds=40)  # the real deadline's at-risk time
    maria.expect_sms("BREACHED").expect_call(answer=False)
    customer.expect_sms("have not reached you")
    desk.at(minutes=27, seconds=40)
    assert _breach_lines(desk, incident.id)[-1] == real_due
    assert _three_views(desk, incident.reference) == {"board": True, "page": True, "api": True, "report": True}
    assert desk.incident(incident.id).breached_at == real_due
    assert len(customer.sms) == 3
    assert "by 19:27 PST" in customer.sms[1] and "by 19:27 PST" in customer.sms[2]  # the receipt's time, not 19:15
    network.verify()


def test_a_call_fallen_silent_past_the_provisional_deadline_is_breached_nowhere_until_the_step_logs_it(desk, network):
    """Opened at 0:30, the caller answers every 2:50 to 3:00 until 17:40, then falls silent (the call is taken
    for ended at 20:40). The breach step looks each minute from the provisional deadline (15:30) while the caller
    talks; the watchdog's pass takes the call for ended and sets the deadline that counts (32:40), and the receipt
    says it. At 21:00 the board, the incident page, the API and the report agree: not breached."""
    network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False).expect_sms("Acknowledged")
    customer = network.phone(CUSTOMER).expect_sms("has taken your incident. When your call ends")
    call, incident = open_mid_call(desk, recording_seconds=120, then=(lambda c: c.silence(),))
    _answer(desk, call, 180, lambda c: c.silence())  # the last word at 17:40, never three minutes after the one before
    assert desk.clock.now() == desk.t0 + timedelta(minutes=17, seconds=40)
    for minute in (18, 19, 20):  # the steps look each minute while the caller is on the line: 20:30 the last time
        desk.at(minutes=minute, seconds=30)
    customer.expect_sms("we have your report")  # the watchdog takes the call for ended (20:40): deadline 32:40
    desk.at(minutes=21)  # silent for 3:20: the live call no longer counts; the breach step looks again at 21:30
    assert _breach_lines(desk, incident.id) == []
    assert _three_views(desk, incident.reference) == NOT_BREACHED_NOT_DECIDED
    assert desk.incident(incident.id).callback_due_at == desk.t0 + timedelta(minutes=32, seconds=40)
    network.verify()
