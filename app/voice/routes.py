"""The voice webhooks: verify, load by CallSid, advance, render."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, Response, current_app, request

from app import carried_answers
from app.carried_answers import PARAM, Carried
from app.db import unreachable
from app.db_outage import failed
from app.models import IncidentSource
from app.models.call import ENDED_STATUSES
from app.services import intake, lean_step
from app.services.caller_limits import limits_from
from app.services.incidents import attach_recording, rescue_call
from app.services.spool import keep
from app.voice.emergency import (
    goodbye_twiml,
    incident_kept_twiml,
    lost_twiml,
    message_lost_twiml,
    no_message_twiml,
    voicemail_twiml,
)
from app.voice.signature import twilio_webhook
from app.voice.twiml import render
from app.webhooks import answer_once, answer_status
from ivr_flows.model import Gathered, NoInput, Recorded
from ivr_flows.validate import is_valid_phone

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/twilio/voice")


def _hotline():
    return current_app.extensions["hotline"]


_TOKEN_GAP = "\ue001"  # where the token goes: the reply's rendered shape stays cached (``twiml.render``, issue 12)


def _twiml(turn: intake.Turn) -> str:
    """The reply's TwiML; its action URLs carry the call's language and short answers (``app.carried_answers``), so
    a webhook that meets a database outage still knows them (probe Z2)."""
    step_url, recording_url = f"/twilio/voice/step?seq={turn.seq}", f"/twilio/voice/recording?seq={turn.seq}"
    token = carried_answers.token(turn.state, request.form.get("CallSid", ""), _key()) if turn.state else ""
    if not token:
        return render(turn.reply, step_url, recording_url)
    tail = f"&{PARAM}={_TOKEN_GAP}"
    return render(turn.reply, step_url + tail, recording_url + tail).replace(_TOKEN_GAP, token)


def _key() -> bytes:
    return carried_answers.key_of(_hotline().settings)


def _carried() -> tuple[Carried | None, str]:
    """What this request's URL carries of its call (the token, when it is one made for this call), and the token;
    for Twilio's Fallback URL, what the URL that failed (``ErrorUrl``) carried. (None, "") when nothing is."""
    token = request.args.get(PARAM, "")
    if not token and request.form.get("ErrorUrl"):
        token = parse_qs(urlsplit(request.form["ErrorUrl"]).query).get(PARAM, [""])[0]
    carried = carried_answers.read(token, request.form.get("CallSid", ""), _key()) if token else None
    if token and carried is None:
        log.warning("call %s: the answers its URL carries do not verify (another deployment's key, or altered); "
                    "the emergency voicemail asks in both languages", request.form.get("CallSid"))
    return carried, token if carried else ""


def _flow(session, now, turn) -> str:
    """The TwiML of ``turn()`` (the flow's next reply); for a call whose stored state cannot be read, the safe
    answer: never the flow, nor the generic rescue of an internal error."""
    try:
        return _twiml(turn())
    except intake.UnreadableCall as call:
        return _unreadable(session, now, call)


def _unreadable(session, now, call: intake.UnreadableCall) -> str:
    """A call whose flow state cannot be read (a row edited by hand) gets what it can be told truly: with an
    incident, that it stands (untouched, its promise running) and how to add to it; without one, saved as the
    emergency paths save a caller (``rescue_call``) and asked for a voicemail. Logged here, once per request (a
    retry of it gets the stored answer)."""
    has = call.incident_id is not None
    log.warning("call %s: its stored flow state cannot be read; %s", call.call_sid,
                f"its incident {call.incident_id} stands, the caller is told so" if has
                else "the caller is saved as a rescued incident and asked for a voicemail")
    if has:
        return incident_kept_twiml()
    carried, token = _carried()
    intake.rescue_unreadable(session, call, request.form.get("From", ""), intake.policy_from(_hotline().settings), now,
                             carried)
    return voicemail_twiml(_minutes(), carried=carried, token=token)


def _guarded(handler, lean=None) -> Response:
    """Answer the webhook; on any internal error still save the caller and take a voicemail."""
    try:
        return answer_once(handler, lean=lean)
    except Exception as exc:  # noqa: BLE001 - the caller must always get TwiML
        # the database down: the outage's own line and the rescue's one line for this caller, no traceback
        failed(_hotline().db.outage, log, exc, "voice webhook failed; rescuing call %s", request.form.get("CallSid"))
        carried, token = _carried()
        kept = _rescue(IncidentSource.RESCUED, "internal_error", cause=exc, carried=carried)
        return Response(voicemail_twiml(_minutes(), kept, carried, token), mimetype="text/xml")


