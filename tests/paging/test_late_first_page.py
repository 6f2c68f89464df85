"""A first page that leaves late because no worker ran: its record says how late, and the next level's call to the
same rep waits a minute after the first call really left.

An outside probe killed both workers before an intake; the page step ran in the web process ("lateness 0.0") and its
pages left 158 s later, when a worker started; the level-1 step, on its own time, rang Alice again 23 s after that.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import Channel, IncidentEvent, Page
from tests.paging.conftest import ALICE, BOB, CUSTOMER


def _calls_to(desk, number: str) -> list[Page]:
    with desk.hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.to_number == number, Page.channel == Channel.VOICE)
                              .order_by(Page.id)))


def _events(desk, incident_id: int, kind: str | None) -> list[IncidentEvent]:
    """The incident's log lines of ``kind`` (None: all)."""
    with desk.hotline.db.session() as s:
        stmt = select(IncidentEvent).where(IncidentEvent.incident_id == incident_id).order_by(IncidentEvent.id)
        return list(s.scalars(stmt.where(IncidentEvent.kind == kind) if kind else stmt).all())


def test_a_first_page_sent_late_says_so_and_the_next_level_calls_the_same_rep_a_minute_after_it(desk, network):
    network.phone(CUSTOMER).expect_sms("we have your report")
    alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
    incident = desk.open_incident()  # the web process runs the page step; no worker runs to send its pages
    opened = desk.clock.now()
    desk.clock.set(opened + timedelta(minutes=2, seconds=40))
    desk.settle()  # a worker starts: the first pages leave 160 s late
    [first] = _calls_to(desk, ALICE)
    assert first.sent_at == opened + timedelta(minutes=2, seconds=40)
    sent = [e for e in _events(desk, incident.id, "page_sent") if e.detail["page_id"] == first.id]
    assert sent[0].detail["late_seconds"] >= 159
    with desk.hotline.db.session() as s:
        pages = list(s.scalars(select(Page).where(Page.incident_id == incident.id)))
        lines = [entry.text for entry in timeline(_events(desk, incident.id, None), pages)]
    assert any("after it was due" in line and "2 min" in line for line in lines), lines

    network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=3)  # level 1 on its own time: Bob is paged; Alice's second call waits for its minute
    again = _calls_to(desk, ALICE)
    assert len(again) == 2 and again[1].sent_at is None
    held = _events(desk, incident.id, "page_held")
    assert held[-1].detail["page_id"] == again[1].id and held[-1].detail["why"] == "spaced_from_last_call"
    assert held[-1].detail["until"] == (first.sent_at + timedelta(minutes=1)).isoformat()
    alice.expect_call(answer=False)
    desk.at(minutes=3, seconds=40)
    second = _calls_to(desk, ALICE)[1]
    assert second.sent_at - first.sent_at == timedelta(minutes=1)
