"""No page is logged as sent unless THIS page's request was accepted (issue 8, first row).

Two incidents page the same rep. When the second incident's voice page hits a Twilio 500,
or its worker dies mid-send, the retry must not take the first incident's call to the same
rep for its own: a call resource names nothing of ours, so a call is only ever proven by the
page's own status callback. When nothing proves it, the page is placed again and its
``page_sent`` event says it may be a duplicate.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.models import DueStep, IncidentEvent, Page, PageStatus
from app.services.oncall_admin import save_policy
from app.services.pages import STALE_SENDING, backoff
from hotline_sim.twilio_records import ApiCall, new_sid
from tests.conftest import PUBLIC_BASE_URL
from tests.paging.conftest import ALICE
from workers import watchdog
from workers.consuming import StoppableWorker

LANDLINE_A, LANDLINE_B = "+442079460958", "+442079460959"  # fixed lines: no receipt SMS


def _voice_only(desk) -> None:
    levels = [{"delay_minutes": 0, "targets": [{"type": "schedule", "schedule": "primary", "channels": ["voice"]}]}]
    with desk.hotline.db.transaction() as s:
        save_policy(s, "voice-only", levels, is_default=True)


def _voice_page(desk, incident_id: int) -> Page:
    with desk.hotline.db.session() as s:
        return s.scalars(select(Page).join(DueStep, DueStep.id == Page.step_id).where(
            Page.incident_id == incident_id, Page.channel == "voice", DueStep.level == 0)).one()


def _sent_event(desk, page_id: int) -> IncidentEvent:
    with desk.hotline.db.session() as s:
        return next(e for e in s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "page_sent"))
                    if e.detail["page_id"] == page_id)


def _burst(desk) -> None:
    """A few watchdog passes and RQ bursts at the current instant (no phone network: callbacks come later)."""
    for _ in range(5):
        watchdog.sweep(desk.hotline)
        StoppableWorker(desk.hotline.jobs.queues, connection=desk.hotline.jobs.redis).work(
            burst=True, logging_level="WARNING")


def _rang_out(desk) -> None:
    """A's call rings out and its end is heard: a page call to Alice still ringing would hold B's (``busy_lines``);
    Twilio's records keep A's call, which B's lookup finds."""
    desk.network.run()


def test_a_500_on_a_voice_page_never_adopts_another_incidents_call_to_the_same_rep(desk, network, twilio):
    _voice_only(desk)
    alice = network.phone(ALICE)
    alice.expect_call(answer=False).expect_call(answer=False)
    first = desk.open_incident(caller=LANDLINE_A)
    _burst(desk)  # incident A's page call to Alice is accepted
    [call_a] = twilio.calls
    _rang_out(desk)
    twilio.fail_next(1, status=500)
    second = desk.open_incident(caller=LANDLINE_B)
    _burst(desk)
    page_b = _voice_page(desk, second.id)
    assert (page_b.status, page_b.twilio_sid) == (PageStatus.QUEUED, "")
    assert page_b.last_error.startswith("OutcomeUnknown")

    desk.clock.set(desk.t0 + backoff(1))
    _burst(desk)
    page_a, page_b = _voice_page(desk, first.id), _voice_page(desk, second.id)
    [_, call_b] = twilio.calls  # B's page was placed: Alice's phone rings for B too
    assert page_a.twilio_sid == call_a.sid
    assert page_b.twilio_sid == call_b.sid != call_a.sid  # never A's call
    assert call_b.url.endswith(f"?page={page_b.id}")
    detail = _sent_event(desk, page_b.id).detail
    assert detail["adopted"] is False and detail["possible_duplicate"] is True
    # the lookup finds A's call: it proves only that B's page may go twice, never that it went
    assert [r.method for r in twilio.requests] == ["POST", "POST", "GET", "POST"]
    desk.settle()
    assert len(alice.calls) == 2


