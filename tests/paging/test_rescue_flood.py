"""A flood of hang-ups right after triage, from spoofed caller IDs (outside probe M3): each stays a recorded,
paged Sev-1 (the policy: never dropped), but

- its pages give way in the account's send pacing to pages of a report with recorded details: the probe's real
  customer's voice page waited 41 s behind 40 such pages at one call a second;
- its receipt SMS, to a number nobody proved, is bounded for the whole hotline as the missed-call SMS is; past the
  bound it is withheld and the incident's log says so (``unproven_reports``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Channel, Incident, IncidentEvent, Page, PageStatus
from app.services.incidents import rescue_call
from app.services.intake import policy_from
from app.services.page_urls import PageUrls
from app.services.pages import PageSender
from app.telephony.rate import CALLS, SMS, Pacer, SendRate
from tests.paging.conftest import ALICE

pytestmark = pytest.mark.every_database  # receipts raced by threads at one moment: each database orders writers its own way

FLOOD = [f"+1646555{1000 + i:04d}" for i in range(6)]
REAL = "+13035550188"


def _rescue(desk, number: str, n: int, company: str = "", settle: bool = False) -> Incident:
    """A caller from ``number`` who hung up right after triage (nothing said), rescued; ``company``: what they said
    before hanging up (set on the call's state as the intake would)."""
    def rescue(session, now):
        incident = rescue_call(session, call_sid=f"CA{n:032d}", from_number=number, now=now,
                               reason="caller_hung_up", policy=policy_from(desk.hotline.settings))
        if company:
            incident.company = company
        return incident

    if settle:
        return desk.run(rescue)
    with desk.hotline.db.transaction() as session:
        return rescue(session, desk.clock.now())


def _voice_page(desk, incident: Incident, n: int) -> int:
    now = desk.clock.now()
    with desk.hotline.db.transaction() as s:
        page = Page(incident_id=incident.id, name=f"Rep {n}", role="primary", channel=Channel.VOICE,
                    to_number=f"+1415555{300 + n:04d}", purpose="page", status=PageStatus.QUEUED,
                    next_attempt_at=now, created_at=now, updated_at=now)
        s.add(page)
        s.flush()
        return page.id


def test_only_a_rescue_with_nothing_said_and_the_caller_id_for_its_number_lacks_recorded_details(desk):
    from app.services.unproven_reports import recorded_details

    bare = _rescue(desk, FLOOD[0], 1)
    named = _rescue(desk, FLOOD[1], 2, company="Real Customer Inc")
    with desk.hotline.db.session() as s:
        bare, named = s.get(Incident, bare.id), s.get(Incident, named.id)
        [line] = s.scalars(select(IncidentEvent.detail).where(IncidentEvent.incident_id == bare.id,
                                                              IncidentEvent.kind == "incident_rescued"))
        assert line["callback"] == "caller_id" and bare.callback_phone == FLOOD[0]
        assert not recorded_details(s, bare) and recorded_details(s, named)


def test_a_real_customers_voice_page_leaves_ahead_of_a_floods_queued_voice_pages(desk, twilio, redis_conn):
    hotline, start = desk.hotline, desk.clock.now()
    flood = [_voice_page(desk, _rescue(desk, number, i), i) for i, number in enumerate(FLOOD)]
    real = _voice_page(desk, _rescue(desk, REAL, 99, company="Real Customer Inc"), 99)
    pacer = Pacer(SendRate(redis_conn, f"{hotline.settings.queue_name}:flood-test", {CALLS: 1.0, SMS: 10.0}),
                  desk.clock, sleep=lambda s: desk.clock.advance(seconds=s))
    sender = PageSender(hotline.db, hotline.telephony, PageUrls(hotline.settings), pacer)
    for page_id in flood:  # the flood's pages all come up at once: one leaves, the rest wait for free slots
        sender.send(page_id, start)
    desk.clock.set(start)
    sender.send(real, start)  # the real customer's page comes up at the same moment
    with hotline.db.session() as s:
        page = s.get(Page, real)
        # the next slot after the one call that left: not behind the five flood pages still queued (+6 s before)
        assert page.status == PageStatus.QUEUED and page.attempts == 0
        assert page.next_attempt_at.replace(tzinfo=start.tzinfo) == start + timedelta(seconds=1)
        waiting = [s.get(Page, p) for p in flood]
        assert sum(p.status == PageStatus.SENT for p in waiting) == 1  # the flood is paged too, one a second
    desk.clock.set(start + timedelta(seconds=1))
    sender.send(real, desk.clock.now())
    with hotline.db.session() as s:
        assert s.get(Page, real).status == PageStatus.SENT


def test_a_flood_page_held_back_longer_than_the_bound_takes_its_place_in_line(desk, twilio, redis_conn):
    hotline, start = desk.hotline, desk.clock.now()
    page_id = _voice_page(desk, _rescue(desk, FLOOD[0], 1), 1)
    pacer = Pacer(SendRate(redis_conn, f"{hotline.settings.queue_name}:flood-line", {CALLS: 1.0, SMS: 10.0}),
                  desk.clock, sleep=lambda s: desk.clock.advance(seconds=s))
    for n in range(3):  # three seconds of calls booked by pages of reports with details
        pacer.rate.reserve(CALLS, f"page-{9700 + n}-0", start + timedelta(minutes=5))
    desk.clock.set(start + timedelta(minutes=5))
    PageSender(hotline.db, hotline.telephony, PageUrls(hotline.settings), pacer).send(page_id, desk.clock.now())
    with hotline.db.session() as s:  # held five minutes: it reserves the slot after them, which stays its own
        page = s.get(Page, page_id)
        assert page.next_attempt_at.replace(tzinfo=start.tzinfo) == start + timedelta(minutes=5, seconds=3)
    assert pacer.rate.reserve(CALLS, f"page-{page_id}-0", desk.clock.now()) == page.next_attempt_at.replace(
        tzinfo=start.tzinfo)


def test_receipts_to_unproven_numbers_are_bounded_an_hour_and_the_withheld_one_is_logged(desk, network, monkeypatch):
    from app.services import unproven_reports

    monkeypatch.setattr(unproven_reports, "UNPROVEN_RECEIPTS_PER_HOUR", 2)
    alice = network.phone(ALICE)
    for number in FLOOD[:2]:
        network.phone(number).expect_sms("we have your report")
    for _ in range(4):
        alice.expect_sms("SEV1").expect_call(answer=False)
    network.phone(REAL).expect_sms("we have your report")  # a report with details: its receipt goes
    incidents = [_rescue(desk, number, i, settle=True) for i, number in enumerate(FLOOD[:3])]
    _rescue(desk, REAL, 99, company="Real Customer Inc", settle=True)
    desk.settle()
    assert network.phone(FLOOD[2]).sms == []  # no receipt to the third unproven number in the hour
    with desk.hotline.db.session() as s:
        withheld = s.scalars(select(IncidentEvent.incident_id).where(IncidentEvent.kind == "receipt_withheld")).all()
        assert withheld == [incidents[2].id]
        paged = s.scalars(select(Page.incident_id).where(Page.purpose == "page", Page.to_number == ALICE)).all()
        assert incidents[2].id in paged  # still a paged Sev-1: only the receipt is withheld
    assert alice.unmet == []


def test_a_call_hung_up_right_after_triage_is_a_paged_rescue_without_recorded_details(desk, network):
    from hotline_sim.phone import SimulatedCall, flask_transport
    from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN

    network.phone(FLOOD[0]).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    call = SimulatedCall(transport=flask_transport(desk.client), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller=FLOOD[0])
    call.dial()
    call.press("1")  # English
    call.press("1")  # API calls failing
    call.hang_up()
    desk.settle()
    with desk.hotline.db.session() as s:
        [incident] = s.scalars(select(Incident).where(Incident.caller_id == FLOOD[0])).all()
        assert incident.source == "rescued" and incident.callback_phone == FLOOD[0]
        [line] = s.scalars(select(IncidentEvent.detail).where(IncidentEvent.incident_id == incident.id,
                                                              IncidentEvent.kind == "incident_rescued"))
        assert line.get("callback") == "caller_id"  # the number is the caller ID: nothing recorded by the caller
    assert alice.unmet == []


def test_a_missed_callers_sms_reply_proves_their_number_so_its_report_has_recorded_details(desk):
    from app.services.unproven_reports import recorded_details

    with desk.hotline.db.transaction() as s:
        incident = rescue_call(s, call_sid="CA" + "c" * 32, from_number=FLOOD[0], now=desk.clock.now(),
                               reason="missed_call_sms_reply", policy=policy_from(desk.hotline.settings),
                               problem_text="SMTP down", number_proven=True)
        assert incident.callback_phone == FLOOD[0] and recorded_details(s, incident)


def test_receipt_steps_run_at_the_same_moment_send_no_more_receipts_than_the_bound(desk, monkeypatch):
    """Each receipt step counted the hour's receipts to unproven numbers, then wrote its own: steps run at once (two
    workers, a watchdog's take-over) each read the same count. Counted under one lock, they take turns."""
    import threading

    from app.models import DueStep, StepKind
    from app.services import unproven_reports
    from app.services.escalation_steps import run_due_step

    monkeypatch.setattr(unproven_reports, "UNPROVEN_RECEIPTS_PER_HOUR", 2)
    flood = [f"+1646556{1000 + i:04d}" for i in range(6)]
    incidents = [_rescue(desk, number, 200 + i) for i, number in enumerate(flood)]  # their receipt steps not run
    with desk.hotline.db.session() as s:
        steps = {step.incident_id: step.id for step in s.scalars(select(DueStep).where(
            DueStep.kind == StepKind.RECEIPT, DueStep.incident_id.in_([i.id for i in incidents])))}
    assert len(steps) == len(flood)
    start, failures = threading.Barrier(len(flood)), []

    def run(incident_id: int) -> None:
        try:
            start.wait()
            with desk.hotline.db.transaction() as s:
                run_due_step(s, s.get(Incident, incident_id), s.get(DueStep, steps[incident_id]), desk.clock.now())
        except Exception as exc:  # noqa: BLE001 - the test reads what ended a run
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i.id,)) for i in incidents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with desk.hotline.db.session() as s:
        receipts = s.scalars(select(Page.incident_id).where(Page.purpose == "receipt")).all()
        withheld = s.scalars(select(IncidentEvent.incident_id).where(IncidentEvent.kind == "receipt_withheld")).all()
    assert len(receipts) == 2 and len(withheld) == len(flood) - 2, (receipts, withheld)