def _minutes() -> int:
    """The promise the emergency words give (CALLBACK_SLA_MINUTES), as the intake's and the receipt's."""
    return _hotline().settings.callback_sla_minutes


def _rescue(source: IncidentSource, reason: str, *, delivery: bool = False, cause: BaseException | None = None,
            carried: Carried | None = None) -> bool:
    """Save the caller (on disk when SQL is down too); False when neither took them. With ``delivery`` the request is
    Twilio's own (the Fallback URL): saved once per request its signature covers (``answer_once``), however its form
    is split. ``cause``: the webhook's own failure, when the rescue follows one. A caller kept while the database
    cannot be reached is one WARNING line naming the call (the outage itself is told once: ``app.db_outage``).
    ``carried``: the language and answers the call's URL carried, kept with the caller (in SQL or the spool)."""
    hotline = _hotline()
    sid, caller = request.form.get("CallSid", ""), request.form.get("From", "")
    now = hotline.clock.now()

    def save(session, at) -> str:
        rescue_call(session, call_sid=sid, from_number=caller, now=at, reason=reason,
                    policy=intake.policy_from(hotline.settings), source=source, carried=carried)
        return ""

    try:
        if delivery:
            answer_once(save)
        else:
            with hotline.db.transaction() as session:
                save(session, now)
    except Exception as exc:  # noqa: BLE001 - SQL is down too: keep it on disk
        kept = keep(hotline.settings.data_dir, "rescue", {"call_sid": sid, "from": caller, "reason": reason,
                                                           "source": source.value, "at": now.isoformat(),
                                                           **({"carried": carried.to_record()} if carried else {})})
        if kept and unreachable(exc):
            log.warning("call %s: database unreachable (%s); the caller is kept in the spool", sid,
                        hotline.db.outage.note(exc))
        else:
            log.error("could not save rescued call %s; %s", sid,
                      "kept in the spool" if kept else "NOT kept either (the spool cannot be written): lost", exc_info=exc)
        return kept
    if cause is not None and unreachable(cause):  # the database answered again in between
        log.warning("call %s: database unreachable mid-call; saved as a rescued incident", sid)
    return True


def _lost(sid: str, caller: str, url: str, what: str) -> None:
    """The last-ditch line for a human: what could not be kept, and how to call the caller back by hand.

    The caller's number is redacted here as in every log line (logs go to a central store: README *Logs*); the call
    SID finds the full number in Twilio's call log (Console > Monitor > Calls, or GET .../Calls/<sid>.json), which
    keeps it whatever happened here, and the recording URL is the caller's own words.
    """
    log.error("LOST %s of call %s from %s: neither the database nor the emergency spool took it; call them back by "
              "hand (their number: Twilio's call log, call %s); their voicemail: %s", what, sid, caller or "withheld",
              sid, url or "none")


@bp.post("")
@twilio_webhook
def incoming() -> Response:
    """A new call: greet and ask the first question."""
    f, policy, limits = request.form, intake.policy_from(_hotline().settings), limits_from(_hotline().settings)
    return _guarded(lambda s, now: _flow(s, now, lambda: intake.start_call(
        s, call_sid=f["CallSid"], from_number=f.get("From", ""), to_number=f.get("To", ""), policy=policy, now=now,
        limits=limits)))


@bp.post("/step")
@twilio_webhook
def step() -> Response:
    """The caller answered a <Gather> (or stayed silent: ``noinput=1``)."""
    f = request.form
    event = NoInput() if request.args.get("noinput") or _timed_out(f) else Gathered(
        f.get("Digits", ""), f.get("SpeechResult", ""))
    return _continue(f["CallSid"], request.args.get("seq", -1, type=int), event)


def _timed_out(form) -> bool:
    """An empty answer (actionOnEmptyResult) that is silence: Twilio's FinishedOnKey is empty when the <Gather>
    timed out and names the finish key when the caller pressed it alone (a bare '#' is an answer)."""
    return ("FinishedOnKey" in form and not form["FinishedOnKey"] and not form.get("Digits")
            and not form.get("SpeechResult", "").strip())


@bp.post("/recording")
@twilio_webhook
def recording() -> Response:
    """A <Record> finished (or recorded nothing: ``noinput=1``)."""
    f = request.form
    event = Recorded() if request.args.get("noinput") else Recorded(
        f.get("RecordingUrl", ""), f.get("RecordingDuration", 0, type=int))
    return _continue(f["CallSid"], request.args.get("seq", -1, type=int), event)


