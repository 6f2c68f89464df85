"""The whole life of an incident after the callback (issue 11), on a fake clock.

Callback, interval agreed by keypad, an update on time (by SMS from the owner), one late
(escalated to the manager), a resolution rejected by SMS and then confirmed by the e-mail
link; SMS through the simulated Twilio, e-mail at a real local SMTP server.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.models import (
    CustomerUpdate,
    Delivery,
    DueStep,
    FollowUp,
    IncidentEvent,
    ProposalKind,
    ResolutionProposal,
)
from app.services.acks import lock_incident
from app.services.resolution import propose
from app.services.updates import write_update
from tests.paging.conftest import ALICE, CUSTOMER, MARIA


def _rows(desk, model, **where):
    with desk.hotline.db.session() as session:
        stmt = select(model).filter_by(**where).order_by(model.id)
        return list(session.scalars(stmt))


def _to_minutes(desk, at):
    desk.clock.set(at)
    desk.settle()


def test_whole_life_callback_interval_updates_late_rejected_then_confirmed(desk, network, smtp, client):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True, ring_seconds=5, talk_seconds=120)
    customer.expect_sms("as agreed, you will get an update every 30 minutes")  # the interval keyed in, in writing
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "1"])  # connect; then "every 30 min"
    incident = desk.open_incident()
    ref = incident.reference
    desk.settle()

    # -- the interval was agreed by keypad at the end of the bridged callback
    assert "Press 1 for updates every 30 minutes" in alice.calls[0].heard
    assert "every 30 minutes" in alice.calls[0].heard.split("Press 1")[-1]
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.interval_minutes == 30 and follow_up.agreed_via == "keypad"
    assert follow_up.owner_rep_id is not None and follow_up.round == 1
    agreed = follow_up.agreed_at
    assert follow_up.next_due_at == agreed + timedelta(minutes=30)

    # -- update 1: Alice is reminded 10 minutes before and answers by SMS: on time
    alice.expect_sms("customer update 1 due", reply=f"UPDATE {ref} A storage node of the API cluster failed, "
                                                   "failover running")
    alice.expect_sms(f"Update 1 for {ref} sent (on time)")
    customer.expect_sms(f"Sev-1 {ref} update: A storage node")
    _to_minutes(desk, agreed + timedelta(minutes=20))
    [first] = _rows(desk, CustomerUpdate, incident_id=incident.id)
    assert first.round == 1 and first.late_seconds == 0 and first.written_via == "sms"
    mails = smtp.inbox.to(desk.incident(incident.id).email)
    assert len(mails) == 1 and "A storage node of the API cluster failed" in mails[0].get_content()
    assert mails[0]["Subject"] == f"Sev-1 incident {ref}: update"

    # -- update 2 is not written in time: reminder, then the manager hears at its due time
    due2 = agreed + timedelta(minutes=20 + 30)
    alice.expect_sms("customer update 2 due")
    _to_minutes(desk, due2 - timedelta(minutes=10))
    network.phone(MARIA).expect_sms("customer update 2 was due")
    customer.expect_sms(f"Sev-1 {ref}: we are sorry, we are late with your update")  # and the customer, once
    _to_minutes(desk, due2)
    assert [s.outcome for s in _rows(desk, DueStep, incident_id=incident.id, kind="update_due", level=2)] == [
        "escalated_1"]
    customer.expect_sms(f"Sev-1 {ref} update: Failover done")
    desk.clock.set(due2 + timedelta(minutes=5))
    desk.run(lambda s, now: write_update(s, lock_incident(s, ref), what_is_wrong="Failover done, replaying queue",
                                           expected_resolution="within 1 hour", by="Alice Primary",
                                           via="dashboard", now=now))
    second = _rows(desk, CustomerUpdate, incident_id=incident.id)[1]
    assert second.round == 2 and second.late_seconds == 300

    # -- a proposal the customer rejects by SMS: the incident stays open and updates continue
    customer.expect_sms("We believe your problem is resolved", reply=f"NO {ref}")
    customer.expect_sms("We keep working on incident")
    alice.expect_sms(f'SEV1 {ref} Acme Mail: the customer says it is NOT resolved: "NO {ref}". Updates go on')
    desk.run(lambda s, now: propose(s, lock_incident(s, ref), ProposalKind.RESOLVED, summary="queue replayed",
                                      by="Alice Primary", now=now, settings=desk.hotline.settings))
    first_proposal = _rows(desk, ResolutionProposal, incident_id=incident.id)[0]
    assert first_proposal.state == "rejected" and first_proposal.decided_via == "sms"
    assert desk.incident(incident.id).status == "open"
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.state == "updating" and follow_up.round == 4  # round 3 paused with the proposal
    assert follow_up.next_due_at == desk.clock.now() + timedelta(minutes=30)
    [expiry] = _rows(desk, DueStep, incident_id=incident.id, kind="resolution_expiry", level=1)
    assert expiry.status == "done" and expiry.outcome == "answered_rejected"

    # -- update 4 on time, then a second proposal, confirmed through the e-mail link
    customer.expect_sms(f"Sev-1 {ref} update: Some messages")
    desk.clock.set(desk.clock.now() + timedelta(minutes=15))
    desk.run(lambda s, now: write_update(s, lock_incident(s, ref), what_is_wrong="Some messages still deferred",
                                           by="Alice Primary", via="dashboard", now=now))
    customer.expect_sms("We believe your problem is resolved")
    desk.run(lambda s, now: propose(s, lock_incident(s, ref), ProposalKind.RESOLVED, summary="all queues drained",
                                      by="Alice Primary", now=now, settings=desk.hotline.settings))
    proposal_mail = smtp.inbox.to(desk.incident(incident.id).email)[-1]
    assert proposal_mail["Subject"] == f"Sev-1 incident {ref}: please confirm the resolution"
    link = re.search(r"https://hotline\.example\.com(/resolution/\S+)", proposal_mail.get_content()).group(1)
    page = client.get(link)
    assert page.status_code == 200 and "Yes, it is resolved" in page.get_data(as_text=True)
    assert desk.incident(incident.id).status == "open"  # opening the link decides nothing
    alice.expect_sms(f"SEV1 {ref} Acme Mail: the customer confirmed it is resolved. The incident is closed.")
    answer = client.post(link, data={"answer": "confirm"})
    desk.settle()
    assert answer.status_code == 200 and f"Incident {ref} is closed" in answer.get_data(as_text=True)
    assert client.post(link, data={"answer": "reject"}).status_code == 409  # answered already

    closed = desk.incident(incident.id)
    assert closed.status == "resolved"
    second_proposal = _rows(desk, ResolutionProposal, incident_id=incident.id)[1]
    assert second_proposal.state == "confirmed" and second_proposal.decided_via == "link"
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.state == "closed" and follow_up.closed_how == "confirmed"

    # -- every delivery is logged, sent, and the SMS ones delivered
    deliveries = _rows(desk, Delivery, incident_id=incident.id)
    assert {(d.purpose, d.channel) for d in deliveries} >= {("update", "sms"), ("update", "email"),
                                                            ("proposal", "sms"), ("proposal", "email"),
                                                            ("update_reminder", "sms"), ("update_late", "sms")}
    assert all(d.status == ("delivered" if d.channel == "sms" else "sent") for d in deliveries), \
        [(d.id, d.purpose, d.channel, d.status, d.last_error) for d in deliveries]
    assert len(smtp.inbox.to(closed.email)) == 6  # three updates, two proposals, the apology for update 2

    # -- nothing is owed any more: moving 3 days on sends nothing (the scripted phones would fail the test)
    _to_minutes(desk, desk.clock.now() + timedelta(days=3))
    with desk.hotline.db.session() as session:
        kinds = [e.kind for e in session.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident.id).order_by(IncidentEvent.id))]
    assert kinds.count("customer_update_sent") == 3 and kinds.count("customer_update_late") == 1
    assert "resolution_rejected" in kinds and kinds[-1] != "resolved_unconfirmed"


def test_silence_after_a_proposal_closes_it_resolved_not_confirmed(desk, network, smtp):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True)
    network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2"])  # no interval key: the default hour
    incident = desk.open_incident()
    desk.settle()
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.interval_minutes == 60 and follow_up.agreed_via == "default"
    customer.expect_sms("A workaround is in place")
    desk.run(lambda s, now: propose(s, lock_incident(s, incident.reference), ProposalKind.WORKAROUND,
                                      summary="send through the EU endpoint", by="Alice Primary", now=now,
                                      settings=desk.hotline.settings))
    _to_minutes(desk, desk.clock.now() + timedelta(hours=71, minutes=59))
    assert desk.incident(incident.id).status == "open"  # no update is owed while the proposal waits: no SMS
    _to_minutes(desk, desk.clock.now() + timedelta(minutes=1))
    assert desk.incident(incident.id).status == "resolved"
    [proposal] = _rows(desk, ResolutionProposal, incident_id=incident.id)
    assert proposal.state == "expired" and proposal.decided_via == "silence"
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.closed_how == "unconfirmed"


def test_failed_email_is_retried_with_back_off_and_shown(desk, network, smtp):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True).expect_sms("as agreed, you will get an update every hour")  # told in writing
    network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "2"])  # every hour
    incident = desk.open_incident()
    desk.settle()
    smtp.stop()
    customer.expect_sms("update: Investigating")
    desk.run(lambda s, now: write_update(s, lock_incident(s, incident.reference), what_is_wrong="Investigating",
                                           by="Alice Primary", via="dashboard", now=now))
    [mail] = _rows(desk, Delivery, incident_id=incident.id, channel="email")
    assert mail.status == "queued" and mail.attempts == 1 and "ConnectionRefused" in mail.last_error
    first_retry = mail.next_attempt_at
    assert first_retry == desk.clock.now() + timedelta(minutes=1)
    _to_minutes(desk, first_retry)
    [mail] = _rows(desk, Delivery, incident_id=incident.id, channel="email")
    assert mail.attempts == 2 and mail.next_attempt_at == first_retry + timedelta(minutes=2)
    smtp.start()
    _to_minutes(desk, mail.next_attempt_at)
    [mail] = _rows(desk, Delivery, incident_id=incident.id, channel="email")
    assert mail.status == "sent" and mail.attempts == 3 and mail.last_error == ""
    assert len(smtp.inbox.to(desk.incident(incident.id).email)) == 1


def test_a_missed_update_is_escalated_again_each_interval_until_it_is_written(desk, network, smtp):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True, ring_seconds=5, talk_seconds=120)
    customer.expect_sms("as agreed, you will get an update every 30 minutes")  # the interval keyed in, in writing
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "1"])  # connect; then "every 30 min"
    incident = desk.open_incident()
    ref = incident.reference
    desk.settle()
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    due = follow_up.next_due_at
    maria = network.phone(MARIA)
    alice.expect_sms("customer update 1 due")
    maria.expect_sms("customer update 1 was due")
    customer.expect_sms(f"Sev-1 {ref}: we are sorry, we are late with your update")
    _to_minutes(desk, due)
    # nobody wrote it: the managers are told again one interval later, the customer not apologised to again
    maria.expect_sms("customer update 1 was due")
    _to_minutes(desk, due + timedelta(minutes=30))
    late = [e for e in _rows(desk, IncidentEvent, incident_id=incident.id) if e.kind == "customer_update_late"]
    assert [e.detail["late_seconds"] for e in late] == [0, 30 * 60]
    customer.expect_sms(f"Sev-1 {ref} update: Failover")
    desk.clock.set(due + timedelta(minutes=40))
    desk.run(lambda s, now: write_update(s, lock_incident(s, ref), what_is_wrong="Failover running",
                                           by="Alice Primary", via="dashboard", now=now))
    assert _rows(desk, CustomerUpdate, incident_id=incident.id)[0].late_seconds == 40 * 60
    [step] = _rows(desk, DueStep, incident_id=incident.id, kind="update_due", level=1)
    assert step.status == "done" and step.outcome == "update_written"  # retired by the update, never alerts again
    alice.expect_sms("customer update 2 due")
    maria.expect_sms("customer update 2 was due")
    customer.expect_sms(f"Sev-1 {ref}: we are sorry, we are late with your update")  # round 2's own apology
    _to_minutes(desk, due + timedelta(minutes=70))  # only round 2's own alerts: nothing more about round 1
    assert alice.unmet == [] and maria.unmet == [] and customer.unmet == []
