"""The number of people a decision alerted, as its log line records it, is the number of messages it wrote.

At T+10 the at-risk alert goes to the managers, everyone paged so far and the owner (else whoever the first level
reaches now): Maria, Bob and Alice here, one SMS each. The log line added up every audience before the same person
named twice over was told once: ``callback_at_risk {"alerted": 5}`` and "5 alerts sent" on the timeline, beside
"At-risk check (T+10): alerted 3" and three SMS. The API, the helpdesk feed and the incident page show that line.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.dashboard.timeline import timeline
from app.models import DueStep, IncidentEvent, Page, Role, StepKind
from app.services.api_tokens import create_token
from tests.integration.dashboard_support import login_as
from tests.paging.conftest import ALICE, BOB, MARIA


def _at_risk_alert(desk, network):
    """Nobody acknowledges: Alice (T+0), Bob (T+3) and Maria (T+6) are paged, and at T+10 each is told AT RISK."""
    incident, _customer = desk.unanswered_until_minute_3(network)
    network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
    desk.at(minutes=6)
    for number in (ALICE, BOB, MARIA):
        network.phone(number).expect_sms("AT RISK")
    desk.at(minutes=10)
    return incident


def _api_get(desk, path: str) -> dict:
    with desk.hotline.db.transaction() as s:  # a name of its own per read (active tokens' names are unique)
        token = create_token(s, f"counts-{uuid.uuid4().hex[:8]}", desk.clock.now(), ("incidents:read",))
    return desk.client.get(path, headers={"Authorization": f"Bearer {token}"}).get_json()


def test_the_at_risk_line_counts_each_person_alerted_once_everywhere_it_is_shown(desk, network):
    incident = _at_risk_alert(desk, network)
    with desk.hotline.db.session() as s:
        sms = s.scalars(select(Page.to_number).where(Page.incident_id == incident.id,
                                                     Page.purpose == "at_risk")).all()
        [line] = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id,
                                                       IncidentEvent.kind == "callback_at_risk")).all()
        step = s.scalars(select(DueStep).where(DueStep.incident_id == incident.id,
                                               DueStep.kind == StepKind.AT_RISK)).one()
        events = list(s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id)
                                .order_by(IncidentEvent.at, IncidentEvent.id)))
    assert sorted(sms) == sorted([ALICE, BOB, MARIA])  # one SMS each, though Maria and Alice are named twice over
    assert line.detail["alerted"] == 3 == len(sms)  # was 5: managers 1 + paged so far 3 + primary 1
    assert step.outcome == "alerted_3"  # the step's own count agrees
    words = [entry.text for entry in timeline(events, [])]
    assert "Callback at risk: no callback started; 3 alerts queued" in words
    assert "At-risk check (T+10): alerted 3" in words
    api = _api_get(desk, f"/api/v1/incidents/{incident.reference}")
    assert [e["detail"]["alerted"] for e in api["events"] if e["kind"] == "callback_at_risk"] == [3]
    feed = _api_get(desk, "/api/v1/events?limit=500")
    assert [e["detail"]["alerted"] for e in feed["events"] if e["kind"] == "callback_at_risk"] == [3]
    login_as(desk.client, desk.hotline, Role.MANAGER)
    page = desk.client.get(f"/incidents/{incident.reference}").get_data(as_text=True)
    assert "3 alerts queued" in page and "5 alerts" not in page