def _continue(call_sid: str, seq: int, event) -> Response:
    """An answer to the flow: the lean ordinary step when it can, else ``continue_call``'s transaction."""
    hotline = _hotline()
    limits = limits_from(hotline.settings)
    return _guarded(
        lambda s, now: _flow(s, now, lambda: intake.continue_call(s, call_sid=call_sid, seq=seq, event=event, now=now,
                                                                  limits=limits)),
        lean=lambda key, now: lean_step.answer(hotline.db, key=key, path=request.path, call_sid=call_sid, seq=seq,
                                               event=event, now=now, render=_twiml))


@bp.post("/status")
@twilio_webhook
def status() -> Response:
    """Call status callback: a caller who hung up mid-intake is saved (later, from the spool, while SQL is down)."""
    f, hotline = request.form, _hotline()
    call_sid, call_status, duration = f.get("CallSid", ""), f.get("CallStatus", ""), f.get("CallDuration", "")
    ended = call_status in ENDED_STATUSES
    return answer_status(  # status_callbacks.intake_call, or the lean path
        lean=lambda key, now: lean_step.status(hotline.db, key=key, path=request.path, call_sid=call_sid,
                                               call_status=call_status, duration=duration, ended=ended, now=now))


@bp.post("/fallback")
@twilio_webhook
def fallback() -> Response:
    """Twilio's Fallback URL: no flow; save the caller (once per signed request) and take a voicemail."""
    reason = f"twilio_fallback {request.form.get('ErrorCode', '')}".strip()
    carried, token = _carried()  # what the URL that failed carried
    kept = _rescue(IncidentSource.FALLBACK, reason, delivery=True, carried=carried)
    return Response(voicemail_twiml(_minutes(), kept, carried, token), mimetype="text/xml")


@bp.post("/fallback/recording")
@twilio_webhook
def fallback_recording() -> Response:
    """The emergency voicemail finished: attach it to the call's incident. The caller is told only what is true:
    "your message is recorded" once the call and the voicemail are kept (in SQL or the spool); nothing recorded
    (``noinput``), that we heard nothing; the voicemail lost, so; nothing kept at all (``unkept``, the rescue tried
    again here), to call again (an outside probe's caller heard "Your message is recorded" of a lost call). In the
    caller's language when the voicemail's URL carries it (probe Z2), else in both."""
    f, hotline = request.form, _hotline()
    carried, _token = _carried()
    lang = carried.lang if carried else None
    sid, caller, url = f.get("CallSid", ""), f.get("From", ""), f.get("RecordingUrl", "")
    reachable = is_valid_phone(caller)
    # the rescue was lost when the voicemail began: the database or the disk may be back
    rescued = not request.args.get("unkept") or _rescue(IncidentSource.FALLBACK, "rescue_retried_after_voicemail",
                                                        carried=carried)
    if request.args.get("noinput"):
        if not rescued:
            _lost(sid, caller, "", "the call")
            return Response(lost_twiml(lang), mimetype="text/xml")
        return Response(no_message_twiml(_minutes(), reachable, lang), mimetype="text/xml")
    secs, now = f.get("RecordingDuration", 0, type=int), hotline.clock.now()

    def attach(session, at) -> str:
        attach_recording(session, call_sid=sid, url=url, seconds=secs, now=at)
        return ""

    try:  # once per signed request: a replay, its form split otherwise, must not replace the recording
        answer_once(attach)
        attached = True
    except Exception as exc:  # noqa: BLE001
        attached = keep(hotline.settings.data_dir, "recording",
                        {"call_sid": sid, "url": url, "seconds": secs, "at": now.isoformat()})
        if attached and unreachable(exc):
            log.warning("voicemail of call %s: database unreachable (%s); kept in the spool", sid,
                        hotline.db.outage.note(exc))
        else:
            log.error("could not attach voicemail of %s; %s", sid,
                      "kept in the spool" if attached else "NOT kept either (the spool cannot be written): lost",
                      exc_info=exc)
    if rescued and attached:
        return Response(goodbye_twiml(_minutes(), lang), mimetype="text/xml")
    _lost(sid, caller, url, "the voicemail" if rescued else "the call and its voicemail")
    if rescued and reachable:
        return Response(message_lost_twiml(_minutes(), lang), mimetype="text/xml")
    return Response(lost_twiml(lang), mimetype="text/xml")