@pytest.mark.parametrize("outcome", ["request_lost", "request_accepted"])
def test_a_worker_killed_mid_send_on_a_voice_page_sends_it_again_and_says_it_may_be_a_duplicate(
        desk, network, twilio, outcome):
    _voice_only(desk)
    alice = network.phone(ALICE)
    alice.expect_call(answer=False).expect_call(answer=False)
    desk.open_incident(caller=LANDLINE_A)
    _burst(desk)
    [call_a] = twilio.calls
    _rang_out(desk)
    second = desk.open_incident(caller=LANDLINE_B)
    step_b = _voice_page_step(desk, second.id)
    assert _ran_at_opening(desk, step_b)  # the opening ran the step, which wrote B's page ...
    page_b = _voice_page(desk, second.id)
    claimed = desk.clock.now()
    with desk.hotline.db.transaction() as s:  # ... a worker claims it and is SIGKILLed
        s.execute(update(Page).where(Page.id == page_b.id).values(
            status=PageStatus.SENDING, sending_since=claimed, attempts=1, updated_at=claimed))
    if outcome == "request_accepted":  # the dead worker's request did reach Twilio; its callbacks are lost
        alice.expect_call(answer=False)
        twilio.add_call(ApiCall(sid=new_sid("CA"), to=ALICE, from_=desk.hotline.settings.twilio_number,
                                date_created=claimed, url=f"{PUBLIC_BASE_URL}/twilio/page/voice?page={page_b.id}"))
    desk.clock.set(claimed + STALE_SENDING + timedelta(seconds=1))
    _burst(desk)
    page_b = _voice_page(desk, second.id)
    assert page_b.status == PageStatus.SENT and page_b.attempts == 2
    assert page_b.twilio_sid not in ("", call_a.sid)
    assert page_b.sent_at - claimed <= timedelta(seconds=15)
    detail = _sent_event(desk, page_b.id).detail
    assert detail["adopted"] is False and detail["possible_duplicate"] is True
    desk.settle()


def _ran_at_opening(desk, step_id: int) -> bool:
    """The first page step ran in the transaction that opened its incident (``escalation.plan_escalation``)."""
    with desk.hotline.db.session() as s:
        return s.get(DueStep, step_id).status == "done"


def _voice_page_step(desk, incident_id: int) -> int:
    with desk.hotline.db.session() as s:
        return s.scalars(select(DueStep.id).where(DueStep.incident_id == incident_id, DueStep.kind == "page",
                                                  DueStep.level == 0)).one()


def test_two_workers_claiming_one_page_at_once_only_one_sends_it(desk, network, twilio, database_url):
    """While Redis is down both workers' watchdogs run the same due page; only one claim may win.

    SQLite ignores FOR UPDATE and pysqlite reads outside the transaction, so worker B may read the
    row as queued, then worker A claims and commits, then B writes its claim: the chaos run saw
    pages sent twice that way. The claim is a compare-and-set on what was read.
    (PostgreSQL's FOR UPDATE makes B wait for A instead, so the interleaving cannot happen there.)
    """
    if not database_url.startswith("sqlite"):
        pytest.skip("FOR UPDATE serializes the claims on PostgreSQL")
    from sqlalchemy import event

    from app.services.page_urls import PageUrls
    from app.services.pages import PageSender

    _voice_only(desk)
    incident = desk.open_incident(caller=LANDLINE_A)
    assert _ran_at_opening(desk, _voice_page_step(desk, incident.id))
    page = _voice_page(desk, incident.id)
    db = desk.hotline.db
    sender = PageSender(db, desk.hotline.telephony, PageUrls(desk.hotline.settings))
    now = desk.clock.now()
    claims = []

    def worker_a_claims_first(conn, cursor, statement, *args):
        if statement.startswith("UPDATE pages") and not claims:  # B has read the row and is about to write
            claims.append("A")
            with db.transaction() as other:
                claims.append(sender._claim(other, page.id, now) is not None)

    event.listen(db.engine, "before_cursor_execute", worker_a_claims_first)
    try:
        with db.transaction() as session:
            b_claimed = sender._claim(session, page.id, now) is not None
    finally:
        event.remove(db.engine, "before_cursor_execute", worker_a_claims_first)
    assert claims == ["A", True]
    assert b_claimed is False  # B's claim on what it read no longer matches
    assert _voice_page(desk, incident.id).attempts == 1
