"""Twilio's status callbacks while the database is unreachable: answered, kept on disk, applied once it is back.

Twilio does not retry a status callback that fails, and nothing asks Twilio for it later. An operator's fault
test (PostgreSQL stopped for 20 s while calls came in) saw SMS delivery and call-status callbacks answered HTTP
500: an undelivered page SMS never turned into a voice page, a rep's unanswered callback call never told the rep,
a caller's hang-up mid-intake was lost. Here the web app is pointed at a database it cannot reach (a closed
PostgreSQL port, a SQLite file in a directory that does not exist) while the worker, the simulated Twilio and the
phones go on; then the watchdog replays the spool.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta
from xml.etree import ElementTree

from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from app import create_app
from app.logging_redact import redact
from app.models import Callback, Incident, IncidentEvent, IncidentSource, Page, WebhookDelivery
from app.queue import JobQueue
from app.services.spool import SPOOL_NAME, replay
from app.wiring import Hotline
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN
from tests.paging.conftest import ALICE
from tests.paging.test_callback_rep_leg import _sms_from
from tests.paging.test_twilio_failures import LANDLINE, _policy
from workers import watchdog
from workers.consuming import StoppableWorker

VOICEMAIL = "https://api.twilio.com/2010-04-01/Accounts/AC" + "0" * 32 + "/Recordings/RE" + "7" * 32
CLOSED_PORT = "postgresql://nobody@127.0.0.1:1/none"


def _unreachable_url(hotline, tmp_path) -> str:
    if hotline.settings.database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no-such-directory' / 'hotline.db'}"
    return CLOSED_PORT


@contextmanager
def _web_without_database(hotline, tmp_path):
    """A test client of the web app on the same data dir, whose database cannot be reached."""
    dead = hotline.settings.with_overrides(database_url=_unreachable_url(hotline, tmp_path))
    broken = Hotline.build(dead, clock=hotline.clock, jobs=JobQueue(hotline.jobs.redis, dead.queue_name))
    try:
        yield create_app(broken).test_client()
    finally:
        broken.db.dispose()


@contextmanager
def _outage(desk, network, tmp_path):
    """While it lasts, Twilio's requests reach a web app whose database is unreachable (workers go on)."""
    with _web_without_database(desk.hotline, tmp_path) as client:
        saved, network.transport = network.transport, flask_transport(client)
        try:
            yield
        finally:
            network.transport = saved


def _work_and_ring(desk, network) -> None:
    """The worker sends what is due and the phones ring; the spool is not replayed (the database is 'down')."""
    watchdog.sweep(desk.hotline, replay_spool=False)
    StoppableWorker(desk.hotline.jobs.queues, connection=desk.hotline.jobs.redis).work(
        burst=True, logging_level="WARNING")
    network.run()  # strict: a webhook answered anything but 2xx fails here


def _spooled(hotline) -> list[dict]:
    path = hotline.settings.data_dir / SPOOL_NAME
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _events(hotline, incident_id: int, kind: str) -> list[dict]:
    with hotline.db.session() as s:
        return [e.detail for e in s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == kind).order_by(IncidentEvent.id))]


def _pages(hotline, incident_id: int) -> list[Page]:
    with hotline.db.session() as s:
        return list(s.scalars(select(Page).where(Page.incident_id == incident_id).order_by(Page.id)))


