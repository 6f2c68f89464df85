"""Who may do what by SMS after the callback (README, *After the callback*): the owner (or a manager) agrees the
interval and proposes the resolution; a rep who was only paged may write an update, and the owner is told."""

from __future__ import annotations

from app.models import Delivery, FollowUp, IncidentEvent, ResolutionProposal
from tests.paging.conftest import ALICE, BOB, MARIA
from tests.updates.test_customer_sms import _rows, _text_hotline


def _alice_owns_bob_paged(desk, network):
    """Nobody acknowledged until the breach (Alice, Bob and Maria paged); Alice then called the customer back."""
    incident, customer = desk.called_back_late_by_alice(network)
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    return incident, customer, follow_up


def test_a_paged_rep_who_does_not_own_the_incident_cannot_agree_the_interval_or_propose(desk, network, smtp):
    # an outside probe's Alice, only paged, told Bob's customer "as agreed, every 15 minutes", then 45, and proposed
    # the resolution to a customer she never spoke to; Bob heard of none of it
    incident, customer, before = _alice_owns_bob_paged(desk, network)
    ref = incident.reference
    sent = len(_rows(desk, Delivery, incident_id=incident.id))
    [answer] = _text_hotline(desk, f"EVERY 15 {ref}", sender=BOB)
    assert answer == (f"Incident {ref} is owned by Alice Primary: only the owner or a manager agrees the update "
                      "interval with the customer. Nothing was changed; the customer was not told. Ask Alice Primary, "
                      f"or reply CALL {ref} to take it over and call the customer.")
    for command in ("PROPOSE", "WORKAROUND"):
        [answer] = _text_hotline(desk, f"{command} {ref} we restarted the MTA", sender=BOB)
        assert answer.startswith(f"Incident {ref} is owned by Alice Primary: only the owner or a manager proposes")
        assert answer.endswith(f"reply CALL {ref} to take it over and call the customer.")
    desk.settle()
    [after] = _rows(desk, FollowUp, incident_id=incident.id)
    assert (after.interval_minutes, after.agreed_via, after.owner_rep_id) == (
        before.interval_minutes, before.agreed_via, before.owner_rep_id)
    assert _rows(desk, ResolutionProposal, incident_id=incident.id) == []
    assert len(_rows(desk, Delivery, incident_id=incident.id)) == sent  # nothing to the customer, nor to anyone
    refused = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="update_sms_refused")]
    # each is answered; the log has a line for the first (one a person and incident an hour: refusal_lines)
    assert [(d["command"], d["why"], d["via"]) for d in refused] == [("every", "not_owner", "sms")]


def test_a_paged_reps_update_goes_to_the_customer_and_the_owner_is_told(desk, network, smtp):
    incident, customer, _ = _alice_owns_bob_paged(desk, network)
    ref = incident.reference
    customer.expect_sms(f"Sev-1 {ref} update: MTA restarted, watching queues.")
    alice = network.phone(ALICE).expect_sms(
        f"SEV1 {ref} Acme Mail: Bob Secondary sent your customer an update by SMS: MTA restarted, watching queues")
    [answer] = _text_hotline(desk, f"UPDATE {ref} MTA restarted, watching queues", sender=BOB)
    assert answer.startswith(f"Update 1 for {ref} sent")
    desk.settle()
    assert alice.unmet == [] and customer.unmet == []
    [told] = [e.detail for e in _rows(desk, IncidentEvent, incident_id=incident.id, kind="owner_told_of_sms")]
    assert told["command"] == "update" and len(told["told_rep_ids"]) == 1


def test_a_managers_interval_and_proposal_are_carried_out_and_the_owner_is_told(desk, network, smtp):
    incident, customer, before = _alice_owns_bob_paged(desk, network)
    ref = incident.reference
    customer.expect_sms("as agreed, you will get an update every 30 minutes")
    alice = network.phone(ALICE).expect_sms(
        f"SEV1 {ref} Acme Mail: Maria Manager agreed updates every 30 minutes with your customer by SMS.")
    [answer] = _text_hotline(desk, f"EVERY 30 {ref}", sender=MARIA)
    assert answer.startswith(f"Updates for {ref} every 30 minutes")
    desk.settle()
    customer.expect_sms("We believe your problem is resolved: mail flows again")
    alice.expect_sms(f"SEV1 {ref} Acme Mail: Maria Manager proposed the resolution to your customer by SMS: "
                     "mail flows again")
    [answer] = _text_hotline(desk, f"PROPOSE {ref} mail flows again", sender=MARIA)
    assert answer == f"Proposed to the customer of {ref}; waiting for their answer."
    desk.settle()
    assert alice.unmet == [] and customer.unmet == []
    [follow_up] = _rows(desk, FollowUp, incident_id=incident.id)
    assert follow_up.interval_minutes == 30 and follow_up.owner_rep_id == before.owner_rep_id  # still Alice's


def test_the_owner_acts_alone_and_nobody_is_told(desk, network, smtp):
    incident, customer, _ = _alice_owns_bob_paged(desk, network)
    ref = incident.reference
    customer.expect_sms("as agreed, you will get an update every 45 minutes")
    [answer] = _text_hotline(desk, f"EVERY 45 {ref}", sender=ALICE)
    assert answer.startswith(f"Updates for {ref} every 45 minutes")
    desk.settle()
    assert _rows(desk, IncidentEvent, incident_id=incident.id, kind="owner_told_of_sms") == []
