"""Issue 13: live connect webhooks. The offer after the intake, the wait on the line, and the queue's ends.

Caller side: ``/offer`` (the intake flow hands over here), ``/choice`` (1: wait in the incident's
queue), ``/wait`` (Twilio's waitUrl: music, "you are still in line", leave at the limit),
``/connecting`` (the <Queue url> Twilio runs on the caller's leg before bridging it), ``/bridging`` (its redirect,
asked at its end: the bridge is made now, and the callback counts) and ``/left``
(the <Enqueue action>). Rep side: ``/dial-done`` (the action of the rep's <Dial><Queue>).
"""

from __future__ import annotations

import math
from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app.models import CallbackOutcome, Incident, IncidentStatus, LiveWait
from app.prompts import text
from app.services import live_connect, live_reports
from app.services.callbacks import conversation_too_short
from app.services.status_callbacks import apply_kept_live_reports, left_of
from app.services.update_text import customer_zone
from app.voice.bridge import CUSTOMER_VOICE, bridge_twiml, offer_retry
from app.voice.signature import twilio_webhook
from app.voice.twiml import say_and_hang_up
from app.voice.update_routes import after_callback
from app.watchdog_state import watchdog_runs
from app.webhooks import answer_kept, answer_once
from ivr_flows.model import Lang
from ivr_flows.prompts import say_time

bp = Blueprint("live", __name__, url_prefix="/twilio/live")
OFFER_SECONDS = 8  # silence after the offer: the caller is called back
STILL_IN_LINE_AFTER = 55  # seconds in the queue after which each wait document starts with "still in line"
LIMIT_SLACK_SECONDS = 2  # the waitUrl's QueueTime is whole seconds: this close to the limit counts as reached


def _settings():
    return current_app.extensions["hotline"].settings


def _worker_runs(session, now: datetime) -> bool:
    """Whether a `hotline worker` runs to page and call (``app.watchdog_state``: the rule /healthz reports)."""
    return watchdog_runs(session, current_app.extensions["hotline"].jobs, now)


def _voice(lang: str) -> dict[str, str]:
    code, voice = CUSTOMER_VOICE.get(lang, CUSTOMER_VOICE["en-US"])
    return {"language": code, "voice": voice}


def _by(incident: Incident, now: datetime) -> str:
    """When the callback comes, in the caller's language: by the deadline on the incident's clock
    (``customer_zone``), with its day when that is not today there; once it has passed, as soon as possible (an
    outside probe's repeat caller heard "we will call you back by 8:49 p.m." at 8:50, right after the apology)."""
    lang = incident.language if incident.language in CUSTOMER_VOICE else "en-US"
    if incident.callback_due_at <= now:
        return text("live_by_asap", lang)
    return text("live_by", lang, time=say_time(Lang(lang), incident.callback_due_at, zone_name=customer_zone(incident),
                                                now=now, at=True))


def _say_and_end(key: str, lang: str, **params: object) -> str:
    response = VoiceResponse()
    response.say(text(key, lang, **params), **_voice(lang))
    response.hangup()
    return str(response)


def _caller_safe() -> str:
    return _say_and_end("live_goodbye", "en-US")  # the incident is saved and paged: the callback goes on


@bp.post("/offer")
@twilio_webhook
def offer() -> Response:
    """The intake is done: "an engineer is ready, press 1", or "press 1 to wait on the line"."""
    ref, call_sid = request.args.get("ref", ""), request.form.get("CallSid", "")

    def handle(session, now):
        found = live_connect.offer(session, ref, call_sid, now, worker_runs=_worker_runs(session, now))
        incident = found.incident
        if incident is None:  # nothing to offer (already called back, closed, no number): the flow's goodbye
            other = live_connect.lock_incident(session, ref)
            return _say_and_end("live_goodbye", other.language if other is not None else "en-US")
        if found.no_worker:  # nothing is paged while they would hold: the truth, and the callback that stands
            return _say_and_end("live_no_worker", incident.language, by=_by(incident, now))
        lang, action = incident.language, f"/twilio/live/choice?ref={ref}"
        response = VoiceResponse()
        gather = response.gather(input="dtmf", num_digits=1, timeout=OFFER_SECONDS, action=action, method="POST",
                                 action_on_empty_result=False)
        gather.say(text("live_engineer_ready" if found.ready else "live_offer_wait", lang, by=_by(incident, now)),
                   **_voice(lang))
        response.redirect(f"{action}&noinput=1", method="POST")
        return str(response)

    return answer_once(handle, safe=_caller_safe())