def test_a_page_sms_reported_undelivered_during_the_outage_calls_the_rep_once_the_database_is_back(
        desk, network, twilio, tmp_path):
    _policy(desk, "sms")
    incident = desk.open_incident(caller=LANDLINE)
    alice = network.phone(ALICE).expect_sms("SEV1", fail="undelivered")
    with _outage(desk, network, tmp_path):
        _work_and_ring(desk, network)
    answered = [(w.params["MessageStatus"], w.status, w.body) for w in network.webhooks if "MessageStatus" in w.params]
    assert answered == [("sent", 200, ""), ("undelivered", 200, "")]  # no error storm at Twilio
    assert [(r["path"], r["form"]["MessageStatus"]) for r in _spooled(desk.hotline)] == [
        ("/twilio/sms/status", "sent"), ("/twilio/sms/status", "undelivered")]
    [sms] = _pages(desk.hotline, incident.id)
    assert sms.status == "sent"  # Twilio took it; nothing known of its fate yet

    alice.expect_call(answer=False)  # the database is back: the undelivered SMS turns into a call at once
    desk.settle()
    sms, voice = _pages(desk.hotline, incident.id)
    assert sms.status == "undelivered" and voice.channel == "voice" and voice.sent_at == desk.t0
    statuses = [(d["status"], d["applied"]) for d in _events(desk.hotline, incident.id, "page_status")
                if d["page_id"] == sms.id]
    assert statuses == [("sent", False), ("undelivered", True)]  # in the order Twilio sent them (the send said sent)
    assert _events(desk.hotline, incident.id, "page_sms_failed_calling") == [
        {"page_id": sms.id, "voice_page_id": voice.id}]
    assert _spooled(desk.hotline) == []

    # the same deliveries kept and replayed again (a replay that died before deleting its file) change nothing
    logged = _events(desk.hotline, incident.id, "page_status")
    with _web_without_database(desk.hotline, tmp_path) as client:
        for hook in [w for w in network.webhooks if "MessageStatus" in w.params]:
            assert _post(client, hook.url, hook.params).status_code == 200
    assert len(_spooled(desk.hotline)) == 2
    desk.settle()
    assert _spooled(desk.hotline) == []
    assert len(_pages(desk.hotline, incident.id)) == 2 and len(alice.calls) == 1
    assert _events(desk.hotline, incident.id, "page_status") == logged


def test_a_reps_callback_call_unanswered_during_the_outage_tells_the_rep_once_the_database_is_back(
        desk, network, tmp_path):
    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    alice.expect_call(answer=False)
    with _outage(desk, network, tmp_path):
        _work_and_ring(desk, network)
    statuses = [(w.params["CallStatus"], w.status) for w in network.webhooks if "/bridge/rep-status" in w.url]
    assert statuses == [("initiated", 200), ("ringing", 200), ("no-answer", 200)]
    with desk.hotline.db.session() as s:
        assert s.scalars(select(Callback.outcome)).one() == "pending"

    alice.expect_sms("could not reach you")
    desk.settle()
    with desk.hotline.db.session() as s:
        assert s.scalars(select(Callback.outcome)).one() == "rep_not_reached"
    assert [d["status"] for d in _events(desk.hotline, incident.id, "callback_rep_leg_status")] == [
        "initiated", "ringing", "no-answer"]
    assert alice.unmet == []


def test_a_caller_who_hangs_up_mid_intake_during_the_outage_is_saved_once_the_database_is_back(
        hotline, client, tmp_path):
    call = SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                         caller="+14155550188")
    call.dial()
    call.press("1")
    call.press("2")  # SMTP injection failing
    with _web_without_database(hotline, tmp_path) as broken:
        call.transport = flask_transport(broken)
        assert call.hang_up() == 200
    with hotline.db.session() as s:
        assert s.scalars(select(Incident)).all() == []

    assert replay(hotline.db, hotline.settings) == 1
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
    assert incident.source == IncidentSource.RESCUED and incident.affected_service == "smtp"
    assert incident.callback_phone == "+14155550188" and incident.captured_at == hotline.clock.now()
    assert replay(hotline.db, hotline.settings) == 0


