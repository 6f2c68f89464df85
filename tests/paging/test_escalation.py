"""Escalation at the configured times, acknowledgement, at-risk and breach, with a fake clock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import DueStep, IncidentEvent, Page
from tests.paging.conftest import ALICE, BOB, CUSTOMER, MARIA


def _pages(desk, incident_id):
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.incident_id == incident_id).order_by(Page.id)))


def _sent(desk, incident_id, purpose="page"):
    """(minute sent, to, channel) of every page that reached Twilio."""
    return sorted(((p.sent_at - desk.t0).total_seconds() / 60, p.to_number, p.channel)
                  for p in _pages(desk, incident_id) if p.sent_at and p.purpose == purpose)


def test_nobody_acknowledges_escalation_follows_the_policy_minute_by_minute(desk, network):
    customer, alice, bob, maria = (network.phone(n) for n in (CUSTOMER, ALICE, BOB, MARIA))
    customer.expect_sms("we have your report")
    alice.expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()
    desk.settle()
    assert _sent(desk, incident.id) == [(0, ALICE, "sms"), (0, ALICE, "voice")]
    assert "Reply ACK" in alice.sms[0] and incident.reference in alice.sms[0]

    desk.at(minutes=2, seconds=59)  # nothing is due yet: any page now would be unexpected
    alice.expect_call(answer=False)
    bob.expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)
    assert _sent(desk, incident.id)[2:] == [(3, ALICE, "voice"), (3, BOB, "sms"), (3, BOB, "voice")]

    maria.expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=6)
    assert _sent(desk, incident.id)[5:] == [(6, MARIA, "sms"), (6, MARIA, "voice")]

    for phone in (alice, bob, maria):
        phone.expect_sms("AT RISK")
    desk.at(minutes=10)
    assert sorted(to for _m, to, _c in _sent(desk, incident.id, "at_risk")) == sorted([ALICE, BOB, MARIA])

    maria.expect_sms("BREACHED").expect_call(answer=False)
    customer.expect_sms("have not reached you")  # told once, at the breach; never again at the repages
    desk.at(minutes=14, seconds=59)
    assert desk.incident(incident.id).breached_at is None
    desk.at(minutes=15)
    assert desk.incident(incident.id).breached_at == incident.callback_due_at == desk.t0 + timedelta(minutes=15)

    # paging goes on until a callback: primary on call and managers again, every 5 minutes
    alice.expect_sms("BREACHED").expect_call(answer=False)
    maria.expect_sms("BREACHED").expect_call(answer=False)
    desk.at(minutes=20)
    with desk.hotline.db.session() as s:
        steps = {(st.kind, st.level): st for st in s.scalars(select(DueStep).where(DueStep.incident_id == incident.id))}
        kinds = s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident.id)).all()
    assert all(st.runs == 1 for st in steps.values() if st.status == "done")
    assert steps[("repage", 0)].outcome.startswith("repaged") and ("repage", 1) in steps
    assert kinds.count("callback_breached") == 1 and kinds.count("callback_at_risk") == 1
    lateness = [(st.done_at - st.due_at).total_seconds() for st in steps.values() if st.done_at]
    assert max(lateness) == 0  # each step fired at its due instant on the fake clock


def test_acknowledged_by_keypress_stops_escalation_but_not_the_deadline(desk, network):
    customer, alice, maria = (network.phone(n) for n in (CUSTOMER, ALICE, MARIA))
    customer.expect_sms("we have your report").expect_sms("an engineer has taken your incident")
    alice.expect_sms("SEV1").expect_call(press="1")
    incident = desk.open_incident()
    desk.settle()
    call = alice.calls[0]
    assert call.pressed == ["1"] and "Acme Mail" in call.heard and "Acknowledged" in call.heard
    assert desk.incident(incident.id).acknowledged_at == desk.t0

    desk.at(minutes=3)  # no page to Bob
    desk.at(minutes=6)  # no page to Maria
    alice.expect_sms("AT RISK")
    maria.expect_sms("AT RISK")
    desk.at(minutes=10)  # acknowledged is not called back: the deadline steps still run
    with desk.hotline.db.session() as s:
        outcomes = {(st.kind, st.level): st.outcome for st in s.scalars(select(DueStep).where(DueStep.incident_id == incident.id))}
    assert outcomes[("page", 1)] == outcomes[("page", 2)] == "skipped_acknowledged"


def test_voicemail_answering_is_not_an_acknowledgement(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(machine=True)
    incident = desk.open_incident()
    desk.settle()
    heard = alice.calls[0].heard
    assert alice.calls[0].answered_by.startswith("machine") and "This page is not acknowledged." in heard
    assert "Reply to the text message with ACK and the reference" in heard and "open the link" in heard
    assert desk.incident(incident.id).acknowledged_at is None
    assert [p.status for p in _pages(desk, incident.id) if p.channel == "voice"] == ["machine"]
    network.phone(ALICE).expect_call(answer=False)
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)  # escalation goes on


def test_an_owner_deactivated_since_holds_the_escalation_back_no_more(desk, network):
    """An outside probe deactivated the rep who had acknowledged (left, phone lost): the next levels still read
    "skipped_acknowledged", and nobody was paged or told until the breach. A deactivated owner works it no more:
    the levels page on, as for an incident nobody took."""
    from sqlalchemy import update

    from app.models import Rep

    customer, alice = network.phone(CUSTOMER), network.phone(ALICE)
    customer.expect_sms("we have your report").expect_sms("an engineer has taken your incident")
    alice.expect_sms("SEV1").expect_call(press="1")
    incident = desk.open_incident()
    desk.settle()
    assert desk.incident(incident.id).acknowledged_at == desk.t0
    with desk.hotline.db.transaction() as s:
        s.execute(update(Rep).where(Rep.phone == ALICE).values(active=False))
    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)  # level 1 pages Bob: Alice's acknowledgement no longer holds it back
    with desk.hotline.db.session() as s:
        outcomes = {(st.kind, st.level): st.outcome for st in s.scalars(select(DueStep).where(
            DueStep.incident_id == incident.id))}
    assert outcomes[("page", 1)].startswith("paged")
    desk.settle()
    assert [p.to_number for p in _pages(desk, incident.id) if p.created_at > desk.t0] == [BOB, BOB]
