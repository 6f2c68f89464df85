"""A status lookup's row is deleted once no pass asks its resource again: ``status_lookups`` holds only the last
hours' lookups, and the asks stay in the incident's log (app/services/status_lookups.py, the watchdog's leader)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.event_kind import EventKind
from app.models import Channel, Incident, IncidentEvent, Page, PageStatus, StatusLookup
from app.services.status_lookups import FORGET_AFTER, HORIZON, forget_past_lookups
from hotline_sim.backoffice import work
from hotline_sim.twilio_records import ApiMessage, new_sid
from tests.paging.conftest import ALICE
from workers import watchdog


def _lost_report_pages(desk, twilio, sent_at: list) -> list[int]:
    """Page SMS accepted by Twilio at ``sent_at`` whose delivery reports never came; their ids."""
    with desk.hotline.db.transaction() as s:
        incident = Incident(reference="515151", received_at=desk.t0, captured_at=desk.t0,
                            callback_due_at=desk.t0 + timedelta(minutes=15))
        s.add(incident)
        s.flush()
        pages = []
        for sent in sent_at:
            message = twilio.add_message(ApiMessage(sid=new_sid("SM"), to=ALICE, from_="+15005550006",
                                                    body="SEV1 515151", date_created=sent, status="sent"))
            pages.append(Page(incident_id=incident.id, channel=Channel.SMS, to_number=ALICE, status=PageStatus.SENT,
                              twilio_sid=message.sid, next_attempt_at=sent, created_at=sent, sent_at=sent,
                              updated_at=sent))
        s.add_all(pages)
        s.flush()
        return [page.id for page in pages]


def _lookups(desk) -> dict[int, int]:
    with desk.hotline.db.session() as s:
        return dict(s.execute(select(StatusLookup.target_id, StatusLookup.asks)
                              .where(StatusLookup.kind == "page_status")).all())


def _asked_lines(desk) -> int:
    with desk.hotline.db.session() as s:
        return s.scalar(select(func.count()).select_from(IncidentEvent)
                        .where(IncidentEvent.kind == EventKind.STATUS_ASKED)) or 0


def test_the_leaders_pass_deletes_the_lookups_past_the_horizon_and_keeps_the_recent_ones(desk, twilio):
    t0 = desk.t0
    old, recent = _lost_report_pages(desk, twilio, [t0, t0 + HORIZON])
    desk.clock.set(t0 + timedelta(minutes=3))
    work(desk.hotline)
    desk.clock.set(t0 + HORIZON + timedelta(minutes=3))
    work(desk.hotline)
    assert set(_lookups(desk)) == {old, recent}  # each was asked, and its row says so
    asked = _asked_lines(desk)
    assert asked >= 2

    desk.clock.set(t0 + FORGET_AFTER - timedelta(seconds=1))
    watchdog.tick(desk.hotline, "worker-1")
    assert set(_lookups(desk)) == {old, recent}  # within the margin the old row stays

    desk.clock.set(t0 + FORGET_AFTER + timedelta(seconds=1))
    watchdog.tick(desk.hotline, "worker-1")  # the leader's pass
    lookups = _lookups(desk)
    assert set(lookups) == {recent}
    assert _asked_lines(desk) >= asked  # the asks stay in the incident's log

    work(desk.hotline)  # the old page is never asked again, nor counted from the start again
    assert old not in _lookups(desk)


def test_a_pass_deletes_a_bounded_number_the_rest_at_the_next(desk, twilio):
    t0 = desk.t0
    pages = _lost_report_pages(desk, twilio, [t0 + timedelta(seconds=i) for i in range(5)])
    desk.clock.set(t0 + timedelta(minutes=3))
    work(desk.hotline)
    assert set(_lookups(desk)) == set(pages)
    now = t0 + FORGET_AFTER + timedelta(minutes=1)
    with desk.hotline.db.transaction() as s:
        assert forget_past_lookups(s, now, limit=3) == 3
    assert len(_lookups(desk)) == 2
    with desk.hotline.db.transaction() as s:
        assert forget_past_lookups(s, now, limit=3) == 2
        assert forget_past_lookups(s, now, limit=3) == 0
    assert _lookups(desk) == {}


def test_a_failed_housekeeping_is_logged_and_the_pass_still_counts_its_work(desk, caplog):
    def broken(session, now):
        raise RuntimeError("database went away")

    assert watchdog.forget(desk.hotline, broken, "delete the status lookups no pass asks again") == 0
    assert "could not delete the status lookups no pass asks again" in caplog.text