def test_a_reps_ack_by_sms_during_the_outage_is_kept_and_carried_out_as_of_its_time_once_the_database_is_back(
        desk, network, tmp_path):
    # a probe froze a worker holding the incident's row: the rep's ACK by SMS was answered 500 after 8 s and lost
    # (Twilio never posts an inbound SMS again); the rep got no answer and the incident stayed unacknowledged
    _policy(desk, "sms")
    incident = desk.open_incident(caller=LANDLINE)
    alice = network.phone(ALICE).expect_sms("SEV1")
    desk.settle()
    desk.clock.set(desk.t0 + timedelta(minutes=2))
    params = {"MessageSid": "SM" + "8" * 32, "From": ALICE, "To": "+15005550006", "AccountSid": "AC" + "0" * 32,
              "Body": f"ACK {incident.reference}"}
    with _web_without_database(desk.hotline, tmp_path) as broken:
        answer = _post(broken, "/twilio/sms", params)
        again = _post(broken, "/twilio/sms", params)  # the same delivery twice (a proxy's retry): carried out once
    assert answer.status_code == 200 and again.status_code == 200
    said = ElementTree.fromstring(answer.get_data(as_text=True)).findtext("Message")
    assert said.startswith("The hotline got your message but cannot carry it out this moment")
    assert [r["form"]["Body"] for r in _spooled(desk.hotline)] == [f"ACK {incident.reference}"] * 2
    with desk.hotline.db.session() as s:
        assert s.get(Incident, incident.id).acknowledged_at is None

    desk.clock.set(desk.t0 + timedelta(minutes=3))  # the database is back: the watchdog replays the spool
    alice.expect_sms(f"Acknowledged {incident.reference}")
    desk.settle()
    with desk.hotline.db.session() as s:
        assert s.get(Incident, incident.id).acknowledged_at == desk.t0 + timedelta(minutes=2)  # when she sent it
    assert [d["via"] for d in _events(desk.hotline, incident.id, "acknowledged")] == ["sms"]
    assert alice.unmet == [] and len([m for m in alice.sms if m.startswith("Acknowledged")]) == 1
    assert _spooled(desk.hotline) == []


