"""A rep or manager reads a customer update by its place among the updates the customer was owed and sent, not by
the schedule's round: after one update and a rejected resolution proposal (which excused the round it paused),
the update owed next is "customer update 2" in the owner's reminder, the managers' alert, the writer's answer, the
incident's timeline and its updates page, though the schedule owes round 3.

Signed webhooks and SMS through the simulated Twilio and scripted phones, on a fake clock, SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import CustomerUpdate, FollowUp, IncidentEvent, ProposalKind
from app.models.user import Role
from app.services.acks import lock_incident
from app.services.resolution import propose
from app.services.update_numbers import nth
from app.services.updates import write_update
from tests.integration.dashboard_support import login, make_user
from tests.paging.conftest import ALICE, CUSTOMER, MARIA


def _rows(desk, model, **where):
    with desk.hotline.db.session() as session:
        return list(session.scalars(select(model).filter_by(**where).order_by(model.id)))


def _write(desk, ref: str, words: str):
    return desk.run(lambda s, now: write_update(s, lock_incident(s, ref), what_is_wrong=words, by="Alice Primary",
                                                via="dashboard", now=now))


def test_the_update_owed_after_a_rejected_proposal_reads_as_the_second_everywhere(desk, network, smtp, client):
    customer = network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
    customer.expect_call(press="1", answered=True)
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(press=["2"])  # connect; the default hour
    maria = network.phone(MARIA)
    incident = desk.open_incident()
    ref = incident.reference
    desk.settle()

    customer.expect_sms(f"Sev-1 {ref} update: Queues")
    first = _write(desk, ref, "Queues are stuck")  # round 1, on time
    assert first.ok and first.message.startswith(f"Update 1 for {ref} sent")
    customer.expect_sms("We believe your problem is resolved", reply=f"NO {ref}")
    customer.expect_sms("We keep working on incident")
    alice.expect_sms(f"SEV1 {ref} Acme Mail: the customer says it is NOT resolved")
    assert desk.run(lambda s, now: propose(s, lock_incident(s, ref), ProposalKind.RESOLVED, summary="drained",
                                           by="Alice Primary", now=now, settings=desk.hotline.settings)).ok
    desk.settle()
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.state == "updating" and follow_up.round == 3  # round 2 was excused by the proposal
    due = follow_up.next_due_at

    # the owner's reminder and the managers' alert name the customer's second update (the scripted phones fail
    # the test on any other SMS: "customer update 3" would be one)
    alice.expect_sms(f"SEV1 {ref} Acme Mail: customer update 2 due by")
    desk.clock.set(due - timedelta(minutes=10))
    desk.settle()
    maria.expect_sms(f"SEV1 {ref} Acme Mail: customer update 2 was due")
    customer.expect_sms(f"Sev-1 {ref}: we are sorry, we are late with your update")
    desk.clock.set(due)
    desk.settle()
    assert alice.unmet == [] and maria.unmet == []

    customer.expect_sms(f"Sev-1 {ref} update: Replaying")
    desk.clock.set(due + timedelta(minutes=3))
    second = _write(desk, ref, "Replaying the queue")
    assert second.ok and second.message.startswith(f"Update 2 for {ref} sent (3 min late)")
    assert [u.round for u in _rows(desk, CustomerUpdate, incident_id=incident.id)] == [1, 3]

    # the incident's timeline and its updates page read the same numbers
    login(client, make_user(desk.hotline, Role.MANAGER).email)
    page = client.get(f"/incidents/{ref}").get_data(as_text=True)
    assert "Reminder of customer update 2: reminded" in page
    assert "Customer update 2 not sent by its due time" in page
    assert "Customer update 2 sent via dashboard (3 min late)" in page
    assert "Customer update 3" not in page and "round 3" not in page
    updates = client.get(f"/incidents/{ref}/updates").get_data(as_text=True)
    assert "Update 3 due by" in updates  # the one owed next (round 4)
    assert "<td>2</td>" in updates and "<td>3</td>" not in updates


def test_the_timeline_numbers_old_log_lines_by_the_same_rule():
    """Log lines written before the rule (their ``round`` the schedule's) read as the Nth update too."""
    from datetime import UTC, datetime

    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    lines = [IncidentEvent(id=1, incident_id=1, at=at, actor="Alice", kind="customer_update_sent",
                           detail={"update_id": 1, "round": 1, "late_seconds": 0, "via": "sms", "channels": ["sms"]}),
             IncidentEvent(id=2, incident_id=1, at=at, actor="system", kind="customer_update_sent",
                           detail={"update_id": 2, "round": 0, "late_seconds": 0, "via": "dashboard",
                                   "channels": ["sms"]}),  # while a proposal waited: no round, no number
             IncidentEvent(id=3, incident_id=1, at=at, actor="system", kind="customer_update_undelivered",
                           detail={"update_id": 3, "round": 3, "channels": {"sms": "failed"}, "told": ["owner"]}),
             IncidentEvent(id=4, incident_id=1, at=at, actor="system", kind="customer_message_stalled",
                           detail={"update_id": 3, "round": 3, "channels": {"sms": "failed"}, "told": ["owner"]}),
             IncidentEvent(id=5, incident_id=1, at=at, actor="system", kind="customer_update_sent",
                           detail={"update_id": 3, "round": 3, "late_seconds": 0, "via": "sms", "channels": []})]
    words = [entry.text for entry in timeline(lines, [])]
    assert words[0].startswith("Customer update 1 sent via sms (on time)")
    assert words[1].startswith("A customer update sent via dashboard (extra: none was owed) to sms")
    assert words[2].startswith("Customer update 2 was sent, NOT delivered")
    assert words[3].startswith("Customer update 2 has NOT reached the customer so far")
    assert words[4].startswith("Customer update 2 sent via sms (on time) to no channel")
    assert (nth([1, 0, 3], 4), nth([1, 0, 3], 0), nth([], 5)) == (3, None, 1)
