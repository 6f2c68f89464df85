"""The deadline passed and nobody reached the customer: besides the managers' alert, the customer is told by SMS, once,
that we did not call them back by the time we promised, with an apology, that the managers have it and an engineer
calls as soon as possible, and how to reach the hotline. Through the real step runner, the RQ jobs and the watchdog;
a step run twice (a worker that died before its commit, a job handed over again, another breach step row of the same
incident) tells them once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import DueStep, IncidentEvent, Page, Role, StepKind, StepStatus
from app.queue import PendingJob
from app.services import steps
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import CUSTOMER, MARIA

NOTICE = "have not reached you"
HOTLINE = "+15005550006"  # the test settings' TWILIO_NUMBER


def _breach_step(desk, incident_id: int) -> DueStep:
    with desk.hotline.db.session() as s:
        return s.scalars(select(DueStep).where(DueStep.incident_id == incident_id, DueStep.kind == StepKind.BREACH,
                                               DueStep.level == 0)).one()


def _notices(desk, incident_id: int) -> tuple[list[Page], list[dict]]:
    with desk.hotline.db.session() as s:
        pages = list(s.scalars(select(Page).where(Page.incident_id == incident_id, Page.purpose == "breach_notice")))
        lines = [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "customer_breach_notice"))]
    return pages, lines


def _acknowledged_and_warned(desk, network):
    """Alice acknowledges at T0 and calls nobody back; the at-risk alert at T+10."""
    incident, alice = desk.acknowledged_by_alice(network)
    alice.expect_sms("AT RISK")
    network.phone(MARIA).expect_sms("AT RISK")
    desk.at(minutes=10)
    return incident, alice


def test_the_breach_texts_the_customer_once_even_when_its_step_runs_twice(desk, network, client):
    incident, alice = _acknowledged_and_warned(desk, network)
    breach = _breach_step(desk, incident.id)
    due = desk.t0 + timedelta(minutes=15)
    assert breach.due_at == due

    # A worker runs the breach step at T+15, queues its pages and the customer's notice, and dies before COMMIT.
    desk.clock.set(due)
    with desk.hotline.db.session() as session:
        assert steps.run_step(session, breach.id, desk.clock.now()) is True
        session.rollback()
    assert _notices(desk, breach.incident_id) == ([], [])

    # The watchdog's pass runs it again; then RQ hands over the step's job once more: it claims nothing.
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    customer = network.phone(CUSTOMER).expect_sms(NOTICE)  # a second one would fail the test
    desk.at(minutes=15)
    with desk.hotline.db.session() as session:
        assert steps.run_step(session, breach.id, desk.clock.now()) is False  # done: the compare-and-set
    assert desk.hotline.jobs.dispatch([PendingJob("step", breach.id, due, tag="again")], desk.clock.now()) == 1
    desk.settle()

    # Another breach step row of the incident (as an answer withdrawn reruns one) finds the customer told.
    with desk.hotline.db.transaction() as s:
        again = DueStep(incident_id=incident.id, kind=StepKind.BREACH, level=1, due_at=due)
        s.add(again)
        s.flush()
        again_id = again.id
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=15, seconds=30)
    with desk.hotline.db.session() as s:
        assert s.get(DueStep, again_id).status == StepStatus.DONE

    [notice] = [body for body in customer.sms if NOTICE in body]
    assert notice == (f"Sev-1 hotline, reference {incident.reference}: we promised to call you back by 19:15 PST and "
                      "have not reached you. We are sorry. Your incident is escalated to our managers and an engineer "
                      f"will call you as soon as possible. You can call us on {HOTLINE}, or reply to this SMS to add "
                      "details.")
    pages, lines = _notices(desk, incident.id)
    assert [(p.role, p.channel, p.status != "failed", p.step_id) for p in pages] == [
        ("customer", "sms", True, breach.id)]
    assert [(d["channel"], d["step_id"]) for d in lines] == [("sms", breach.id)]

    # the repages go on every 5 minutes; the customer is not told again
    alice.expect_sms("BREACHED").expect_call(answer=False)
    network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=20)
    assert len(_notices(desk, incident.id)[0]) == 1

    # the incident's timeline says so
    login_as(client, desk.hotline, Role.MANAGER)
    html = client.get(f"/incidents/{incident.reference}").get_data(as_text=True)
    assert "Apology to the customer queued by SMS: the callback deadline of" in html
    assert "Missed-deadline apology SMS to the customer" in html

