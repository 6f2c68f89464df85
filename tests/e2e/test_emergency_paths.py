"""Fallback URL, internal errors, hang-ups and a dead database: the caller is never lost."""

from __future__ import annotations

from sqlalchemy import select, update

from app import create_app
from app.models import CallSession, DueStep, Incident, IncidentEvent, IncidentSource, MissedCall
from app.queue import JobQueue
from app.services.spool import SPOOL_NAME, replay
from app.wiring import Hotline
from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN


def _incidents(hotline) -> list[Incident]:
    with hotline.db.session() as s:
        return list(s.scalars(select(Incident)))


def _kinds(hotline, call_sid) -> list[str]:
    with hotline.db.session() as s:
        return list(s.scalars(select(IncidentEvent.kind).where(IncidentEvent.call_sid == call_sid)
                              .order_by(IncidentEvent.id)))


def test_fallback_url_records_a_voicemail_and_opens_an_incident(phone, hotline):
    call = phone("+14155550123")
    prompt = call.fallback()
    assert prompt.kind == "record"
    assert any("15 minutes" in line for line in prompt.said)
    assert any("15 Minuten" in line for line in prompt.said)
    [incident] = _incidents(hotline)
    assert incident.source == IncidentSource.FALLBACK
    assert incident.callback_phone == "+14155550123"
    assert incident.callback_due_at == hotline.clock.now().replace(minute=15)
    end = call.record(seconds=75)
    assert end.kind == "hangup"
    [incident] = _incidents(hotline)
    assert incident.recording_seconds == 75 and incident.recording_url.startswith("https://")
    assert "voicemail_recorded" in _kinds(hotline, call.call_sid)


def test_a_fallback_voicemail_with_nothing_recorded_is_not_called_recorded(phone, hotline):
    """An outside probe's silent caller heard "Your message is recorded"; the callback still goes to their number."""
    call = phone("+14155550123")
    assert call.fallback().kind == "record"
    end = call.silence()
    assert end.kind == "hangup"
    said = " ".join(end.said)
    assert "recorded" not in said and "aufgenommen" not in said
    assert "We did not hear a message. An engineer will call you back on the number you are calling from" in said
    [incident] = _incidents(hotline)
    assert incident.callback_phone == "+14155550123" and incident.recording_url == ""


def test_a_withheld_caller_whose_fallback_voicemail_recorded_nothing_is_asked_to_call_again(phone, hotline):
    call = phone("+266696687")  # Twilio's stand-in for a withheld caller ID
    assert call.fallback().kind == "record"
    said = " ".join(call.silence().said)
    assert "your number is withheld, so we cannot call you back. Please call us again" in said
    assert "call you back on the number" not in said and "Ihre Nummer ist unterdrückt" in said


def test_fallback_twice_for_the_same_call_opens_one_incident(phone, hotline):
    call = phone()
    call.fallback()
    code, _body = call.resend()
    assert code == 200
    assert len(_incidents(hotline)) == 1


def test_a_fallback_request_replayed_with_its_form_refolded_opens_no_second_incident(phone, client, hotline):
    # Twilio signs the names and values run together: "CallSid=CA..CallStatusin-progress" validates as
    # "CallSid=CA..&CallStatus=in-progress", so a recorded fallback request posted so is the same request,
    # never a new call's incident paging the reps
    call = phone("+14155550123")
    call.fallback()
    params = call.params({"ErrorCode": "11200", "ErrorUrl": PUBLIC_BASE_URL + "/twilio/voice"})
    signature = call.sign(PUBLIC_BASE_URL + "/twilio/voice/fallback", params)
    folded = {name: value for name, value in params.items() if name != "CallStatus"}
    folded["CallSid"] += "CallStatus" + params["CallStatus"]
    replay = client.post("/twilio/voice/fallback", data=folded, headers={"X-Twilio-Signature": signature})
    assert replay.status_code == 200 and "<Record" in replay.get_data(as_text=True)
    [incident] = _incidents(hotline)
    assert incident.call_sid == call.call_sid


def test_fallback_mid_call_keeps_what_the_caller_already_said(phone, hotline):
    call = phone()
    call.dial()
    call.press("1")  # English
    call.press("3")  # both API and SMTP failing
    call.fallback()
    [incident] = _incidents(hotline)
    assert incident.affected_service == "both"
    assert incident.source == IncidentSource.FALLBACK


