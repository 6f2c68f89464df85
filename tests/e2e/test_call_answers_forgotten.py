"""An ended call's flow state keeps none of the caller's answers once no webhook of the call can need them: the
incident (or missed call) holds them, and Twilio's retries, the late <Record> action and the status callbacks still
get what they got before (app/services/call_answers.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.models import CallSession, Incident, MissedCall
from app.models.call import IN_PROGRESS, UNREPORTED
from app.services.call_answers import FORGET_CALLS_PER_PASS, calls_to_forget, forget_call_answers
from app.services.escalation import INTAKE_IDLE_AFTER
from app.services.stored_answers import FORGET_AFTER, RETRY_WINDOW
from ivr_flows.model import CallState, Captured, Stage
from tests.replay_support import CALLER, database_rows, intake_to_readback, is_empty_twiml
from workers import watchdog

SAID = ("Acme", "Dana", "dana@", "Every API call", "api.twilio.com", CALLER)


def _call(hotline, call_sid: str) -> CallSession:
    with hotline.db.session() as session:
        return session.get(CallSession, call_sid)


def _kept(hotline, call_sid: str) -> list[str]:
    """What the call's stored state still holds of what the caller said."""
    text = json.dumps(_call(hotline, call_sid).state)
    return [said for said in SAID if said in text]


def _incidents(hotline) -> list[Incident]:
    with hotline.db.session() as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def _past_the_window(clock, hotline) -> None:
    clock.advance(seconds=FORGET_AFTER.total_seconds() + 1)
    watchdog.tick(hotline, "worker-1")  # the leader's pass


def test_a_completed_intake_keeps_no_answer_once_no_retry_can_come_and_twilios_retry_got_its_answer(
        phone, hotline, clock):
    watchdog.tick(hotline, "worker-1")  # a worker runs: the live wait is offered (``app.watchdog_state``)
    call, sent = intake_to_readback(phone)
    call.press("1")  # the read-back is right: the incident is complete
    closing = (call.last_request, call.responses[-1])
    if call.prompt.kind == "gather":
        call.silence()  # the live-connect offer, if any: not taken; the call hangs up (its status callback comes)
    assert call.ended
    [incident] = _incidents(hotline)
    assert (incident.company, incident.contact_name, incident.email) == ("Acme Mail", "Dana Smith", "dana@acme.example")

    clock.advance(seconds=RETRY_WINDOW.total_seconds() - 60)
    watchdog.tick(hotline, "worker-1")
    assert _kept(hotline, call.call_sid)  # Twilio may still retry a step: the state is as it was
    for request, first in (sent["readback"], closing):
        assert call._post(*request) == (200, first)

    _past_the_window(clock, hotline)

    assert _kept(hotline, call.call_sid) == []
    stored = _call(hotline, call.call_sid)
    assert not stored.answers_kept and stored.incident_id == incident.id
    assert (stored.state["stage"], stored.state["lang"], stored.state["incident"]["reference"]) == (
        "done", "en-US", incident.reference)  # what later webhooks of the call read is kept
    [after] = _incidents(hotline)
    assert (after.company, after.contact_name, after.email, after.problem_text, after.recording_url) == (
        incident.company, incident.contact_name, incident.email, incident.problem_text, incident.recording_url)
    before = database_rows(hotline)
    for name, (request, _first) in sent.items():  # a replay now: nothing said, nothing done
        code, body = call._post(*request)
        assert code == 200 and is_empty_twiml(body), (name, body)
    assert database_rows(hotline) == before


def test_an_abandoned_call_is_rescued_with_its_late_recording_before_its_answers_are_dropped(phone, hotline, clock):
    call = phone(CALLER)
    call.dial()
    call.press("1")  # English
    for _ in range(3):
        call.press("7")  # a garbled triage: no incident opens mid-call
    call.press("#")  # no ticket
    call.say("Acme Mail Inc")
    call.say("Dana Smith")
    call.press("1")  # the caller ID is the callback number
    call.say("ops at acme dot example")
    call.press("1")
    call.say("Every API call answers 500.")
    assert call.prompt.kind == "record"
    # the line drops while recording: the status callback first, then Twilio's <Record> action
    assert call.hang_up_while_recording(seconds=25, status_first=True) == 200
    [rescued] = _incidents(hotline)
    assert rescued.source == "rescued" and rescued.recording_seconds == 25 and "problem" not in rescued.missing_fields

    _past_the_window(clock, hotline)

    assert _kept(hotline, call.call_sid) == []
    [after] = _incidents(hotline)
    assert (after.company, after.contact_name, after.callback_phone, after.email, after.problem_text) == (
        "Acme Mail Inc", "Dana Smith", CALLER, "ops@acme.example", "Every API call answers 500.")
    assert after.recording_url == rescued.recording_url and after.missing_fields == rescued.missing_fields


