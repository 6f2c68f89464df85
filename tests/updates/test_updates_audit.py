"""Outside-in audit of the customer's updates and resolution by agreement (mission point 4), on a fake clock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from app.models import FollowUp, IncidentEvent, ProposalKind, Rep
from app.services.acks import Actor, lock_incident, reached_by_email
from app.services.resolution import propose
from app.services.updates import agree_interval
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE, CUSTOMER, MARIA
from tests.paging.test_acknowledgement import _sms_from


def test_an_incident_worked_by_email_owes_the_customer_updates_at_the_interval(desk, network, smtp):
    """Policy step 5 holds for a customer reached by e-mail too: the owner is reminded, the managers told."""
    alice, maria = network.phone(ALICE), network.phone(MARIA)
    alice.expect_sms("SEV1").expect_call(answer=False)
    incident = desk.email_only_incident()
    desk.settle()
    ref = desk.incident(incident.id).reference
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {ref}").get_data(as_text=True)
    desk.at(minutes=2)

    def reached(session, now):
        rep = session.scalars(select(Rep).where(Rep.phone == ALICE)).one()
        return reached_by_email(session, lock_incident(session, ref), Actor(name=rep.name, via="dashboard", rep=rep),
                                "E-mailed Dana, she replied", now)

    assert desk.run(reached).ok
    with desk.hotline.db.session() as s:
        follow_up = s.scalars(select(FollowUp).where(FollowUp.incident_id == incident.id)).first()
        alice_id = s.scalar(select(Rep.id).where(Rep.phone == ALICE))
    assert follow_up is not None, "no update schedule: nobody is ever reminded or told an update is late"
    assert follow_up.owner_rep_id == alice_id and follow_up.interval_minutes == 60
    assert follow_up.next_due_at == desk.t0 + timedelta(minutes=2 + 60)
    alice.expect_sms("customer update 1 due")
    maria.expect_sms("customer update 1 was due")
    desk.at(minutes=15)  # the breach line is logged (no alert to anyone for an e-mail-worked incident)
    desk.at(minutes=52)
    desk.at(minutes=62)
    assert alice.unmet == [] and maria.unmet == []


def _customer_sms(desk, body: str, sid: str) -> str:
    """An SMS from the customer's number to the hotline, signed like Twilio; returns the TwiML answer."""
    params = {"MessageSid": sid, "From": CUSTOMER, "To": "+15005550006", "Body": body, "AccountSid": "AC" + "0" * 32}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + "/twilio/sms", params)
    return desk.client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}).get_data(
        as_text=True)