STATUS_CALLBACKS = [
    ("/twilio/sms/status?page=1", {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}),
    ("/twilio/sms/status?notice=1", {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered"}),
    ("/twilio/page/voice/status?page=1", {"CallSid": "CA" + "1" * 32, "CallStatus": "no-answer"}),
    ("/twilio/bridge/rep-status?callback=1", {"CallSid": "CA" + "2" * 32, "CallStatus": "no-answer"}),
    ("/twilio/bridge/customer-status?callback=1", {"CallSid": "CA" + "3" * 32, "CallStatus": "completed"}),
    ("/twilio/updates/sms-status?delivery=1", {"MessageSid": "SM" + "3" * 32, "MessageStatus": "delivered"}),
    ("/twilio/voice/status", {"CallSid": "CA" + "4" * 32, "CallStatus": "completed"}),
]


def _post(client, url: str, params: dict[str, str]):
    url = url if url.startswith("http") else PUBLIC_BASE_URL + url
    signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
    return client.post(url.removeprefix(PUBLIC_BASE_URL), data=params, headers={"X-Twilio-Signature": signature})


def test_every_status_callback_is_answered_and_kept_while_the_database_is_unreachable_and_applied_once(
        hotline, tmp_path):
    params = {"AccountSid": "AC" + "0" * 32, "From": "+15005550006", "To": ALICE}
    with _web_without_database(hotline, tmp_path) as broken:
        for url, form in STATUS_CALLBACKS:
            answer = _post(broken, url, {**params, **form})
            assert (url, answer.status_code, answer.get_data(as_text=True)) == (url, 200, "")
        again = _post(broken, *STATUS_CALLBACKS[0][:1], {**params, **STATUS_CALLBACKS[0][1]})  # a duplicate
        assert again.status_code == 200
    kept = _spooled(hotline)
    assert [r["path"] for r in kept] == [url.split("?")[0] for url, _ in STATUS_CALLBACKS] + ["/twilio/sms/status"]

    assert replay(hotline.db, hotline.settings) == len(kept)  # none of their rows exists: each applied, nothing else
    with hotline.db.session() as s:
        paths = s.scalars(select(WebhookDelivery.path).order_by(WebhookDelivery.path)).all()
        assert sorted(paths) == sorted(url.split("?")[0] for url, _ in STATUS_CALLBACKS)  # the duplicate: once
        # page 1 does not exist: its report is logged unmatched, once for the two copies
        assert s.scalar(select(func.count()).select_from(IncidentEvent).where(
            IncidentEvent.kind == "sms_status_unmatched")) == 1


def test_a_report_pinned_before_the_spool_is_replayed_keeps_its_figures_and_bytes(desk, network, tmp_path):
    """A rep's callback call went unanswered while the database was down; a manager pins the report (and its CSV's
    SHA-256) after the deadline, before the watchdog applies the spooled callbacks, stamped with the time they came:
    before the pinned ``as_of``. The same parameters give the same bytes after the replay too."""
    from datetime import timedelta

    from app.models.user import Role
    from tests.integration.dashboard_support import login_as

    incident, alice = desk.acknowledged_by_alice(network)
    desk.at(minutes=3)
    assert "Calling you now" in _sms_from(desk, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
    alice.expect_call(answer=False)
    with _outage(desk, network, tmp_path):
        _work_and_ring(desk, network)
    assert [r["form"]["CallStatus"] for r in _spooled(desk.hotline)] == ["initiated", "ringing", "no-answer"]
    desk.clock.set(desk.t0 + timedelta(minutes=30))  # the deadline has passed; the spool is not replayed yet
    as_of = desk.t0 + timedelta(minutes=25)
    day = desk.t0.date()
    query = {"start": day.isoformat(), "end": (day + timedelta(days=1)).isoformat(), "tz": "UTC",
             "as_of": as_of.isoformat()}
    login_as(desk.client, desk.hotline, Role.MANAGER)
    paths = ("/reports/compliance.csv", "/reports/compliance.csv.sha256", "/reports/compliance.json")
    pinned = {path: desk.client.get(path, query_string=query).get_data() for path in paths}
    assert b"acknowledged but called late" in pinned["/reports/compliance.csv"]

    # the watchdog replays the spool (its pages, due meanwhile, not sent here): the rep's leg "no-answer" is logged
    assert replay(desk.hotline.db, desk.hotline.settings) == 3  # at the time it came, minute 3
    with desk.hotline.db.session() as s:
        [line] = s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "callback_rep_not_reached")).all()
    assert line.at < as_of  # stamped before the pinned instant, written after it
    for path in paths:
        assert desk.client.get(path, query_string=query).get_data() == pinned[path], path
    now = desk.client.get("/reports/compliance.csv", query_string={k: v for k, v in query.items() if k != "as_of"})
    assert b"hotline could not reach the rep" in now.get_data()  # as of now: the replayed lines count


@contextmanager
def _database_down_and_spool_unwritable(hotline, tmp_path):
    """A web app whose database cannot be reached and whose data dir cannot be written (it is a file), and a healthy
    one on that data dir (its /healthz)."""
    unwritable = tmp_path / "spool-host"
    unwritable.mkdir()
    dead = hotline.settings.with_overrides(database_url=_unreachable_url(hotline, tmp_path), data_dir=unwritable)
    broken = Hotline.build(dead, clock=hotline.clock, jobs=JobQueue(hotline.jobs.redis, dead.queue_name))
    healthy = Hotline.build(hotline.settings.with_overrides(data_dir=unwritable), clock=hotline.clock,
                            jobs=hotline.jobs)
    client, healthy_client = create_app(broken).test_client(), create_app(healthy).test_client()  # their secrets made
    for made in unwritable.iterdir():
        made.unlink()
    unwritable.rmdir()
    unwritable.write_text("")  # the data dir is a file now: nothing can be written there, whoever runs it
    try:
        yield client, healthy_client
    finally:
        broken.db.dispose()
        healthy.db.dispose()


def test_with_the_database_down_and_the_spool_unwritable_callers_get_twiml_and_nothing_claims_it_was_kept(
        hotline, tmp_path, caplog):
    # a probe made the data dir immutable and cut the database: the caller got Twilio's application error (a 500),
    # the rep's ACK was lost with a 500, and the log said "spooled" / "kept in the spool" before the write failed
    with _database_down_and_spool_unwritable(hotline, tmp_path) as (client, healthy_client):
        base = {"AccountSid": "AC" + "0" * 32, "From": "+14155550188", "To": "+15005550006"}
        call = _post(client, "/twilio/voice", {**base, "CallSid": "CA" + "5" * 32})
        fallback = _post(client, "/twilio/voice/fallback", {**base, "CallSid": "CA" + "6" * 32})
        sms = _post(client, "/twilio/sms", {**base, "MessageSid": "SM" + "5" * 32, "Body": "ACK 123456"})
        status = _post(client, STATUS_CALLBACKS[0][0], {**base, **STATUS_CALLBACKS[0][1]})
        warnings = healthy_client.get("/healthz").get_json()["warnings"]
    for answer in (call, fallback):
        assert answer.status_code == 200 and ElementTree.fromstring(answer.get_data(as_text=True)).tag == "Response"
    assert sms.status_code == 200
    said = ElementTree.fromstring(sms.get_data(as_text=True)).findtext("Message")
    assert said.startswith("The hotline could not take your message right now, and nothing was changed")
    assert status.status_code == 200
    assert "kept in the spool" not in caplog.text and "spooled" not in caplog.text
    assert caplog.text.count("could NOT keep a") == 4
    assert any(w.startswith("this host's HOTLINE_DATA_DIR cannot be written") for w in warnings), warnings


def test_a_caller_whose_call_nothing_could_keep_is_told_so_and_what_to_do_never_that_it_is_recorded(
        hotline, tmp_path, caplog):
    # an outside probe's disk was full and the database and Redis down: the caller heard "Your message is recorded.
    # An engineer will call you back within 15 minutes" while the log said the rescue and the voicemail were lost
    with _database_down_and_spool_unwritable(hotline, tmp_path) as (client, _healthy):
        call = SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                             caller="+12125550105")
        prompt = call.fallback()
        assert prompt.kind == "record"  # the recording still reaches Twilio's log, and a second try to keep the call
        asked = " ".join(prompt.said)
        assert "please say your company" in asked and "Bitte nennen Sie" in asked
        assert "call you back" not in asked and "ruft Sie" not in asked  # no promise of a call nothing kept
        end = call.record(seconds=5, url=VOICEMAIL)
    assert end.kind == "hangup"
    said = " ".join(end.said)
    assert "recorded" not in said and "aufgenommen" not in said and "call you back within" not in said
    assert "we could not keep your call, so we cannot promise you a call back" in said
    assert "Please call us again in a few minutes" in said and "open a ticket on the dashboard" in said
    assert "Bitte rufen Sie in einigen Minuten erneut an" in said
    # the last-ditch line names the call (its number in Twilio's call log) and the voicemail; the number stays redacted
    [lost] = [r.getMessage() for r in caplog.records if r.levelname == "ERROR" and r.getMessage().startswith("LOST")]
    assert call.call_sid in redact(lost) and VOICEMAIL in redact(lost) and "+12125550105" not in redact(lost)
    assert "…05" in redact(lost)  # the number's tail, to match it in Twilio's call log


def test_a_caller_nothing_could_keep_at_the_tone_is_kept_at_the_voicemails_end_once_the_database_is_back(
        hotline, client, tmp_path):
    with _database_down_and_spool_unwritable(hotline, tmp_path) as (broken, _healthy):
        call = SimulatedCall(transport=flask_transport(broken), base_url=PUBLIC_BASE_URL, auth_token=TEST_AUTH_TOKEN,
                             caller="+12125550105")
        assert call.fallback().kind == "record"
    call.transport = flask_transport(client)  # the database is back before the caller finishes speaking
    said = " ".join(call.record(seconds=5, url=VOICEMAIL).said)
    assert "Your message is recorded. An engineer will call you back within 15 minutes" in said
    with hotline.db.session() as s:
        [incident] = s.scalars(select(Incident)).all()
    assert incident.call_sid == call.call_sid and incident.callback_phone == "+12125550105"
    assert incident.recording_url == VOICEMAIL
