"""Helpdesk integration: status fields on incidents, ``updated_since``, signed and retried webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta

import pytest
from flask import Flask, request
from sqlalchemy import select
from werkzeug.serving import make_server

from app.models import Callback, CallbackKind, CallbackOutcome, DeliveryStatus, HelpdeskDelivery, Incident
from app.services import helpdesk_webhooks as webhooks
from app.services.api_tokens import create_token
from app.services.callbacks import self_report
from app.services.events import log_event
from app.services.incidents import rescue_call
from app.services.related_callbacks import reach_related
from ivr_flows.model import FlowPolicy
from tests.integration.board_support import make_incident, make_rep

SECRET = "helpdesk-shared-secret-0123456789"


@pytest.fixture
def auth(hotline, clock) -> dict[str, str]:
    with hotline.db.transaction() as session:
        token = create_token(session, "helpdesk", clock.now(), scopes=["incidents:read", "tickets:write"])
    return {"Authorization": f"Bearer {token}"}


def _acknowledge_and_meet(hotline, incident_id: int, rep_id: int) -> None:
    now = hotline.clock.now()
    with hotline.db.transaction() as session:
        incident = session.get(Incident, incident_id)
        incident.acknowledged_at, incident.acknowledged_by = now, rep_id
        log_event(session, at=now, actor="Alice", kind="acknowledged", incident_id=incident_id, detail={})
        session.add(Callback(incident_id=incident_id, rep_id=rep_id, kind=CallbackKind.BRIDGED,
                             outcome=CallbackOutcome.MET, customer_number=incident.callback_phone, requested_at=now,
                             placed_at=now, answered_at=now))
        incident.callback_started_at = incident.callback_answered_at = now
        log_event(session, at=now, actor="twilio", kind="callback_met", incident_id=incident_id, detail={})


def test_incident_json_carries_owner_acknowledgement_callback_and_breach(client, auth, hotline, clock):
    rep_id = make_rep(hotline)
    incident_id = make_incident(hotline, "111111")
    breached = make_incident(hotline, "222222", breached_at=clock.now())
    clock.advance(minutes=1)
    _acknowledge_and_meet(hotline, incident_id, rep_id)
    body = client.get("/api/v1/incidents/111111", headers=auth).get_json()
    assert body["owner"] == {"rep_id": rep_id, "name": "Alice"}
    assert body["acknowledgement"] == {"at": clock.now().isoformat().replace("+00:00", "Z"),
                                       "by": {"rep_id": rep_id, "name": "Alice"}}
    assert body["callback"]["outcome"] == "met" and body["callback"]["attempts"] == 1
    assert body["breach"] == {"breached": False, "at": None}
    listed = {i["reference"]: i for i in client.get("/api/v1/incidents", headers=auth).get_json()["incidents"]}
    assert listed["222222"]["breach"]["breached"] is True
    assert listed["222222"]["owner"] is None and listed["222222"]["callback"]["outcome"] == "none"
    assert breached


def test_updated_since_lists_only_incidents_with_newer_events(client, auth, hotline, clock):
    rep_id = make_rep(hotline)
    quiet = make_incident(hotline, "111111")
    busy = make_incident(hotline, "222222")
    clock.advance(minutes=5)
    cut = clock.now()
    _acknowledge_and_meet(hotline, busy, rep_id)
    response = client.get("/api/v1/incidents", headers=auth,
                          query_string={"updated_since": cut.isoformat().replace("+00:00", "Z")})
    assert [i["reference"] for i in response.get_json()["incidents"]] == ["222222"]
    assert response.get_json()["incidents"][0]["updated_at"] == cut.isoformat().replace("+00:00", "Z")
    bad = client.get("/api/v1/incidents", headers=auth, query_string={"updated_since": "yesterday"})
    assert bad.status_code == 400
    assert quiet


def test_openapi_lists_the_webhook_events_and_the_new_fields(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert sorted(doc["webhooks"]) == sorted(["incident.opened", "incident.acknowledged", "callback.met",
                                              "callback.missed", "callback.withdrawn", "incident.breached",
                                              "incident.breach_withdrawn", "incident.resolved",
                                              "incident.reopened", "callback.self_reported"])
    assert {"owner", "acknowledgement", "callback", "breach", "updated_at"} <= set(
        doc["components"]["schemas"]["Incident"]["properties"])
    assert "updated_since" in [p["name"] for p in doc["paths"]["/api/v1/incidents"]["get"]["parameters"]]


class Receiver:
    """A helpdesk endpoint on a local port that records each request and fails the first ``fail`` ones."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.received: list[tuple[dict[str, str], bytes]] = []
        app = Flask("helpdesk")

        @app.post("/hooks")
        def hook():
            self.received.append((dict(request.headers), request.get_data()))
            if len(self.received) <= self.fail:
                return "down", 503
            return "", 204

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()


def _configured(hotline, url: str):
    hotline.settings = hotline.settings.with_overrides(helpdesk_webhook_url=url, helpdesk_webhook_secret=SECRET)
    return hotline


