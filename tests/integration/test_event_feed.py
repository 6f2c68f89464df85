"""GET /api/v1/events: a poller that resumes from the cursor it was handed loses no line that committed late.

A log line's ``at`` is the hotline's clock when the line was made; its transaction may commit later
(a caller spooled while the database was down is written, stamped with the call's time, when the
watchdog replays the spool; a slow transaction commits seconds after its stamp). ``updated_since``
filters on ``at``, so a poller that asks "since my last poll" steps over such a line for good.
"""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import IncidentEvent
from app.services.api_tokens import create_token
from app.services.events import log_event
from app.services.spool import replay, spool
from tests.integration.board_support import make_incident

CALLER = "+14155552671"


@pytest.fixture
def auth(hotline, clock) -> dict[str, str]:
    with hotline.db.transaction() as session:
        token = create_token(session, "helpdesk", clock.now(), scopes=["incidents:read"])
    return {"Authorization": f"Bearer {token}"}


def _iso(at) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _poll(client, auth, cursor: str | None = None, **params) -> dict:
    response = client.get("/api/v1/events", headers=auth, query_string=params | ({"cursor": cursor} if cursor else {}))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _drain(client, auth, cursor: str | None, limit: int = 100) -> tuple[list[tuple[str, str]], str]:
    """Every line the feed has after ``cursor``, page by page: (reference, kind) each, and the cursor after them."""
    seen = []
    while True:
        body = _poll(client, auth, cursor, limit=limit)
        seen += [(e["incident_reference"], e["kind"]) for e in body["events"]]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return seen, cursor


def _updated_since(client, auth, since) -> list[str]:
    response = client.get("/api/v1/incidents", headers=auth, query_string={"updated_since": _iso(since)})
    assert response.status_code == 200
    return [i["reference"] for i in response.get_json()["incidents"]]


def test_a_caller_spooled_while_the_database_was_down_reaches_the_poller_that_follows_the_cursor(
        client, auth, hotline, clock):
    make_incident(hotline, "111111", captured_at=clock.now())
    # the database stops answering; the fallback path spools a Sev-1 caller with the time of their call
    spool(hotline.settings.data_dir, "rescue", {"call_sid": "CA" + "5" * 32, "from": CALLER, "reason": "db down",
                                                "at": clock.now().isoformat(), "source": "fallback"})
    clock.advance(minutes=20)
    first_poll = clock.now()  # the database is back; the helpdesk polls before the watchdog replays the spool
    seen, cursor = _drain(client, auth, None)
    assert seen == [("111111", "incident_opened")]
    assert _updated_since(client, auth, first_poll - timedelta(minutes=1)) == []

    clock.advance(seconds=5)
    assert replay(hotline.db, hotline.settings) == 1
    with hotline.db.session() as session:
        rescued = session.scalars(select(IncidentEvent).where(IncidentEvent.kind == "incident_rescued")).one()
    assert rescued.at < first_poll  # stamped with the call's time, committed after the poll

    seen, cursor = _drain(client, auth, cursor)
    [reference] = {ref for ref, _ in seen}  # the rescued incident's lines only: nothing twice
    assert reference != "111111" and {"incident_opened", "incident_rescued"} <= {kind for _, kind in seen}
    assert _poll(client, auth, cursor)["events"] == []
    # the caveat of updated_since (README, OpenAPI): since the last poll, the rescued incident is not listed
    assert _updated_since(client, auth, first_poll) == []


ONLY_POSTGRESQL = pytest.mark.parametrize(  # SQLite lets one writer at a time hold the database: a poll waits
    "database_url", ["postgresql"], indirect=True)  # for the writer, and lines commit in id order


@ONLY_POSTGRESQL
def test_a_line_committed_after_the_poll_but_stamped_before_it_is_read_next_time(client, auth, hotline, clock):
    incident_id = make_incident(hotline, "111111", captured_at=clock.now())
    clock.advance(seconds=1)
    with hotline.db.transaction() as session:  # made at 12:00:00.5 ...
        log_event(session, at=clock.now() - timedelta(milliseconds=500), actor="Alice", kind="acknowledged",
                  incident_id=incident_id)
        session.flush()
        seen, cursor = _drain(client, auth, None)  # ... polled at 12:00:01, not committed yet
        assert seen == [("111111", "incident_opened")]
    # ... committed at 12:00:02
    seen, cursor = _drain(client, auth, cursor)
    assert seen == [("111111", "acknowledged")]
    assert _updated_since(client, auth, clock.now()) == []  # the caveat of updated_since


