"""A resolution proposal known to have reached the customer by no channel resumes their updates at once.

An outside probe's proposal SMS came back undelivered (30005) with no e-mail to carry it: the owner was texted once,
and then the customer, who never saw any proposal, got no update for 72 hours (the paused round's steps done, only the
proposal's silence left), nobody was reminded and the managers were never alerted. README: a proposal excuses only
the round not yet due when it was made, and only when it reached the customer. Now, once every delivery of it has
ended unreached, it is undelivered at once and the paused round resumes, due at its old time, or now if that passed.
SMTP is not configured here, so the proposal's e-mail is never sent.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Delivery, DueStep, FollowUp, IncidentEvent, ProposalKind, ResolutionProposal
from app.services.acks import lock_incident
from app.services.deliveries import sms_status
from app.services.resolution import propose
from tests.paging.conftest import ALICE, CUSTOMER, MARIA


@pytest.fixture
def settings(settings):
    """No SMTP: the e-mail of a proposal is never sent (``no_smtp``), so the SMS is its only channel."""
    return settings.with_overrides(smtp_host="")


def _rows(desk, model, **where):
    with desk.hotline.db.session() as session:
        return list(session.scalars(select(model).filter_by(**where).order_by(model.id)))


def _kinds(desk, incident):
    return [e.kind for e in _rows(desk, IncidentEvent, incident_id=incident.id)]


def _called_back(desk, network):
    """Alice called the customer back and pressed "every hour": the customer was told it; returns the incident,
    both phones and when update 1 is due."""
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True).expect_sms("as agreed, you will get an update every hour")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2", "2"])
    incident = desk.open_incident()
    desk.settle()
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    return incident, customer, alice, follow_up.next_due_at


def _propose(desk, ref):
    """Alice's WORKAROUND for ``ref``."""
    return desk.run(lambda s, now: propose(s, lock_incident(s, ref), ProposalKind.WORKAROUND,
                                           summary="Use the SMTP relay smtp2.example.com", by="Alice Primary",
                                           now=now, settings=desk.hotline.settings))


def _pending(desk, incident):
    return {(s.kind, s.level): s.due_at for s in _rows(desk, DueStep, incident_id=incident.id, status="pending")}


def test_a_proposal_undelivered_at_once_resumes_the_paused_round_at_its_old_time(desk, network):
    incident, customer, alice, due = _called_back(desk, network)
    ref = incident.reference
    desk.clock.set(desk.clock.now() + timedelta(minutes=10))
    customer.expect_sms("A workaround is in place", fail="undelivered", error_code=30005)
    alice.expect_sms(f"SEV1 {ref} Acme Mail: the resolution proposal reached the customer by NO channel "
                     f"(SMS failed, e-mail not sent). Phone them: {CUSTOMER}.")
    assert _propose(desk, ref).ok
    assert alice.unmet == [] == customer.unmet

    [proposal] = _rows(desk, ResolutionProposal, incident_id=incident.id)
    assert (proposal.state, proposal.decided_via) == ("undelivered", "unreached")
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.state == "updating" and follow_up.next_due_at == due  # the round paused, at its old time
    pending = _pending(desk, incident)
    assert ("resolution_expiry", proposal.seq) not in pending  # no 72 h of silence left to wait for
    pending = {key: at for key, at in pending.items() if key[0] != "breach"}  # the met callback's, skipped when due
    assert sorted(kind for kind, _ in pending) == ["update_due", "update_reminder"]
    assert max(pending.values()) == due
    [line] = [e for e in _rows(desk, IncidentEvent, incident_id=incident.id) if e.kind == "resolution_undelivered"]
    assert line.detail["next_update_due_at"] == due.isoformat() and line.detail["via"] == "unreached"

    # the round runs as any other: the owner is reminded, the managers alerted when it is late
    alice.expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 due by")
    desk.clock.set(due - timedelta(minutes=10))
    desk.settle()
    assert alice.unmet == []
    network.phone(MARIA).expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 was due")
    customer.expect_sms("we are late with your update")
    desk.clock.set(due + timedelta(seconds=1))
    desk.settle()
    assert "customer_update_late" in _kinds(desk, incident)


def test_a_proposal_known_undelivered_after_the_paused_round_was_due_owes_it_now(desk, network):
    incident, customer, alice, due = _called_back(desk, network)
    ref = incident.reference
    network.lose_status_callbacks("/twilio/updates/sms-status")  # Twilio's report comes late (below)
    desk.clock.set(due - timedelta(minutes=1))
    alice.expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 due by")  # its reminder, before the proposal
    desk.settle()
    customer.expect_sms("A workaround is in place", fail="undelivered", error_code=30005)
    assert _propose(desk, ref).ok
    [sms] = _rows(desk, Delivery, purpose="proposal", channel="sms")
    assert sms.status == "sent"
    desk.clock.set(due + timedelta(seconds=30))  # paused: nothing falls due meanwhile
    desk.settle()
    assert "customer_update_late" not in _kinds(desk, incident)

    alice.expect_sms("the resolution proposal reached the customer by NO channel")
    alice.expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 due by")  # the round resumed: reminded again
    network.phone(MARIA).expect_sms(f"SEV1 {ref} Acme Mail: customer update 1 was due")
    customer.expect_sms("we are late with your update")
    now = desk.clock.now()
    with desk.hotline.db.transaction() as session:
        sms_status(session, sms.id, "undelivered", "30005", now)
    desk.settle()
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.state == "updating" and follow_up.next_due_at == now  # its old time passed: owed now
    assert _kinds(desk, incident).count("customer_update_late") == 1