def test_events_become_signed_webhooks_delivered_once(hotline, clock):
    rep_id = make_rep(hotline)
    with Receiver() as helpdesk:
        _configured(hotline, helpdesk.url)
        incident_id = make_incident(hotline, "111111", captured_at=clock.now())
        _acknowledge_and_meet(hotline, incident_id, rep_id)
        jobs = webhooks.webhook_jobs(hotline.db, hotline.settings, clock.now())
        assert [j.kind for j in jobs] == ["webhook"] * 3
        assert webhooks.webhook_jobs(hotline.db, hotline.settings, clock.now()) == jobs  # no new rows the 2nd time
        for job in jobs:
            assert webhooks.deliver(hotline.db, hotline.settings, job.target_id, clock.now()) == DeliveryStatus.DELIVERED
            assert webhooks.deliver(hotline.db, hotline.settings, job.target_id, clock.now()) is None  # a duplicate job
    assert [h["X-Hotline-Event"] for h, _ in helpdesk.received] == ["incident.opened", "incident.acknowledged",
                                                                     "callback.met"]
    headers, body = helpdesk.received[2]
    expected = hmac.new(SECRET.encode(), headers["X-Hotline-Timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["X-Hotline-Signature"] == "sha256=" + expected.hexdigest()
    document = json.loads(body)
    assert document["event"] == "callback.met" and document["incident"]["reference"] == "111111"
    assert document["incident"]["callback"]["outcome"] == "met"
    assert webhooks.webhook_jobs(hotline.db, hotline.settings, clock.now()) == []


def test_a_rescued_incident_is_posted_as_opened_once(hotline, clock):
    # a caller who hung up mid-intake: the rescue logs the opening and the rescue; both were posted as
    # incident.opened under two delivery ids (an outside probe), so a helpdesk that deduplicates on the delivery
    # opened two tickets for every such caller
    with Receiver() as helpdesk:
        _configured(hotline, helpdesk.url)
        with hotline.db.transaction() as session:
            incident = rescue_call(session, call_sid="CA" + "1" * 32, from_number="+14155550100", now=clock.now(),
                                   reason="caller_hung_up", policy=FlowPolicy())
            reference = incident.reference
        jobs = webhooks.webhook_jobs(hotline.db, hotline.settings, clock.now())
        for job in jobs:
            assert webhooks.deliver(hotline.db, hotline.settings, job.target_id, clock.now()) == DeliveryStatus.DELIVERED
    posted = [(h["X-Hotline-Event"], json.loads(body)["incident"]["reference"]) for h, body in helpdesk.received]
    assert posted == [("incident.opened", reference)]
    assert json.loads(helpdesk.received[0][1])["incident"]["source"] == "rescued"


def test_a_callback_counted_on_a_related_incident_and_a_self_reported_one_are_posted(hotline, clock):
    """An outside probe's helpdesk never heard of either: a callback on a redial's incident that counted for the first
    (met, or late past its deadline), nor a rep's CALLED; the API said "met" while the helpdesk showed no callback."""
    rep_id = make_rep(hotline)
    now = clock.now()
    late = make_incident(hotline, "111111", captured_at=now - timedelta(minutes=20))  # its deadline has passed
    in_time = make_incident(hotline, "222222", captured_at=now - timedelta(minutes=5), related_incident_id=late)
    redial = make_incident(hotline, "333333", captured_at=now - timedelta(minutes=4), related_incident_id=in_time)
    told = make_incident(hotline, "444444", captured_at=now - timedelta(minutes=3), callback_phone="+14155550999")
    with Receiver() as helpdesk:
        _configured(hotline, helpdesk.url)
        webhooks.webhook_jobs(hotline.db, hotline.settings, now)  # the feed starts here
        with hotline.db.transaction() as session:
            incident = session.get(Incident, redial)
            callback = Callback(incident_id=redial, rep_id=rep_id, kind=CallbackKind.BRIDGED,
                                outcome=CallbackOutcome.MET, customer_number=incident.callback_phone,
                                requested_at=now, placed_at=now, answered_at=now)
            session.add(callback)
            session.flush()
            counted = reach_related(session, incident, callback, now)
            assert sorted(i.reference for i in counted) == ["111111", "222222"]
            self_report(session, session.get(Incident, told), rep_id, "Alice", now, "reported by SMS", now)
        for job in webhooks.webhook_jobs(hotline.db, hotline.settings, now):
            assert webhooks.deliver(hotline.db, hotline.settings, job.target_id, now) == DeliveryStatus.DELIVERED
    posted = sorted((json.loads(body)["incident"]["reference"], h["X-Hotline-Event"]) for h, body in helpdesk.received
                    if h["X-Hotline-Event"] != "incident.opened")
    assert posted == [("111111", "callback.missed"), ("222222", "callback.met"), ("444444", "callback.self_reported")]
    bodies = {json.loads(body)["incident"]["reference"]: json.loads(body) for _, body in helpdesk.received}
    assert [bodies[ref]["incident"]["callback"]["outcome"] for ref in ("111111", "222222")] == ["late", "met"]


def test_a_failing_helpdesk_is_retried_with_back_off_then_given_up(hotline, clock):
    with Receiver(fail=100) as helpdesk:
        _configured(hotline, helpdesk.url)
        make_incident(hotline, "111111", captured_at=clock.now())
        [job] = webhooks.webhook_jobs(hotline.db, hotline.settings, clock.now())
        statuses = []
        for _ in range(webhooks.MAX_ATTEMPTS):
            assert webhooks.deliver(hotline.db, hotline.settings, job.target_id, clock.now()) is not None
            with hotline.db.session() as session:
                row = session.get(HelpdeskDelivery, job.target_id)
                statuses.append((row.status, row.attempts, row.last_error))
                if row.status == DeliveryStatus.PENDING:
                    # not due yet: a job arriving early does nothing
                    assert webhooks.deliver(hotline.db, hotline.settings, job.target_id, clock.now()) is None
                    assert row.next_attempt_at > clock.now()
                    clock.set(row.next_attempt_at)
    assert len(helpdesk.received) == webhooks.MAX_ATTEMPTS
    assert statuses[0] == (DeliveryStatus.PENDING, 1, "HTTP 503")
    assert statuses[-1] == (DeliveryStatus.FAILED, webhooks.MAX_ATTEMPTS, "HTTP 503")


def test_the_worker_delivers_through_rq_and_schedules_the_retry(hotline, clock):
    from workers import context, watchdog
    from workers.consuming import StoppableWorker

    with Receiver(fail=1) as helpdesk:
        _configured(hotline, helpdesk.url)
        make_incident(hotline, "111111", captured_at=clock.now())
        context.use(hotline)
        try:
            watchdog.sweep(hotline)  # collects the event and enqueues its delivery
            StoppableWorker(hotline.jobs.queues, connection=hotline.jobs.redis).work(burst=True)
            with hotline.db.session() as session:
                row = session.scalars(select(HelpdeskDelivery)).one()
                assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
                clock.set(row.next_attempt_at)
            watchdog.sweep(hotline)  # the retry is due: handed to RQ again
            StoppableWorker(hotline.jobs.queues, connection=hotline.jobs.redis).work(burst=True)
        finally:
            context.use(None)
    with hotline.db.session() as session:
        row = session.scalars(select(HelpdeskDelivery)).one()
        assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.DELIVERED, 2, 204)
    assert len(helpdesk.received) == 2


def test_nothing_is_collected_without_a_webhook_url(hotline, clock):
    make_incident(hotline, "111111", captured_at=clock.now())
    assert webhooks.webhook_jobs(hotline.db, hotline.settings, clock.now()) == []
    with hotline.db.session() as session:
        assert session.scalars(select(HelpdeskDelivery)).all() == []


def test_events_older_than_the_look_back_are_not_sent_on_first_configuration(hotline, clock):
    make_incident(hotline, "111111", captured_at=clock.now() - timedelta(hours=2))
    _configured(hotline, "http://127.0.0.1:9/hooks")
    assert webhooks.webhook_jobs(hotline.db, hotline.settings, clock.now()) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite's writers take turns: id order
def test_an_event_whose_transaction_commits_after_a_later_one_is_still_sent(hotline, clock):
    """PostgreSQL hands out ids as transactions insert: the opening of one incident (the lower id) may commit after
    the acknowledgement of another was collected; collecting "ids above the last collected" skipped it for good."""
    rep_id = make_rep(hotline)
    first = make_incident(hotline, "111111", captured_at=clock.now())
    _configured(hotline, "http://127.0.0.1:9/hooks")
    assert len(webhooks.webhook_jobs(hotline.db, hotline.settings, clock.now())) == 1  # 111111 opened
    slow = hotline.db.session()
    try:
        due = clock.now() + timedelta(minutes=15)
        incident = Incident(reference="222222", received_at=clock.now(), captured_at=clock.now(), callback_due_at=due)
        slow.add(incident)
        slow.flush()
        opened = log_event(slow, at=clock.now(), actor="ivr", kind="incident_opened", incident_id=incident.id,
                           detail={"reference": "222222", "source": "ivr", "callback_due_at": due.isoformat(),
                                   "missing": []})
        slow.flush()  # the lower id, not committed yet
        _acknowledge_and_meet(hotline, first, rep_id)  # two higher ids, committed
        clock.advance(seconds=10)
        webhooks.webhook_jobs(hotline.db, hotline.settings, clock.now())  # a watchdog pass meanwhile
        slow.commit()
        opened_id = opened.id
    finally:
        slow.close()
    clock.advance(seconds=10)
    webhooks.webhook_jobs(hotline.db, hotline.settings, clock.now())  # the next pass
    with hotline.db.session() as session:
        sent = {(row.event_id, row.kind) for row in session.scalars(select(HelpdeskDelivery))}
        acknowledged = session.scalars(select(HelpdeskDelivery.event_id)
                                       .where(HelpdeskDelivery.kind == "incident.acknowledged")).one()
    assert opened_id < acknowledged
    assert (opened_id, "incident.opened") in sent
    assert len(sent) == 4  # 111111 opened, acknowledged, callback met; 222222 opened: each once
