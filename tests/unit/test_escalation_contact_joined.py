"""The core's rule for a different contact who joined an incident over the per-number limit (caller IDs are spoofed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.escalation import Audience, ContactJoined, NumberCorrected, PageOrder, Snapshot, decide

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
OPEN = Snapshot(due_at=T0 + timedelta(minutes=15))
TOLD = (PageOrder(Audience.OWNER_OR_PRIMARY, ("sms",), "joined_contact"),
        PageOrder(Audience.MANAGERS, ("sms",), "joined_contact"))


@pytest.mark.parametrize(("snap", "told_so_far", "limit", "outcome", "pages"), [
    (OPEN, 0, 3, "contact_joined", TOLD),
    (OPEN, 2, 3, "contact_joined", TOLD),
    # the owner's callback to the incident's own contact was answered: this contact is still owed theirs
    (Snapshot(due_at=OPEN.due_at, answered_at=T0 + timedelta(minutes=5), owner_rep_id=1), 0, 3, "contact_joined", TOLD),
    (OPEN, 3, 3, "contact_joined_notices_spent", ()),  # a flood pages no more than the limit allows
    (Snapshot(due_at=OPEN.due_at, resolved=True), 0, 3, "skipped_resolved", ()),
])
def test_a_different_contact_who_joined_is_told_to_the_owner_and_managers_within_the_flood_limit(
        snap, told_so_far, limit, outcome, pages):
    decision = decide(ContactJoined(told_so_far=told_so_far, notice_limit=limit), snap, T0)
    assert (decision.outcome, decision.pages) == (outcome, pages)
    assert decision.next_state == snap.state  # nothing of the incident's own promise changes


@pytest.mark.parametrize(("snap", "outcome", "pages"), [
    (OPEN, "number_corrected", (PageOrder(Audience.PAGED_SO_FAR, ("sms",), "number_corrected"),)),
    (Snapshot(due_at=OPEN.due_at, answered_at=T0 + timedelta(minutes=5), owner_rep_id=1), "skipped_customer_reached",
     ()),
    (Snapshot(due_at=OPEN.due_at, resolved=True), "skipped_resolved", ()),
])
def test_a_callback_number_corrected_after_the_page_is_texted_to_everyone_paged_so_far(snap, outcome, pages):
    decision = decide(NumberCorrected(), snap, T0)
    assert (decision.outcome, decision.pages) == (outcome, pages)
    assert decision.next_state == snap.state


def test_an_ack_of_an_incident_whose_owner_was_deactivated_takes_it_over_and_pages_nobody():
    # a probe deactivated the rep who had acknowledged an incident not yet called back: the rep on call's ACK was
    # refused ("already acknowledged by Bob") and the incident stood stranded until the at-risk alert
    from app.escalation import Acknowledge

    owned = Snapshot(due_at=OPEN.due_at, acknowledged=True, owner_rep_id=2, owner_active=False)
    decision = decide(Acknowledge(rep_id=1, paged_or_on_call=True), owned, T0)
    assert decision.outcome == "taken_over" and decision.set_owner and decision.pages == ()
    active = decide(Acknowledge(rep_id=1, paged_or_on_call=True), Snapshot(
        due_at=OPEN.due_at, acknowledged=True, owner_rep_id=2), T0)
    assert active.outcome == "refused_owned_by_other"