def test_internal_error_mid_call_answers_twiml_and_still_ends_in_an_incident(phone, hotline):
    call = phone("+14155550177")
    call.dial()
    with hotline.db.transaction() as s:  # the saved state becomes unreadable: the next step fails
        s.execute(update(CallSession).values(state={"stage": "no-such-stage"}))
    prompt = call.press("1")
    assert prompt.kind == "record"
    [incident] = _incidents(hotline)
    assert incident.source == IncidentSource.RESCUED
    assert incident.callback_phone == "+14155550177"
    call.record(seconds=20)
    assert _incidents(hotline)[0].recording_seconds == 20


def test_caller_hanging_up_mid_intake_is_saved_when_reachable(phone, hotline):
    call = phone("+14155550188")
    call.dial()
    call.press("1")
    call.press("2")  # SMTP injection failing
    call.hang_up()
    [incident] = _incidents(hotline)
    assert incident.source == IncidentSource.RESCUED
    assert incident.affected_service == "smtp"
    assert incident.callback_phone == "+14155550188"
    assert "incident_rescued" in _kinds(hotline, call.call_sid)
    assert "caller_details_checked" in _kinds(hotline, call.call_sid)  # unverified, nothing to compare with
    # it lists what the caller never gave (a probe's rescued incidents said "missing: []")
    assert incident.missing_fields == ["company", "contact_name", "email", "problem"]


def test_hang_up_from_a_withheld_number_with_nothing_captured_opens_nothing(phone, hotline):
    call = phone("anonymous")
    call.dial()
    call.hang_up()
    assert _incidents(hotline) == []
    # Before triage it is a missed call on the board (issue 9); a withheld number gets no SMS.
    assert "missed_call" in _kinds(hotline, call.call_sid)
    with hotline.db.session() as s:
        [missed] = s.scalars(select(MissedCall)).all()
        assert (missed.caller_id, missed.notice_id, missed.stage) == ("anonymous", None, "language")


def test_non_critical_caller_who_hangs_up_opens_nothing(phone, hotline):
    call = phone()
    call.dial()
    call.press("1")
    call.press("9")  # not a critical outage
    call.hang_up()
    assert _incidents(hotline) == []


def test_database_down_fallback_still_answers_and_the_spool_is_replayed(settings, clock, redis_conn, hotline,
                                                                         client):
    dead = settings.with_overrides(database_url="postgresql://nobody@127.0.0.1:1/none")
    broken = Hotline.build(dead, clock=clock, jobs=JobQueue(redis_conn, dead.queue_name))
    call = SimulatedCall(transport=flask_transport(create_app(broken).test_client()), base_url=PUBLIC_BASE_URL,
                         auth_token=TEST_AUTH_TOKEN, caller="+14155550199")
    assert call.fallback().kind == "record"
    assert call.record(seconds=33).kind == "hangup"
    assert (dead.data_dir / SPOOL_NAME).exists()
    assert _incidents(hotline) == []
    # /healthz says callers wait in the spool, even where SELECT 1 answers (an outside probe's locked table diverted
    # every caller while it said all was well)
    spooled = [w for w in client.get("/healthz").get_json()["warnings"] if "emergency spool" in w]
    assert spooled and spooled[0].startswith("3 record(s)")

    replayed = replay(hotline.db, settings)
    assert not [w for w in client.get("/healthz").get_json()["warnings"] if "emergency spool" in w]
    [incident] = _incidents(hotline)
    with hotline.db.session() as s:  # the replayed incident owes its whole escalation plan, handed to RQ on commit
        steps = s.execute(select(DueStep.id, DueStep.status).where(DueStep.incident_id == incident.id)).all()
    queued = set(hotline.jobs.job_ids()) | set(hotline.jobs.scheduled_ids())
    pending = {f"step-{sid}" for sid, status in steps if status == "pending"}
    # the rescue, the voicemail, and the call's status callback when it hung up (kept too: app.webhooks.answer_status)
    assert replayed == 3 and len(steps) == 6 and len(pending) == 5 and pending <= queued  # the first page step ran
    assert incident.callback_phone == "+14155550199"
    assert incident.recording_seconds == 33
    assert not (settings.data_dir / SPOOL_NAME).exists()
    assert replay(hotline.db, settings) == 0