def test_a_customer_disputing_a_resolution_closed_by_silence_reaches_the_owner(desk, network, smtp):
    """Closed "resolved, not confirmed" after 72 h of silence, the customer writes NO: that is not a stranger's SMS. Their
    silence was no agreement, so their NO within REOPEN_WINDOW_DAYS reopens it (tests/updates/test_reopen.py)."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True)
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2"])
    incident = desk.open_incident()
    ref = incident.reference
    desk.settle()
    customer.expect_sms("We believe your problem is resolved")
    desk.run(lambda s, now: propose(s, lock_incident(s, ref), ProposalKind.RESOLVED, summary="queues drained",
                                      by="Alice Primary", now=now, settings=desk.hotline.settings))
    desk.clock.set(desk.clock.now() + timedelta(hours=72))
    desk.settle()
    assert desk.incident(incident.id).status == "resolved"

    alice.expect_sms(f"SEV1 {ref} Acme Mail: REOPENED by the customer, who says it is NOT resolved (it was closed after "
                     f"the customer's silence). They texted: NO {ref} - still 250000 mails deferred.")
    desk.clock.set(desk.clock.now() + timedelta(hours=2))
    answer = _customer_sms(desk, f"NO {ref} - still 250000 mails deferred", "SM" + "d1" * 16)
    desk.settle()
    assert f"Incident {ref} is open again" in answer and "matches no open incident" not in answer
    assert desk.incident(incident.id).status == "open"
    with desk.hotline.db.session() as s:
        words = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id,
                                                      IncidentEvent.kind == "incident_reopened")).all()
    assert [(w.detail["words"], w.detail["close"]) for w in words] == [
        (f"NO {ref} - still 250000 mails deferred", "silence")]
    assert alice.unmet == []


def test_a_longer_interval_agreed_after_the_reminder_reminds_the_owner_again(desk, network, smtp):
    """Reminded "update 1 due by 11:00", the rep agrees 4 hours with the customer: the new due time gets a reminder
    too, or the first the owner hears of it is the managers being told the update is late."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True)
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2"])  # no interval key: the default hour
    incident = desk.open_incident()
    ref = incident.reference
    desk.settle()
    with desk.hotline.db.session() as s:
        due = s.scalars(select(FollowUp).where(FollowUp.incident_id == incident.id)).one().next_due_at
    alice.expect_sms("customer update 1 due")
    desk.clock.set(due - timedelta(minutes=10))
    desk.settle()
    desk.clock.set(due - timedelta(minutes=5))
    customer.expect_sms(f"Sev-1 {ref}: as agreed, you will get an update every 4 hours")
    result = desk.run(lambda s, now: agree_interval(s, lock_incident(s, ref), 240, via="dashboard",
                                                      by="Alice Primary", now=now))
    assert result.ok
    new_due = due - timedelta(minutes=5) + timedelta(hours=4)
    with desk.hotline.db.session() as s:
        assert s.scalars(select(FollowUp).where(FollowUp.incident_id == incident.id)).one().next_due_at == new_due
    desk.clock.set(due + timedelta(minutes=1))  # the old due time passes: nothing is late any more
    desk.settle()
    alice.expect_sms("customer update 1 due")
    desk.clock.set(new_due - timedelta(minutes=10))
    desk.settle()
    assert alice.unmet == []
    network.phone(MARIA).expect_sms("customer update 1 was due")
    network.phone(CUSTOMER).expect_sms("we are late with your update")
    desk.clock.set(new_due)
    desk.settle()


def test_a_customer_we_cannot_text_is_never_asked_to_answer_a_proposal_by_sms(desk, network, smtp):
    """An e-mail-only customer (withheld number) gets the proposal by e-mail: it must not tell them to "reply YES by
    SMS", since no SMS of theirs reaches the incident (the hotline knows no number of theirs); the link answers."""
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.email_only_incident()
    desk.settle()
    ref = desk.incident(incident.id).reference
    assert "Acknowledged" in _sms_from(desk, ALICE, f"ACK {ref}").get_data(as_text=True)

    def reached(session, now):
        rep = session.scalars(select(Rep).where(Rep.phone == ALICE)).one()
        return reached_by_email(session, lock_incident(session, ref), Actor(name=rep.name, via="dashboard", rep=rep),
                                "E-mailed Dana, she replied", now)

    assert desk.run(reached).ok
    assert desk.run(lambda s, now: propose(s, lock_incident(s, ref), ProposalKind.RESOLVED, summary="queues drained",
                                             by="Alice Primary", now=now, settings=desk.hotline.settings)).ok
    [mail] = [m for m in smtp.inbox.to("dana@acme.example") if "please confirm" in str(m["Subject"])]
    body = mail.get_content()
    assert f"{PUBLIC_BASE_URL}/resolution/" in body  # the way they can answer
    assert "SMS" not in body, body
    assert alice.unmet == []


def test_the_update_reminder_for_a_deactivated_owner_goes_to_the_managers_not_to_the_former_rep(desk, network, smtp):
    """The owner of the customer updates leaves (deactivated) before update 1 is due: the reminder, which names the
    incident and its company, must not reach the former rep's phone, and must still reach someone who works it."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True)
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2"])  # no interval key: the default hour
    incident = desk.open_incident()
    desk.settle()
    with desk.hotline.db.session() as s:
        due = s.scalars(select(FollowUp).where(FollowUp.incident_id == incident.id)).one().next_due_at
    with desk.hotline.db.transaction() as s:
        s.execute(update(Rep).where(Rep.phone == ALICE).values(active=False))
    texted_before = len(alice.sms)
    maria = network.phone(MARIA).expect_sms("customer update 1 due")
    desk.clock.set(due - timedelta(minutes=10))
    desk.settle()
    assert len(alice.sms) == texted_before  # nothing more reached the former rep
    assert maria.unmet == [] and maria.sms[-1].startswith(f"SEV1 {incident.reference} Acme Mail: customer update 1 due")