def test_a_call_whose_end_twilio_never_reports_is_rescued_first_and_forgotten_after_the_window(phone, hotline, clock):
    known, withheld = phone(CALLER), phone("anonymous")
    for call in (known, withheld):
        call.dial()
        call.press("1")  # English
        call.press("1")  # API calls failing
        call.press("#")  # no ticket
        call.say("Acme Mail Inc")
    known.say("Dana Smith")  # then the lines drop; no status callback comes
    clock.advance(seconds=INTAKE_IDLE_AFTER.total_seconds() + 1)
    watchdog.tick(hotline, "worker-1")
    [rescued] = _incidents(hotline)
    assert (rescued.company, rescued.contact_name, rescued.callback_phone) == ("Acme Mail Inc", "Dana Smith", CALLER)
    assert _kept(hotline, known.call_sid) and _kept(hotline, withheld.call_sid)

    _past_the_window(clock, hotline)

    assert _kept(hotline, known.call_sid) == [] and _kept(hotline, withheld.call_sid) == []
    with hotline.db.session() as session:
        [missed] = session.scalars(select(MissedCall)).all()
    assert missed.said == {"affected_service": "api", "company": "Acme Mail Inc"}  # what the withheld caller said
    assert [(i.company, i.contact_name) for i in _incidents(hotline)] == [("Acme Mail Inc", "Dana Smith")]
    assert known.hang_up() == 200  # Twilio's status callback after all, hours late: nothing twice
    assert len(_incidents(hotline)) == 1
    with hotline.db.session() as session:
        assert len(session.scalars(select(MissedCall)).all()) == 1


def _stored_call(session, sid: str, status: str, updated_at) -> None:
    state = CallState(stage=Stage.EMAIL, caller_id=CALLER, captured=Captured(company="Acme Mail Inc"))
    session.add(CallSession(call_sid=sid, from_number=CALLER, state=state.to_dict(), status=status,
                            started_at=updated_at, updated_at=updated_at))


def test_only_ended_calls_past_the_window_are_forgotten_the_oldest_first_a_bounded_number_a_pass(hotline, clock):
    now = clock.now()
    old, recent = now - FORGET_AFTER - timedelta(minutes=5), now - FORGET_AFTER + timedelta(minutes=5)
    with hotline.db.transaction() as session:
        for n, status in enumerate(("completed", "no-answer", UNREPORTED, "busy")):
            _stored_call(session, f"CAold{n}", status, old + timedelta(seconds=n))
        _stored_call(session, "CAgoing", IN_PROGRESS, old)  # a status callback and the watchdog may still come
        _stored_call(session, "CArecent", "completed", recent)  # Twilio may still retry a step of it
        _stored_call(session, "CAunreadable", "completed", old + timedelta(seconds=9))
        session.get(CallSession, "CAunreadable").state = {"stage": "no such stage"}

    with hotline.db.transaction() as session:
        assert forget_call_answers(session, now, limit=3) == 3
    assert [sid for sid in ("CAold0", "CAold1", "CAold2", "CAold3") if _kept(hotline, sid)] == ["CAold3"]
    with hotline.db.transaction() as session:
        assert forget_call_answers(session, now) == 2
        assert forget_call_answers(session, now) == 0
    assert _kept(hotline, "CAold3") == [] and _call(hotline, "CAunreadable").state == {}
    assert _kept(hotline, "CAgoing") == _kept(hotline, "CArecent") == ["Acme", CALLER]
    forgotten = CallState.from_dict(_call(hotline, "CAold0").state)  # still a state every webhook can read
    assert (forgotten.stage, forgotten.captured, forgotten.caller_id) == (Stage.EMAIL, Captured(), "")


def test_the_calls_to_forget_are_found_through_the_partial_index(hotline, clock):
    """The pass reads the calls whose state still holds answers through ix_call_sessions_answers_kept, not every
    call ever taken."""
    sql = calls_to_forget(clock.now(), FORGET_CALLS_PER_PASS)
    with hotline.db.transaction() as session:
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            compiled = str(sql.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
        else:
            compiled = sql.compile(conn, compile_kwargs={"render_postcompile": True})
            values = tuple(None for _ in compiled.positiontup)
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values))
    assert "ix_call_sessions_answers_kept" in plan, plan


def test_a_late_webhook_of_a_forgotten_call_never_promises_a_deadline_already_past(phone, hotline, clock):
    """A step arriving after the forget pass (a late <Redirect>, a delivery Twilio never made before) comes after
    the deadline the call gave: it apologises instead of promising that time again (it said "call you back by
    3:15 a.m. UTC", in UTC since the numbers the zone came from were forgotten, and already past)."""
    berlin = "+4915123456789"
    call, _sent = intake_to_readback(phone, berlin)
    call.press("1")  # the read-back is right: the incident is complete
    [incident] = _incidents(hotline)
    heard = " ".join(call.responses[-1].split())
    local = incident.callback_due_at.astimezone(ZoneInfo("Europe/Berlin"))
    said = f"{local.hour % 12 or 12}:{local.minute:02d} {'a.m.' if local.hour < 12 else 'p.m.'} CET"
    assert said in heard  # what the caller heard at the end of the call

    _past_the_window(clock, hotline)
    assert _kept(hotline, call.call_sid) == [] and berlin not in json.dumps(_call(hotline, call.call_sid).state)

    seq = _call(hotline, call.call_sid).seq
    code, late = call._post(f"/twilio/voice/step?seq={seq}", {"Digits": "9"})  # never sent before: no replay
    assert code == 200 and not is_empty_twiml(late)
    late = " ".join(late.split())
    assert "call you back by" not in late and "UTC" not in late
    assert "haven't called you back yet" in late.replace("&#x27;", "'").replace("&#39;", "'")
