"""A TAM told in writing is one of those a decision alerted, counted once, and only when an e-mail is written.

At night the TAM is e-mailed the at-risk alert: the three reps' SMS and that e-mail are four messages, and the log
line, the step's outcome and the timeline say 4 (the log said 6: the managers, everyone paged so far with the TAM,
and the primary again). The breach alert's e-mail to the same TAM is written once; the repages that follow count
no e-mail they do not write.
"""

from __future__ import annotations

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import Delivery, DueStep, IncidentEvent, Page, StepKind
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA
from tests.paging.test_policy import _call_about_ticket
from tests.updates.test_tam_after_hours import _tam_mail, _ticket


def _counts(desk, incident_id: int) -> dict[str, object]:
    with desk.hotline.db.session() as s:
        events = list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                                .order_by(IncidentEvent.at, IncidentEvent.id)))
        steps = {(st.kind, st.level): st.outcome for st in s.scalars(select(DueStep).where(
            DueStep.incident_id == incident_id))}
        at_risk_sms = len(s.scalars(select(Page.id).where(Page.incident_id == incident_id,
                                                          Page.purpose == "at_risk")).all())
        breach_pages = len(s.scalars(select(Page.id).where(Page.incident_id == incident_id, Page.purpose == "breach",
                                                           Page.step_id == select(DueStep.id).where(
                                                               DueStep.incident_id == incident_id,
                                                               DueStep.kind == StepKind.BREACH)
                                                           .scalar_subquery())).all())
        mails = set(s.scalars(select(Delivery.purpose).where(Delivery.incident_id == incident_id,
                                                             Delivery.recipient == "tam")))
    return {"logged": {e.kind: e.detail.get("alerted") for e in events if "alerted" in (e.detail or {})},
            "steps": steps, "at_risk_sms": at_risk_sms, "breach_pages": breach_pages, "mails": mails,
            "words": [entry.text for entry in timeline(events, [])]}


def test_the_tams_email_is_counted_once_with_the_reps_messages(desk, network, smtp):
    _ticket(desk, "America/New_York")  # 22:00 in New York: the TAM is e-mailed, never texted
    customer, alice, bob, maria = (network.phone(n) for n in (CUSTOMER, ALICE, BOB, MARIA))
    customer.expect_sms("we have your report")
    alice.expect_sms("SEV1").expect_call(answer=False)
    incident = _call_about_ticket(desk)
    desk.settle()
    alice.expect_call(answer=False)
    bob.expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)
    maria.expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=6)
    for phone in (alice, bob, maria):
        phone.expect_sms("AT RISK")
    desk.at(minutes=10)
    at_risk = _counts(desk, incident.id)
    assert at_risk["at_risk_sms"] == 3 and "at_risk" in at_risk["mails"]
    assert at_risk["logged"]["callback_at_risk"] == 4  # three SMS and the TAM's e-mail; the log said 6
    assert at_risk["steps"][(StepKind.AT_RISK, 0)] == "alerted_4"
    assert "Callback at risk: no callback started; 4 alerts queued" in at_risk["words"]

    maria.expect_sms("BREACHED").expect_call(answer=False)
    customer.expect_sms("have not reached you")
    desk.at(minutes=15)
    breach = _counts(desk, incident.id)
    assert breach["breach_pages"] == 2 and [d.purpose for d in _tam_mail(desk, incident.id)] == [
        "page", "at_risk", "breach"]
    assert breach["logged"]["callback_breached"] == 3  # Maria's SMS and call, and the TAM's e-mail
