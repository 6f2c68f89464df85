"""Every time the updates and outage pages show says its zone: a rep at night must not take UTC for local time."""

from __future__ import annotations

import re
from email.utils import format_datetime

from app.models import Incident, Role
from app.services.callbacks import confirm_person, customer_leg_status, open_callback
from tests.integration.board_support import make_incident, parse
from tests.integration.dashboard_support import login_as, post_form

CLOCK_TIME = re.compile(r"\b\d{2}:\d{2}\b(?!:)")  # an HH:MM time


def _unzoned(text: str) -> list[str]:
    """The HH:MM times in ``text`` not followed by a zone."""
    return [m.group(0) for m in CLOCK_TIME.finditer(text) if not text[m.end():].lstrip().startswith("UTC")]


def _called_back(hotline, clock) -> int:
    """An incident whose customer answered a bridged callback now (a met callback); returns its id."""
    incident_id = make_incident(hotline)
    now = clock.now()
    with hotline.db.transaction() as session:
        incident = session.get(Incident, incident_id)
        callback = open_callback(session, incident, None, now, rep_call_sid="CA" + "1" * 32)
        customer_leg_status(session, callback.id, "answered", format_datetime(now), "CA" + "2" * 32, now)
        confirm_person(session, callback.id, now)
    return incident_id


def test_the_updates_page_says_utc_for_proposals_and_updates(client, hotline, clock):
    _called_back(hotline, clock)
    login_as(client, hotline, Role.MANAGER)
    post_form(client, "/incidents/123456/updates", {"what_is_wrong": "Mail relay down", "expected_resolution": "1 h"})
    post_form(client, "/incidents/123456/updates/propose", {"kind": "resolved", "summary": "Relay restarted"})

    doc = parse(client.get("/incidents/123456/updates"))
    proposed = doc.find(id="proposals").find_all("tr")[1].text()
    written = doc.find(id="updates").find_all("tr")[1].text()
    assert "Manager" in proposed and CLOCK_TIME.search(proposed) and "Mail relay down" in written
    assert _unzoned(proposed) == [] and _unzoned(written) == []


def test_the_outage_pages_say_utc_for_every_time(client, hotline, clock):
    login_as(client, hotline, Role.MANAGER)
    post_form(client, "/outages", {"affected_service": "any", "what_fails": "SMTP relay in Frankfurt"})
    post_form(client, "/outages/1/resolve", {"summary": "Relay restarted"})

    said = parse(client.get("/outages/1")).find("h1").text() + " " + parse(client.get("/outages/1")).find("main").text()
    listed = parse(client.get("/outages")).find("table").text()
    assert "Resolved" in said and "resolved" in listed
    assert _unzoned(said) == [] and _unzoned(listed) == []


def test_an_incident_resolved_without_a_callback_reads_breached_once_its_deadline_passed(client, hotline, clock):
    from sqlalchemy import select

    from app.models import IncidentEvent
    from app.reports.facts import IncidentFacts

    incident_id = make_incident(hotline)  # captured at 02:57, due 03:12
    login_as(client, hotline, Role.MANAGER)
    post_form(client, "/incidents/123456/resolve", {"reason": "Customer cancelled on the phone"})
    clock.advance(minutes=13)  # 03:13: the deadline passed without a met callback

    with hotline.db.session() as session:
        assert session.get(Incident, incident_id).status == "resolved"
        events = list(session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)))
    assert IncidentFacts.from_events(events).breached(clock.now())  # the report's verdict
    deadline = parse(client.get("/incidents/123456")).find(id="deadline-text")
    assert deadline.find(cls="word").text() == "Breached"
    assert "bad" in deadline.attrs["class"].split()


def test_a_proposal_that_never_reached_the_customer_is_said_so_on_the_timeline(client, hotline, clock):
    from sqlalchemy import select

    from app.models import DueStep, ResolutionProposal, StepKind
    from app.services.resolution import expire

    incident_id = _called_back(hotline, clock)
    login_as(client, hotline, Role.MANAGER)
    post_form(client, "/incidents/123456/updates/propose", {"kind": "resolved", "summary": "Relay restarted"})
    with hotline.db.transaction() as session:  # no message of it was sent when its silence ran out
        step = session.scalars(select(DueStep).where(DueStep.incident_id == incident_id,
                                                     DueStep.kind == StepKind.RESOLUTION_EXPIRY)).one()
        clock.set(step.due_at)
        assert expire(session, session.get(Incident, incident_id), step, clock.now()) == "kept_open_undelivered"
        assert session.scalars(select(ResolutionProposal.state)).one() == "undelivered"

    login_as(client, hotline)  # the silence lasted longer than a session
    page = client.get("/incidents/123456")
    assert page.status_code == 200, page.get_data(as_text=True)[-800:]
    lines = [li for li in parse(page).find(id="timeline").find_all("li")
             if "proposal" in li.text().lower() or "resolution" in li.text().lower()]
    proposed, undelivered = lines[0], lines[-1]
    assert "proposed" in proposed.text().lower()
    assert "never reached the customer" in undelivered.text() and "still open" in undelivered.text()
    assert undelivered.attrs["class"] == "warn"