@bp.post("/choice")
@twilio_webhook
def choice() -> Response:
    """1: wait in the incident's queue (an acknowledged rep is called at once); anything else: the callback."""
    ref, call_sid, digits = request.args.get("ref", ""), request.form.get("CallSid", ""), request.form.get("Digits", "")

    def handle(session, now):
        found = (live_connect.offer(session, ref, call_sid, now, announce=False,
                                    worker_runs=_worker_runs(session, now)) if digits == "1" else None)
        incident = found.incident if found and found.incident else live_connect.lock_incident(session, ref)
        lang = incident.language if incident is not None else "en-US"
        if found is not None and found.no_worker:  # the workers stopped since the offer: no wait, the truth
            return _say_and_end("live_no_worker", lang, by=_by(incident, now))
        if found is None or found.incident is None:
            if incident is not None and incident.status != IncidentStatus.OPEN:
                return _say_and_end("live_closed", lang)  # closed meanwhile: no callback to promise
            return _say_and_end("live_no_key", lang, by=_by(incident, now)) if incident else _caller_safe()
        wait = live_connect.start_waiting(session, incident, call_sid, now)
        response = VoiceResponse()
        response.say(text("live_hold_ready" if wait.engineer_ready else "live_hold_wait", lang), **_voice(lang))
        response.enqueue(wait.queue_name, action=f"/twilio/live/left?wait={wait.id}", method="POST",
                         wait_url=f"/twilio/live/wait?wait={wait.id}", wait_url_method="POST")
        return str(response)

    return answer_once(handle, safe=_caller_safe())


@bp.post("/wait")
@twilio_webhook
def wait() -> Response:
    """Twilio's waitUrl, requested again after each play: music, "still in line", leave at the limit."""
    wait_id, queue_time = request.args.get("wait", 0, type=int), request.form.get("QueueTime", 0, type=int)
    settings = _settings()

    def handle(session, now):
        row = session.get(LiveWait, wait_id)
        incident = live_connect.incident_of(session, row) if row is not None else None
        response, time_left = VoiceResponse(), settings.live_wait_minutes * 60 - queue_time
        if (incident is None or time_left <= LIMIT_SLACK_SECONDS or incident.callback_answered_at
                or incident.status != IncidentStatus.OPEN  # closed while they wait: nobody will take them
                or not _worker_runs(session, now)):  # the workers stopped: nobody is paged or called meanwhile
            response.leave()  # the <Enqueue action> says goodbye with the callback time
            return str(response)
        still = (text("live_still_in_line", row.language, by=_by(incident, now))
                 if queue_time >= STILL_IN_LINE_AFTER else "")
        if still:
            response.say(still, **_voice(row.language))
        time_left -= _spoken_seconds(still)
        if time_left >= settings.live_hold_music_seconds:
            response.play(settings.live_hold_music_url)
        else:  # a whole clip would end past the limit: Twilio asks again only after it, so wait out the rest
            response.pause(length=max(1, math.ceil(time_left)))
        return str(response)

    return answer_once(handle, safe=_music(settings.live_hold_music_url))


def _spoken_seconds(words: str) -> float:
    """About how long Twilio takes to say ``words`` (150 words a minute)."""
    return len(words.split()) / 2.5


def _music(url: str) -> str:
    """Hold music alone: what a waiting caller hears when the wait webhook fails inside (Twilio asks again)."""
    response = VoiceResponse()
    response.play(url)
    return str(response)


@bp.post("/connecting")
@twilio_webhook
def connecting() -> Response:
    """The <Queue url>: Twilio runs it on the waiting caller's leg just before bridging them to the rep."""
    wait_id, callback_id, f = request.args.get("wait", 0, type=int), request.args.get("callback", type=int), request.form

    def handle(session, now):  # the CallSid is the caller Twilio really took (the first in line), not a claim
        row = live_connect.dequeued(session, wait_id, f.get("CallSid", ""), f.get("DequeingCallSid", ""),
                                    f.get("QueueTime", 0, type=int), now, callback_id=callback_id)
        lang = row.language if row is not None else "en-US"
        response = VoiceResponse()
        response.say(text("live_connecting", lang), **_voice(lang))
        if row is not None and row.callback_id is not None:  # asked once "connecting you now" has played to its end
            response.redirect(f"/twilio/live/bridging?wait={row.id}", method="POST")
        return str(response)

    return answer_once(handle, safe=_connecting_safe(wait_id, callback_id, f.get("DequeingCallSid", ""),
                                                     f.get("QueueTime", 0, type=int)))


SAFE_CONNECTING_PAUSE = 1  # seconds of silence before the second chance (a database back within them records it)


def _connecting_safe(wait_id: int, callback_id: int | None, dequeuing_call_sid: str, queue_seconds: int) -> str:
    """The ``<Queue url>``'s answer when its request fails inside (the database unreachable): nothing is recorded,
    and the caller must not be held, so a short silence and a ``<Redirect>`` to ``/bridging`` carrying the ids this
    request had (the URL's wait and callback, Twilio's DequeingCallSid): a database back by then records the dequeue
    and counts the bridge there as on the ordinary path. Without them an empty document (Twilio bridges at once).
    Either way, should ``/bridging`` fail too, its empty answer bridges them and the end reports prove the bridge
    (``live_connect.bridge_proven``). No words: the caller's language is in the database."""
    response = VoiceResponse()
    if wait_id and callback_id:
        response.pause(length=SAFE_CONNECTING_PAUSE)
        query = urlencode({"wait": wait_id, "callback": callback_id, "dequeuing": dequeuing_call_sid[:64],
                           "queue_time": queue_seconds})
        response.redirect(f"/twilio/live/bridging?{query}", method="POST")
    return str(response)


