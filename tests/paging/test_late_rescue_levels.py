"""An incident rescued minutes after its caller hung up mid-intake (probe A F5): its promise runs from the caller's
last answer, but its levels keep their waits from when the first level actually paged. Before, levels 0 and 1 ran in
the same second: the primary rung twice at once, the secondary paged with no chance for the primary."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import DueStep, Page, StepKind
from app.services.incidents import rescue_call
from app.services.intake import policy_from
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA


def _rescued(desk, minutes_ago: float):
    """A caller who gave their last answer ``minutes_ago`` and hung up mid-intake, rescued now (T0)."""
    return desk.run(lambda s, now: rescue_call(
        s, call_sid="CA" + "b" * 32, from_number=CUSTOMER, now=now, reason="caller_hung_up",
        policy=policy_from(desk.hotline.settings), captured_at=now - timedelta(minutes=minutes_ago)))


def _sent(desk, incident_id):
    """(seconds after T0 it reached Twilio, to, channel) of every escalation page."""
    with desk.hotline.db.session() as s:
        pages = s.scalars(select(Page).where(Page.incident_id == incident_id, Page.purpose == "page"))
        return sorted(((p.sent_at - desk.t0).total_seconds(), p.to_number, p.channel) for p in pages if p.sent_at)


def _page_steps(desk, incident_id):
    with desk.hotline.db.session() as s:
        return [(step.level, step.due_at - desk.t0) for step in s.scalars(select(DueStep).where(
            DueStep.incident_id == incident_id, DueStep.kind == StepKind.PAGE).order_by(DueStep.level))]


def test_a_late_rescue_rings_the_primary_once_and_pages_the_secondary_three_minutes_later(desk, network):
    customer, alice, bob, maria = (network.phone(n) for n in (CUSTOMER, ALICE, BOB, MARIA))
    customer.expect_sms("we have your report")
    alice.expect_sms("SEV1").expect_call(answer=False)  # once: any second call or Bob's page now fails the test
    incident = _rescued(desk, minutes_ago=3)
    desk.settle()
    assert incident.callback_due_at == desk.t0 + timedelta(minutes=12)  # the promise still runs from the caller
    assert _sent(desk, incident.id) == [(0, ALICE, "sms"), (0, ALICE, "voice")]

    desk.at(minutes=2, seconds=59)  # the primary's 3 minutes without acknowledgement are not over
    alice.expect_call(answer=False)
    bob.expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)
    assert _sent(desk, incident.id)[2:] == [(180, ALICE, "voice"), (180, BOB, "sms"), (180, BOB, "voice")]
    maria.expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=6)  # the managers 6 minutes after the first page, before the at-risk alert at 7
    assert _sent(desk, incident.id)[5:] == [(360, MARIA, "sms"), (360, MARIA, "voice")]


def test_a_rescue_near_the_deadline_pages_the_later_levels_a_minute_after_the_first(desk):
    """11 minutes gone of 15 (the at-risk alert due at once): the secondary and the managers a minute after the
    primary, before the deadline, not in the same second (the steps only: nothing is run here)."""
    with desk.hotline.db.transaction() as s:
        incident = rescue_call(s, call_sid="CA" + "b" * 32, from_number=CUSTOMER, now=desk.t0, reason="caller_hung_up",
                               policy=policy_from(desk.hotline.settings), captured_at=desk.t0 - timedelta(minutes=11))
    assert incident.callback_due_at == desk.t0 + timedelta(minutes=4)
    assert _page_steps(desk, incident.id) == [(0, timedelta(0)), (1, timedelta(minutes=1)),
                                              (2, timedelta(minutes=1))]
