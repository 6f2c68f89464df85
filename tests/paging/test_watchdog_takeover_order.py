"""A take-over runs the due steps before any send, and starts sends only within its budget.

An outside probe's Twilio hung and one of two workers was killed: the survivor's watchdog took over the late jobs in
due order, page sends first, each waiting out the client's time-out, and two breach steps ran 8 and 15 s after they
were due (the README promises a take-over 6 s after). Now ``run_here`` runs every step first and, in a take-over
(RQ works), starts its other jobs only within SEND_BUDGET_SECONDS: the rest is RQ's or the next pass's.

Real database and Redis, the hotline's Twilio client against the simulated Twilio; the run's clock of seconds is
given to it, so the budget is passed without waiting.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Channel, DueStep, Incident, Page, StepKind, StepStatus
from app.oncall.contactable import Contactable
from app.queue import PendingJob
from app.services.pages import queue_page
from tests.integration.board_support import make_incident
from tests.paging.conftest import ALICE, BOB, MARIA
from workers import watchdog

CUSTOMER_PHONE = "+14155552671"  # make_incident's


def _late_work(hotline, clock) -> tuple[int, list[int], list[PendingJob]]:
    """An incident whose breach step fell due after its two page sends did: the step, the pages, the late jobs."""
    now = clock.now()
    incident_id = make_incident(hotline, "424242", captured_at=now - timedelta(minutes=15, seconds=10))
    with hotline.db.transaction() as s:
        incident = s.get(Incident, incident_id)
        pages = [queue_page(s, incident, Contactable(rep_id=None, name=name, phone=phone, channels=("sms",),
                                                     role="oncall:primary"), Channel.SMS, "page", now)
                 for name, phone in (("Alice", ALICE), ("Bob", BOB))]
        step = DueStep(incident_id=incident_id, kind=StepKind.BREACH, level=0, due_at=now - timedelta(seconds=10))
        s.add(step)
        s.flush()
        step_id, page_ids = step.id, [p.id for p in pages]
    jobs = [PendingJob("page", page_id, now - timedelta(seconds=30)) for page_id in page_ids]
    return step_id, page_ids, [*jobs, PendingJob("step", step_id, now - timedelta(seconds=10))]


def _breach_expected(network) -> None:
    """What the breach step sends: Maria's alert (SMS and call) and the customer's apology."""
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    network.phone(CUSTOMER_PHONE).expect_sms("have not reached you")


def _state(hotline, step_id: int, page_ids: list[int]) -> tuple[str, list[int]]:
    with hotline.db.session() as s:
        return (s.get(DueStep, step_id).status,
                [s.get(Page, page_id).attempts for page_id in page_ids])


def test_a_takeover_runs_the_late_step_before_the_sends_due_before_it_and_leaves_sends_past_its_budget(
        hotline, clock, network):
    network.phone(ALICE).expect_sms("SEV1 424242")
    step_id, page_ids, jobs = _late_work(hotline, clock)
    seen = []

    def elapsed() -> float:  # the run's clock of seconds: past the budget once the first send has run
        seen.append(_state(hotline, step_id, page_ids))
        return 0.0 if len(seen) < 3 else watchdog.SEND_BUDGET_SECONDS + 1

    ran = watchdog.run_here(hotline, jobs, elapsed=elapsed)
    assert ran == 2  # the step and Alice's page
    assert seen[:3] == [(StepStatus.PENDING, [0, 0]),  # the run starts
                        (StepStatus.DONE, [0, 0]),  # before the first send: the step ran
                        (StepStatus.DONE, [1, 0])]  # before the second: past the budget, it is left
    with hotline.db.session() as s:
        assert [p.status for p in s.scalars(select(Page).where(Page.id.in_(page_ids)).order_by(Page.id))] == [
            "sent", "queued"]
    network.run()  # the breach's alert and apology are queued for RQ (its workers send them), not sent here
    assert network.phone(ALICE).unmet == [] and network.phone(BOB).received == []


def test_with_redis_down_every_job_runs_steps_first_whatever_the_time(hotline, clock, network):
    network.phone(ALICE).expect_sms("SEV1 424242")
    network.phone(BOB).expect_sms("SEV1 424242")
    _breach_expected(network)
    step_id, page_ids, jobs = _late_work(hotline, clock)
    seen = []

    def elapsed() -> float:
        seen.append(_state(hotline, step_id, page_ids))
        return watchdog.SEND_BUDGET_SECONDS + 1  # long past the budget: nothing else runs them

    watchdog.run_here(hotline, jobs, until_done=True, elapsed=elapsed)
    assert _state(hotline, step_id, page_ids) == (StepStatus.DONE, [1, 1])
    network.run()
    assert all(network.phone(n).unmet == [] for n in (ALICE, BOB, MARIA, CUSTOMER_PHONE))
