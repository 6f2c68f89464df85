"""A customer written messages cannot reach, and a proposal overtaken by a resolution.

A landline caller who gave no e-mail: an update is recorded but the rep is told it was NOT
sent; a written proposal is refused (ask by phone, record who agreed); a proposal whose
messages never left is never closed by "silence". A manager's resolution withdraws a
pending proposal, so its link or a late NO reopens nothing. A round already overdue keeps
its lateness when the interval changes.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import select, update

from app.models import (
    CustomerUpdate,
    Delivery,
    DueStep,
    FollowUp,
    Incident,
    IncidentEvent,
    ProposalKind,
    ProposalState,
    ResolutionProposal,
    StepKind,
    UpdateDeliveryStatus,
)
from app.services.acks import Actor, lock_incident, resolve
from app.services.resolution import decide, expire, propose, record_verbal_agreement
from app.services.updates import agree_interval, start_follow_up, write_update
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.updates.test_update_channels import _incident as channels_incident

UK_LANDLINE = "+442079460123"  # takes calls, never an SMS
_SIDS = itertools.count(1)


def _incident(client, hotline, caller=UK_LANDLINE, email=True) -> Incident:
    return channels_incident(client, hotline, caller=caller, email=email)


def _run(hotline, fn):
    with hotline.db.transaction() as session:
        return fn(session, hotline.clock.now())


def _expire(hotline, incident) -> str:
    """The incident's resolution-expiry step, run now (the customer's silence ran out)."""
    def run(s, now):
        step = s.scalars(select(DueStep).where(DueStep.incident_id == incident.id,
                                               DueStep.kind == StepKind.RESOLUTION_EXPIRY)).one()
        return expire(s, lock_incident(s, incident.reference), step, now)

    return _run(hotline, run)


def _rows(hotline, model, **where):
    with hotline.db.session() as session:
        return list(session.scalars(select(model).filter_by(**where).order_by(model.id)))


def test_an_update_to_a_customer_without_sms_or_email_is_recorded_but_never_claimed_sent(hotline, client):
    incident = _incident(client, hotline, email=False)
    assert incident.email == "" and incident.callback_phone == UK_LANDLINE
    result = _run(hotline, lambda s, now: write_update(s, lock_incident(s, incident.reference),
                                                       what_is_wrong="Investigating", by="Alice", via="dashboard",
                                                       now=now))
    assert result.ok and "NOT sent" in result.message and "Tell them by phone" in result.message
    assert " sent (" not in result.message
    assert len(_rows(hotline, CustomerUpdate, incident_id=incident.id)) == 1
    assert [d for d in _rows(hotline, Delivery, incident_id=incident.id) if d.recipient == "customer"] == []
    [line] = [e for e in _rows(hotline, IncidentEvent, incident_id=incident.id) if e.kind == "customer_update_sent"]
    assert line.detail["channels"] == []


def test_a_written_proposal_to_such_a_customer_is_refused_and_a_verbal_agreement_still_closes(hotline, client):
    incident = _incident(client, hotline, email=False)
    refused = _run(hotline, lambda s, now: propose(s, lock_incident(s, incident.reference), ProposalKind.RESOLVED,
                                                   summary="fixed", by="Alice", now=now, settings=hotline.settings))
    assert not refused.ok and "no number that takes SMS" in refused.message and "no e-mail" in refused.message
    assert _rows(hotline, ResolutionProposal, incident_id=incident.id) == []
    agreed = _run(hotline, lambda s, now: record_verbal_agreement(
        s, lock_incident(s, incident.reference), who_agreed="Dana Smith", by="Alice", now=now,
        settings=hotline.settings))
    assert agreed.ok and _rows(hotline, Incident, id=incident.id)[0].status == "resolved"


def test_silence_closes_nothing_when_the_proposal_never_left(hotline, client, clock):
    incident = _incident(client, hotline)  # SMS-less number, but an e-mail address: the proposal goes by e-mail
    _run(hotline, lambda s, now: propose(s, lock_incident(s, incident.reference), ProposalKind.RESOLVED,
                                         summary="fixed", by="Alice", now=now, settings=hotline.settings))
    with hotline.db.transaction() as s:  # the e-mail never left (its tries ran out)
        s.execute(update(Delivery).where(Delivery.incident_id == incident.id)
                  .values(status=UpdateDeliveryStatus.FAILED, last_error="SMTP refused"))
    [proposal] = _rows(hotline, ResolutionProposal, incident_id=incident.id)
    clock.set(proposal.expires_at)

    assert _expire(hotline, incident) == "kept_open_undelivered"
    assert _rows(hotline, Incident, id=incident.id)[0].status == "open"
    assert _rows(hotline, ResolutionProposal, id=proposal.id)[0].state == ProposalState.UNDELIVERED
    [follow_up] = _rows(hotline, FollowUp, incident_id=incident.id)
    assert follow_up.state == "updating" and follow_up.next_due_at == clock.now()  # owed now: reminders, managers
    assert "resolution_undelivered" in [e.kind for e in _rows(hotline, IncidentEvent, incident_id=incident.id)]


def test_a_managers_resolution_withdraws_the_pending_proposal_and_a_late_no_reopens_nothing(hotline, client):
    incident = _incident(client, hotline, caller="+14155550100")
    _run(hotline, lambda s, now: propose(s, lock_incident(s, incident.reference), ProposalKind.RESOLVED,
                                         summary="fixed", by="Alice", now=now, settings=hotline.settings))
    closed = _run(hotline, lambda s, now: resolve(s, lock_incident(s, incident.reference),
                                                  Actor(name="Maria", via="web", is_manager=True), now,
                                                  reason="Customer confirmed in the bridge call"))
    assert closed.ok
    [proposal] = _rows(hotline, ResolutionProposal, incident_id=incident.id)
    assert proposal.state == ProposalState.WITHDRAWN and proposal.decided_via == "resolved"

    def late_no(s, now):
        return decide(s, s.get(ResolutionProposal, proposal.id), confirmed=False, via="link", who="Dana", now=now)

    answer = _run(hotline, late_no)
    assert not answer.ok and "already answered (withdrawn)" in answer.message
    assert _rows(hotline, FollowUp, incident_id=incident.id)[0].state != "updating"


def test_changing_the_interval_of_an_overdue_round_keeps_its_lateness(hotline, client, clock):
    incident = _incident(client, hotline, caller="+14155550100")
    _run(hotline, lambda s, now: start_follow_up(s, lock_incident(s, incident.reference), now, minutes=30))
    [follow_up] = _rows(hotline, FollowUp, incident_id=incident.id)
    due = follow_up.next_due_at
    clock.set(due + timedelta(minutes=20))  # 20 minutes late, then the interval changes
    changed = _run(hotline, lambda s, now: agree_interval(s, lock_incident(s, incident.reference), 240, via="sms",
                                                          by="Alice", now=now))
    assert changed.ok and _rows(hotline, FollowUp, incident_id=incident.id)[0].next_due_at == due
    clock.set(due + timedelta(minutes=50))
    written = _run(hotline, lambda s, now: write_update(s, lock_incident(s, incident.reference),
                                                        what_is_wrong="Failover", by="Alice", via="sms", now=now))
    assert "50 min late" in written.message
    [row] = _rows(hotline, CustomerUpdate, incident_id=incident.id)
    assert row.late_seconds == 50 * 60
    assert _rows(hotline, FollowUp, incident_id=incident.id)[0].next_due_at == clock.now() + timedelta(minutes=240)


def _customer_texts(client, from_: str, body: str) -> str:
    from twilio.request_validator import RequestValidator

    url = f"{PUBLIC_BASE_URL}/twilio/sms"
    params = {"MessageSid": f"SM{next(_SIDS):032d}", "From": from_, "To": "+15005550006", "Body": body,
              "AccountSid": "AC" + "0" * 32}
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
    return client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}).get_data(as_text=True)


def test_a_customer_who_opted_out_of_sms_and_left_no_email_is_not_told_in_writing(hotline, client):
    incident = _incident(client, hotline, caller="+14155550100", email=False)
    _customer_texts(client, "+14155550100", "STOP")
    result = _run(hotline, lambda s, now: write_update(s, lock_incident(s, incident.reference),
                                                       what_is_wrong="Investigating", by="Alice", via="dashboard",
                                                       now=now))
    assert "NOT sent" in result.message and "opted out" in result.message
    refused = _run(hotline, lambda s, now: propose(s, lock_incident(s, incident.reference), ProposalKind.RESOLVED,
                                                   summary="fixed", by="Alice", now=now, settings=hotline.settings))
    assert not refused.ok and "Nothing was changed" in refused.message


def test_a_customer_who_wrote_back_without_yes_or_no_was_not_silent(hotline, client, clock):
    incident = _incident(client, hotline, caller="+14155550100")
    _run(hotline, lambda s, now: propose(s, lock_incident(s, incident.reference), ProposalKind.RESOLVED,
                                         summary="fixed", by="Alice", now=now, settings=hotline.settings))
    with hotline.db.transaction() as s:  # the proposal's SMS and e-mail left
        s.execute(update(Delivery).where(Delivery.incident_id == incident.id)
                  .values(status=UpdateDeliveryStatus.SENT))
    _customer_texts(client, "+14155550100", "Not fixed, still deferring")
    [proposal] = _rows(hotline, ResolutionProposal, incident_id=incident.id)
    clock.set(proposal.expires_at)

    assert _expire(hotline, incident) == "kept_open_unclear"
    assert _rows(hotline, Incident, id=incident.id)[0].status == "open"
    assert _rows(hotline, ResolutionProposal, id=proposal.id)[0].state == ProposalState.UNCLEAR


def test_a_managers_resolution_without_agreement_ends_the_schedule_it_owed(hotline, client, clock):
    """Closed by a manager's reason (no proposal, no agreement): no update is owed any more, and the Updates page
    says the schedule ended that way instead of an update 'OVERDUE' on a resolved incident."""
    from app.models.user import Role
    from tests.integration.dashboard_support import login_as

    incident = _incident(client, hotline, caller="+14155550100")
    closed = _run(hotline, lambda s, now: resolve(s, lock_incident(s, incident.reference),
                                                  Actor(name="Maria", via="web", is_manager=True), now,
                                                  reason="Duplicate of another incident"))
    assert closed.ok and closed.outcome == "resolved_by_manager"
    [follow_up] = _rows(hotline, FollowUp, incident_id=incident.id)
    assert follow_up.state == "closed" and follow_up.closed_how == "manager" and follow_up.next_due_at is None
    assert follow_up.closed_at == clock.now()
    steps = _rows(hotline, DueStep, incident_id=incident.id, kind=StepKind.UPDATE_DUE)
    assert steps and all(s.status == "done" for s in steps)
    [line] = [e for e in _rows(hotline, IncidentEvent, incident_id=incident.id) if e.kind == "resolved"]
    assert line.detail["by_manager"] is True and line.detail["reason"] == "Duplicate of another incident"
    clock.advance(hours=3)
    login_as(client, hotline, Role.REP)
    page = client.get(f"/incidents/{incident.reference}/updates").get_data(as_text=True)
    assert "OVERDUE" not in page and "(manager)" in page


def test_a_shorter_interval_agreed_just_before_an_update_is_due_never_moves_it_later(hotline, client, clock):
    """Updates hourly, the customer was told the next by T+60; at T+55 they agree on every 30 minutes: the update
    stays due by T+60 (the reminder's lead must not make it T+65, and an update at T+62 is late)."""
    incident = _incident(client, hotline, caller="+14155550100")
    ref = incident.reference
    _run(hotline, lambda s, now: agree_interval(s, lock_incident(s, ref), 60, via="dashboard", by="Alice", now=now))
    _run(hotline, lambda s, now: write_update(s, lock_incident(s, ref), what_is_wrong="Investigating", by="Alice",
                                              via="dashboard", now=now))
    told = _rows(hotline, FollowUp, incident_id=incident.id)[0].next_due_at
    assert told == clock.now() + timedelta(minutes=60)
    clock.advance(minutes=55)
    changed = _run(hotline, lambda s, now: agree_interval(s, lock_incident(s, ref), 30, via="sms", by="Alice",
                                                          now=now))
    assert changed.ok
    assert _rows(hotline, FollowUp, incident_id=incident.id)[0].next_due_at == told
    due = {s.kind: s.due_at for s in _rows(hotline, DueStep, incident_id=incident.id, level=2)}
    assert due[StepKind.UPDATE_DUE] == told
    clock.advance(minutes=7)
    written = _run(hotline, lambda s, now: write_update(s, lock_incident(s, ref), what_is_wrong="Still failing over",
                                                        by="Alice", via="sms", now=now))
    assert "2 min late" in written.message