@bp.post("/bridging")
@twilio_webhook
def bridging() -> Response:
    """The ``<Queue url>``'s redirect: the caller is still on the line at its end, and Twilio bridges them to the rep
    as soon as this empty document is done. The callback counts now, while they talk (never at the call's end).
    With ``callback`` in the URL (``_connecting_safe``: the ``<Queue url>`` request failed) the dequeue is recorded
    here first, now."""
    wait_id, call_sid = request.args.get("wait", 0, type=int), request.form.get("CallSid", "")
    callback_id, args = request.args.get("callback", type=int), request.args

    def handle(session, now):
        taken_id = wait_id
        if callback_id:  # the <Queue url> request was lost: this one is the first to reach the hotline
            row = live_connect.dequeued(session, wait_id, call_sid, args.get("dequeuing", ""),
                                        args.get("queue_time", 0, type=int), now, callback_id=callback_id,
                                        proof="bridging")
            taken_id = row.id if row is not None else wait_id
        live_connect.bridging(session, taken_id, call_sid, now)
        return str(VoiceResponse())

    return answer_once(handle, safe=str(VoiceResponse()))


@bp.post("/left")
@twilio_webhook
def left() -> Response:
    """The <Enqueue action>: bridged and done, hung up, or the wait limit reached (then the callback)."""
    def handle(session, now):  # as ``status_callbacks.live_left`` applies it
        row = left_of(session, request.form, request.args, now)
        if row is None:
            return _caller_safe()
        incident = live_connect.incident_of(session, row)
        if row.result == live_connect.BRIDGED:
            return _say_and_end("live_ended", row.language)
        if row.result == live_connect.LEFT_HUNG_UP:
            return str(VoiceResponse())  # nobody hears it; the escalation goes on to the callback
        if incident.status != IncidentStatus.OPEN:  # resolved while they waited: no callback is coming
            return _say_and_end("live_closed", row.language)
        if incident.callback_answered_at is not None:  # a rep took another caller of theirs: no callback is coming
            return _say_and_end("live_taken_by_other", row.language)
        if not _worker_runs(session, now):  # the wait ended because no worker runs (``wait``): say so
            return _say_and_end("live_wait_no_worker", row.language, by=_by(incident, now))
        return _say_and_end("live_wait_over", row.language, by=_by(incident, now))

    # the database unreachable: the goodbye, and the report kept in the spool (a bridge it proves counts on the replay)
    return answer_kept(_caller_safe(), handler=handle, safe=_caller_safe())


@bp.post("/dial-done")
@twilio_webhook
def dial_done() -> Response:
    """The rep's <Dial><Queue> ended: a bridge proven (counted) then the update interval; bridged too briefly to be the
    callback (withdrawn) then the rep's retry offer; else, no bridge proven, dial the customer out
    (``live_reports.rep_dial_ended``)."""
    callback_id, wait_id = request.args.get("callback", 0, type=int), request.args.get("wait", 0, type=int)
    form, settings = request.form, _settings()
    call_status = form.get("CallStatus", "")  # final: the rep hung up first and hears no answer

    def handle(session, now):
        apply_kept_live_reports(session, settings, callback_id)  # a report the spool holds comes first
        end = live_reports.rep_dial_ended(session, callback_id, wait_id, form, now, call_status)
        callback, incident = end.callback, end.incident
        if end.verdict == live_reports.TOO_SHORT:
            return offer_retry(callback, "bridge_too_short")  # connected, too briefly: 1 dials the customer
        if end.verdict == live_reports.TALKED:
            return after_callback(session, callback, incident, now, call_status)  # issue 11: the interval
        if (end.verdict == live_reports.GOODBYE or callback.outcome != CallbackOutcome.PENDING
                or not incident.callback_phone):
            return say_and_hang_up(text("bridge_goodbye"))
        # the caller left the line before the rep's leg reached them: dial them out, as any callback
        return bridge_twiml(callback, incident, settings, whisper=text(end.whisper), live=False)

    # the database unreachable: the report is kept in the spool (``status_callbacks.live_dial_done`` judges it on the
    # replay), and no second dial-out. A leg that proves it talked with the caller is not told to call the customer
    # again (the generic error's advice)
    bridged_caller = live_connect.dial_bridged_caller(form.get("DialCallStatus", ""), form.get("DialBridged", ""),
                                                      form.get("DialCallSid", ""))
    proven = bridged_caller and not conversation_too_short(form.get("DialCallDuration", ""), form.get("DialBridged", ""))
    unrecorded = say_and_hang_up(text("live_rep_end_unrecorded" if proven else "bridge_error"))
    return answer_kept(unrecorded, handler=handle, safe=unrecorded)