@ONLY_POSTGRESQL
def test_a_transaction_that_commits_after_a_later_one_is_not_skipped(client, auth, hotline, clock):
    """PostgreSQL hands out ids as transactions insert: the line with the lower id can commit last."""
    first = make_incident(hotline, "111111", captured_at=clock.now())
    second = make_incident(hotline, "222222", captured_at=clock.now())
    seen, cursor = _drain(client, auth, None)
    assert len(seen) == 2
    slow = hotline.db.session()
    try:
        log_event(slow, at=clock.now(), actor="Alice", kind="acknowledged", incident_id=first)
        slow.flush()  # the lower id, still uncommitted
        with hotline.db.transaction() as fast:
            log_event(fast, at=clock.now(), actor="Bob", kind="acknowledged", incident_id=second)
        seen, cursor = _drain(client, auth, cursor)
        assert seen == [("222222", "acknowledged")]
        slow.commit()
    finally:
        slow.close()
    with hotline.db.session() as session:
        ids = dict(session.execute(select(IncidentEvent.incident_id, IncidentEvent.id)
                                   .where(IncidentEvent.kind == "acknowledged")).all())
    assert ids[first] < ids[second]  # the case an id cursor skips
    seen, cursor = _drain(client, auth, cursor)
    assert seen == [("111111", "acknowledged")]
    assert _drain(client, auth, cursor)[0] == []


def test_pages_cut_by_the_limit_hand_out_every_line_once_while_others_commit(client, auth, hotline, clock):
    for n in range(5):
        make_incident(hotline, f"{n}{n}{n}{n}{n}{n}", captured_at=clock.now())
    first = _poll(client, auth, limit=2)
    assert first["has_more"] is True and len(first["events"]) == 2
    make_incident(hotline, "999999", captured_at=clock.now())  # committed between two pages
    rest, cursor = _drain(client, auth, first["next_cursor"], limit=2)  # the pages of the first read ...
    refs = [e["incident_reference"] for e in first["events"]] + [ref for ref, _ in rest]
    assert sorted(refs) == ["000000", "111111", "222222", "333333", "444444"]
    later, cursor = _drain(client, auth, cursor, limit=2)  # ... then what committed meanwhile
    assert later == [("999999", "incident_opened")]
    assert _drain(client, auth, cursor)[0] == []
    event = first["events"][0]
    assert set(event) == {"id", "at", "actor", "kind", "detail", "incident_id", "incident_reference"}


def _raw_cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", ["not-a-cursor", _raw_cursor("1|postgresql|5:3:||"), _raw_cursor("1|sqlite|abc||"),
                                    _raw_cursor("1|postgresql|3:9:5,4||"), _raw_cursor("1|sqlite|7|9|"),
                                    _raw_cursor("2|sqlite|7||")])
def test_a_cursor_the_api_did_not_hand_out_is_400_naming_it(client, auth, cursor):
    # a snapshot with xmin above xmax or its running ids out of order, an id that is none, a page without its last
    # line, another version: PostgreSQL would refuse the snapshot with a 500
    response = client.get("/api/v1/events", headers=auth, query_string={"cursor": cursor})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("invalid_parameter", "cursor")


def test_a_cursor_of_the_other_database_is_400(client, auth, hotline):
    from app.services.event_feed import Position, encode

    other = "sqlite" if hotline.db.engine.dialect.name == "postgresql" else "postgresql"
    done = "7" if other == "sqlite" else "5:5:"
    response = client.get("/api/v1/events", headers=auth, query_string={"cursor": encode(Position(other, done))})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "cursor"


def test_the_feed_needs_the_incidents_read_scope(client, hotline, clock):
    with hotline.db.transaction() as session:
        token = create_token(session, "sync", clock.now(), scopes=["tickets:write"])
    response = client.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.get_json()["error"]["required_scope"] == "incidents:read"
