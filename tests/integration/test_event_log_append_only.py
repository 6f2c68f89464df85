"""The incident event log is append-only: the database refuses UPDATE and DELETE, the API refuses and logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.models import AppendOnlyViolation, Incident, IncidentEvent
from app.models.event_guard import install
from app.services.api_tokens import create_token
from app.services.events import log_event

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@pytest.fixture
def incident(hotline) -> tuple[str, int]:
    """An incident with its opening line; returns (reference, id of that line)."""
    with hotline.db.transaction() as session:
        incident = Incident(reference="LOG1", received_at=T0, captured_at=T0, callback_due_at=T0 + timedelta(minutes=15))
        session.add(incident)
        session.flush()
        event = log_event(session, at=T0, actor="ivr", kind="incident_opened", incident_id=incident.id,
                          detail={"reference": "LOG1", "callback_due_at": incident.callback_due_at.isoformat()})
        session.flush()
        return incident.reference, event.id


@pytest.fixture
def auth(hotline, clock) -> dict[str, str]:
    with hotline.db.transaction() as session:
        token = create_token(session, "auditor-script", clock.now(), scopes=("incidents:read",))
    return {"Authorization": f"Bearer {token}"}


def _count(hotline) -> int:
    with hotline.db.session() as session:
        return session.scalar(select(func.count()).select_from(IncidentEvent))


def _row(hotline, event_id: int) -> tuple:
    with hotline.db.session() as session:
        return session.execute(text("SELECT kind, actor FROM incident_events WHERE id = :id"), {"id": event_id}).one()


@pytest.mark.parametrize("statement", [
    "UPDATE incident_events SET kind = 'callback_met', actor = 'someone' WHERE id = :id",
    "DELETE FROM incident_events WHERE id = :id",
    "DELETE FROM incident_events",
])
def test_raw_sql_cannot_change_or_delete_an_event(hotline, incident, statement):
    _, event_id = incident
    with pytest.raises(DBAPIError, match="incident_events is append-only"):
        with hotline.db.engine.begin() as conn:
            conn.execute(text(statement), {"id": event_id})
    assert _row(hotline, event_id) == ("incident_opened", "ivr")
    assert _count(hotline) == 1


def test_inserting_still_works_and_installing_twice_is_harmless(hotline, incident):
    with hotline.db.engine.begin() as conn:
        install(conn)
        install(conn)
    with hotline.db.transaction() as session:
        log_event(session, at=T0, actor="Alice", kind="note", detail={"text": "called"})
    assert _count(hotline) == 2
    with pytest.raises(DBAPIError, match="append-only"):
        with hotline.db.engine.begin() as conn:
            conn.execute(text("UPDATE incident_events SET actor = 'x'"))


def test_the_orm_refuses_too(hotline, incident):
    _, event_id = incident
    with pytest.raises(AppendOnlyViolation), hotline.db.transaction() as session:
        session.get(IncidentEvent, event_id).kind = "callback_met"
    assert _row(hotline, event_id) == ("incident_opened", "ivr")


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_the_api_refuses_a_change_and_logs_the_attempt(client, hotline, clock, auth, incident, method):
    reference, event_id = incident
    before = _count(hotline)
    response = getattr(client, method)(f"/api/v1/incidents/{reference}/events/{event_id}", headers=auth,
                                       json={"kind": "callback_met", "actor": "forger"})
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    error = response.get_json()["error"]
    assert error["code"] == "append_only"
    assert "append-only" in error["message"] and "logged" in error["message"]
    assert _row(hotline, event_id) == ("incident_opened", "ivr")
    assert _count(hotline) == before + 1
    with hotline.db.session() as session:
        refused = session.scalars(select(IncidentEvent).where(IncidentEvent.kind == "event_change_refused")).one()
    assert refused.actor == "api:auditor-script"
    assert refused.at == clock.now()
    assert refused.detail == {
        "event_id": event_id, "event_found": True, "event_kind": "incident_opened", "method": method.upper(),
        "attempted": "delete" if method == "delete" else "update", "fields": ["actor", "kind"],
        "remote_addr": "127.0.0.1",
    }


def test_the_refusal_line_itself_cannot_be_removed_through_the_api(client, hotline, clock, auth, incident):
    reference, _ = incident
    client.delete(f"/api/v1/incidents/{reference}/events/1", headers=auth)
    counts = [_count(hotline)]
    with hotline.db.session() as session:
        refusal_id = session.scalar(select(IncidentEvent.id).where(IncidentEvent.kind == "event_change_refused"))
    for _ in range(3):
        clock.advance(hours=1)  # a line per token and incident an hour
        assert client.delete(f"/api/v1/incidents/{reference}/events/{refusal_id}", headers=auth).status_code == 405
        counts.append(_count(hotline))
    assert counts == [2, 3, 4, 5]  # the count of events only grows
    got = client.get(f"/api/v1/incidents/{reference}/events/{refusal_id}", headers=auth)
    assert got.status_code == 200
    assert got.get_json()["kind"] == "event_change_refused"


def test_an_unknown_event_on_a_known_incident_is_still_refused_and_logged(client, hotline, auth, incident):
    reference, _ = incident
    response = client.put(f"/api/v1/incidents/{reference}/events/999999", headers=auth, json={})
    assert response.status_code == 405
    with hotline.db.session() as session:
        refused = session.scalars(select(IncidentEvent).where(IncidentEvent.kind == "event_change_refused")).one()
    assert (refused.detail["event_id"], refused.detail["event_found"]) == ("999999", False)


def _incidents(hotline, count: int) -> list[str]:
    with hotline.db.transaction() as session:
        made = [Incident(reference=f"RO{n}", received_at=T0, captured_at=T0, callback_due_at=T0 + timedelta(minutes=15))
                for n in range(count)]
        session.add_all(made)
    return [i.reference for i in made]


def _refusal_lines(hotline) -> list[tuple[int, datetime]]:
    with hotline.db.session() as session:
        return list(session.execute(select(IncidentEvent.incident_id, IncidentEvent.at)
                                    .where(IncidentEvent.kind == "event_change_refused").order_by(IncidentEvent.id)))


def test_a_read_only_token_repeating_refused_changes_adds_one_line_per_incident_and_hour(
        client, hotline, clock, auth, incident, caplog):
    # a leaked incidents:read token must not be able to grow the append-only log (kept forever) at its request
    # rate: the first refusal per token and incident in an hour is a line of the incident's log; every refusal,
    # that one included, is a WARNING of the app.security log (its rotation bounds it) naming the token
    reference, event_id = incident
    caplog.set_level(logging.WARNING, logger="app.security")
    for method in ("put", "patch", "delete") * 20:
        response = getattr(client, method)(f"/api/v1/incidents/{reference}/events/{event_id}", headers=auth, json={})
        assert response.status_code == 405
    assert [at for _, at in _refusal_lines(hotline)] == [clock.now()]
    warnings = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(warnings) == 60 and all("auditor-script" in w and reference in w for w in warnings)
    clock.advance(minutes=59)
    client.delete(f"/api/v1/incidents/{reference}/events/{event_id}", headers=auth)
    assert len(_refusal_lines(hotline)) == 1
    clock.advance(minutes=1)  # an hour after the line: the next refusal is a line again
    client.delete(f"/api/v1/incidents/{reference}/events/{event_id}", headers=auth)
    assert [at for _, at in _refusal_lines(hotline)] == [clock.now() - timedelta(hours=1), clock.now()]


def test_a_read_only_token_refused_on_many_incidents_adds_at_most_ten_lines_an_hour(client, hotline, clock, auth):
    references = _incidents(hotline, 30)
    for _ in range(3):
        for reference in references:
            assert client.delete(f"/api/v1/incidents/{reference}/events/1", headers=auth).status_code == 405
    assert len(_refusal_lines(hotline)) == 10  # the first ten incidents'
    assert len({incident_id for incident_id, _ in _refusal_lines(hotline)}) == 10
    clock.advance(hours=1)
    client.delete(f"/api/v1/incidents/{references[-1]}/events/1", headers=auth)
    assert len(_refusal_lines(hotline)) == 11


def test_without_a_token_nothing_is_logged(client, hotline, incident):
    reference, event_id = incident
    response = client.delete(f"/api/v1/incidents/{reference}/events/{event_id}")
    assert response.status_code == 401
    assert _count(hotline) == 1


def test_an_unknown_incident_is_404(client, hotline, auth, incident):
    response = client.patch("/api/v1/incidents/NOPE/events/1", headers=auth, json={})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert _count(hotline) == 1
