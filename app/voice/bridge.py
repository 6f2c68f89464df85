"""Bridged callbacks: whisper to the rep, dial the customer from the hotline number.

The customer is dialled only once the rep pressed a key on the hotline's call to them: a voicemail never presses
one, and answering-machine detection is a guess that lets voicemails through (a long greeting ends ``unknown``, a
short one "Hi, it's Alice" is heard as ``human``). Even ``human`` is asked: the key costs a person a second, a
voicemail taken for a person would be bridged to the customer and counted met. No key is the rep not reached, as
a machine is. A rep already on the line (who pressed 2 on a voice page or 1 to retry: ``rep_call_sid``) is not
asked again.

The customer's leg is connected only after the customer presses a key ("Press any key
to speak with our support team", in their language); a voicemail never presses one, and
answering-machine detection is the second signal. A number with an extension reaches a
switchboard: its auto-attendant is a machine by design, so detection is off there, the
extension is keyed in for the rep when the leg is answered, and the key press asked of the
person who picks up at the extension remains the proof.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app.models import Callback, CallbackOutcome, Incident, IncidentStatus, Rep
from app.models.paging import VOICEMAIL_MESSAGE
from app.prompts import text
from app.services.acks import Actor, connect
from app.services.callback_extensions import callback_extension
from app.services.callbacks import (
    adopt_rep_call,
    already_withdrawn_as_short,
    answered_late,
    bridge_proves_key,
    conversation_too_short,
    customer_is_machine,
    dial_ended,
    open_callback,
    rep_not_reached,
    takes_message,
    talked_since,
    whisper_heard,
    withdraw_short_bridge,
)
from app.services.company_label import said_company
from app.services.rep_legs import claim_leg
from app.services.row_locks import lock_callback
from app.services.status_callbacks import apply_kept_key_press
from app.telephony.protocol import DETECT, DETECT_MESSAGE_END, DETECT_TIMEOUT_SECONDS, is_machine
from app.voice.live_twiml import hung_up_whisper, live_twiml
from app.voice.signature import twilio_webhook
from app.voice.twiml import HANG_UP, REP_VOICE, say_and_hang_up
from app.voice.twiml_time import until_gather_ends
from app.voice.update_routes import after_callback
from app.webhooks import answer_kept, answer_once, answer_status

bp = Blueprint("bridge", __name__, url_prefix="/twilio/bridge")
CONNECT = str(VoiceResponse())  # an empty whisper: the legs are bridged
CUSTOMER_VOICE = {"en-US": ("en-US", "Polly.Joanna"), "de-DE": ("de-DE", "Polly.Vicki")}
PRESS_KEY_SECONDS = 10
NO_KEY_FROM_REP = "no_key_from_rep"  # why the rep was not reached: their call was answered, no key was pressed
EXTENSION_PROMPTS, EXTENSION_PAUSE_SECONDS = 3, 5  # after keying in an extension: asked 3 times, 5 s apart
PRESS_KEY_PROMPTS = ("customer_press_key", "customer_press_key_late")  # the whisper's key prompt: in time, late
MESSAGE_QUERY = "&message=1"  # in a message call's whisper URL


def _safe() -> str:
    return say_and_hang_up(text("bridge_error"))


def bridge_twiml(callback: Callback, incident: Incident, settings, whisper: str = "", message: bool = False,
                 live: bool = True) -> str:
    """Whisper the incident to the rep, then dial the customer, who must press a key to be connected.

    ``message``: the rep leaves a voicemail message; a machine is connected once its greeting ends (no key), and a
    person who picks up is asked for the key as on any callback (then it counts). Issue 13: a caller waiting on
    the line for this incident is dialled out of its queue instead.
    """
    dequeue = live_twiml(callback, incident, settings) if live and not message else None
    if dequeue is not None:
        return dequeue
    if live and not message and not whisper:  # the caller hung up on hold while this rep's phone rang: say so
        whisper = hung_up_whisper(callback, incident)
    response = VoiceResponse()
    ref = ", ".join(incident.reference)
    response.say(whisper or text("bridge_intro", ref=ref), **REP_VOICE)
    response.say(text("bridge_dialling", company=said_company(incident.company) or "The customer",
                      contact=incident.contact_name or "contact unknown", ref=ref), **REP_VOICE)
    extension = callback_extension(incident)
    if extension:
        response.say(text("bridge_extension", extension=", ".join(extension)), **REP_VOICE)
    dial = response.dial(caller_id=settings.twilio_number or None, timeout=30, answer_on_bridge=True,
                         action=f"/twilio/bridge/dial-done?callback={callback.id}", method="POST")
    # a message call says so in its whisper's URL (signed by Twilio with it): its voicemail is connected to the rep
    # even when the database cannot be reached to read the callback (``customer_whisper``)
    extra = {"url": f"/twilio/bridge/customer-whisper?callback={callback.id}{MESSAGE_QUERY if message else ''}",
             "method": "POST"}
    if not extension:  # a switchboard's auto-attendant would be hung up on as a machine
        # a message waits for the voicemail's greeting to end (the beep) before the rep is connected to it
        extra["machine_detection"] = DETECT_MESSAGE_END if message else DETECT
        extra["machine_detection_timeout"] = DETECT_TIMEOUT_SECONDS  # ``whisper_longest`` counts on it
    dial.number(incident.callback_phone, status_callback=f"/twilio/bridge/customer-status?callback={callback.id}",
                status_callback_event="initiated ringing answered completed", status_callback_method="POST", **extra)
    return str(response)


def _actor(session, callback: Callback) -> Actor:
    rep = session.get(Rep, callback.rep_id) if callback.rep_id else None
    return Actor(name=rep.name if rep else "rep", via="voice", rep=rep, is_manager=bool(rep and rep.is_manager))


@bp.post("/rep")
@twilio_webhook
def rep_answered() -> Response:
    """The hotline's call to the rep was answered: a machine is the rep not reached; anyone else is asked for a key
    (``rep_confirm``), and no key is the rep not reached too (``rep_no_key``): never a voicemail or fax dialling the
    customer."""
    callback_id = request.args.get("callback", 0, type=int)
    answered_by, call_sid = request.form.get("AnsweredBy", ""), request.form.get("CallSid", "")

    def handle(session, now):
        if is_machine(answered_by):
            rep_not_reached(session, callback_id, answered_by, now, call_sid)
            return HANG_UP
        callback, incident = lock_callback(session, callback_id)
        if callback is None:
            return say_and_hang_up(text("bridge_invalid"))
        adopt_rep_call(session, callback, call_sid, now)
        response = VoiceResponse()
        # "any key", '#' and '*' too: no finish key, so a lone # is a digit and not an empty answer
        gather = response.gather(input="dtmf", num_digits=1, timeout=PRESS_KEY_SECONDS, method="POST",
                                 action=f"/twilio/bridge/rep-confirm?callback={callback_id}",
                                 finish_on_key="", action_on_empty_result=False)
        gather.say(text("bridge_rep_press_key", ref=", ".join(incident.reference)), **REP_VOICE)
        response.redirect(f"/twilio/bridge/rep-no-key?callback={callback_id}", method="POST")
        return str(response)

    return answer_once(handle, safe=_safe())


@bp.post("/rep-confirm")
@twilio_webhook
def rep_confirm() -> Response:
    """The rep pressed a key: a person has the hotline's call. The first of the callback's calls to the rep to get
    one owns it (``rep_legs``) and dials the customer."""
    callback_id, settings = request.args.get("callback", 0, type=int), current_app.extensions["hotline"].settings
    call_sid = request.form.get("CallSid", "")

    def handle(session, now):
        callback, incident = lock_callback(session, callback_id)
        if callback is None:
            return say_and_hang_up(text("bridge_invalid"))
        if not claim_leg(session, callback, call_sid, now):  # a second call to the rep: the first confirmed dials
            return say_and_hang_up(text("bridge_other_leg"))
        if callback.outcome != CallbackOutcome.PENDING:  # closed meanwhile (the rep not reached on another call)
            return say_and_hang_up(text("bridge_invalid"))
        adopt_rep_call(session, callback, call_sid, now)
        whisper = hung_up_whisper(callback, incident) or text("bridge_rep_confirmed")
        return bridge_twiml(callback, incident, settings, whisper=whisper)

    # the database unreachable: the customer cannot be dialled (their number is on record only), and the rep is told
    # to call them; the key press is kept for the spool, so the callback is not closed as a rep who hung up (AA5)
    return answer_kept(_safe(), handler=handle, safe=_safe())


@bp.post("/rep-no-key")
@twilio_webhook
def rep_no_key() -> Response:
    """Nobody pressed a key on the hotline's call to the rep: a voicemail detection did not call one (or a person
    who did not answer the question), so the rep was not reached and the customer is not dialled."""
    callback_id, call_sid = request.args.get("callback", 0, type=int), request.form.get("CallSid", "")

    def handle(session, now):
        rep_not_reached(session, callback_id, NO_KEY_FROM_REP, now, call_sid)
        return say_and_hang_up(text("bridge_rep_no_key"))

    return answer_once(handle, safe=HANG_UP)


@bp.post("/rep-status")
@twilio_webhook
def rep_status() -> Response:
    """Status of the call to the rep: one the rep never answered means nobody was dialled."""
    return answer_status()  # status_callbacks.rep_leg


@bp.post("/customer-whisper")
@twilio_webhook
def customer_whisper() -> Response:
    """The customer leg was answered: whoever answered is asked to press a key, a person does; a message call's
    voicemail is connected to the rep. Detection saying "machine" is a guess (a person who answers with a long
    greeting, "Acme Mail operations, Dana speaking", is machine_start): until session 39 such a customer was hung up
    on at once, each time the hotline called. Now they are asked too, and only no key makes it a voicemail
    (``customer_machine``)."""
    callback_id, answered_by = request.args.get("callback", 0, type=int), request.form.get("AnsweredBy", "")
    message_voicemail = takes_message(request.args.get("message") == "1", answered_by)

    def handle(session, now):
        # the phone answered: the answer by now, whatever its status callback says later; or the message taken
        callback = whisper_heard(session, callback_id, answered_by, now)
        if callback is not None and takes_message(callback.leaves_message, answered_by):
            return CONNECT  # the greeting is over: the rep is connected to leave the message
        incident = session.get(Incident, callback.incident_id) if callback is not None else None
        lang = incident.language if incident else ""
        ref = ", ".join(incident.reference) if incident else ""
        extension = callback_extension(incident, session) if incident else ""
        # past the promise, an apology: by the answer's time (Twilio's, or this request's, recorded above when in
        # time), as the callback's outcome is counted; an outside probe's customer, answered 20 s before the deadline
        # and counted met, heard "sorry ... later than we promised" of a whisper Twilio fetched after it
        answered = (callback.answered_at if callback is not None else None) or now
        late = incident is not None and answered_late(incident, answered)
        prompt = text(PRESS_KEY_PROMPTS[late], _voice(lang)[0], ref=ref)
        return whisper_twiml(callback_id, is_machine(answered_by), lang, prompt, extension)

    # The database unreachable (probe AA3: the customer was hung up on in silence, then counted a voicemail): the key
    # prompt needs only the callback's id, so it is asked in the default language (English: the incident's is on
    # record only), without the reference or an extension, and the request is kept for the spool (who answered,
    # and when: ``status_callbacks.customer_whisper``). A message call's voicemail (its URL says it is one) is
    # connected to the rep as with the database, its message left once the request is replayed: until probe BW2 it
    # was asked for a key nobody would press, then hung up on, and no message was left.
    outage = CONNECT if message_voicemail else outage_whisper(callback_id, answered_by)
    return answer_kept(outage, handler=handle, safe=HANG_UP)  # a valid <Response>: a bare <Hangup/> root is not TwiML


def outage_whisper(callback_id: int, answered_by: str) -> str:
    """The key prompt asked while the database cannot be reached: English, with no reference and no extension."""
    return whisper_twiml(callback_id, is_machine(answered_by), "", text("customer_press_key_outage"), "")


def whisper_longest(session, incident: Incident, callback_id: int) -> float:
    """The longest a bridged callback's customer leg can go from its answer to the key press that bridged it: Twilio's
    answering-machine detection (none on a switchboard: ``bridge_twiml``), then the longest of the whispers it can
    have been served (in time or late, or the outage's) until its ``<Gather>`` stops waiting. Read from the whisper's
    own TwiML (``twiml_time``), so a longer prompt or timeout moves it too."""
    extension = callback_extension(incident, session)
    ref, lang = ", ".join(incident.reference), _voice(incident.language)[0]
    served = [whisper_twiml(callback_id, True, lang, text(key, lang, ref=ref), extension) for key in PRESS_KEY_PROMPTS]
    whisper = max(until_gather_ends(twiml) for twiml in [*served, outage_whisper(callback_id, "")])
    return whisper + (0 if extension else DETECT_TIMEOUT_SECONDS)


def _voice(lang: str) -> tuple[str, str]:
    """The customer's language and Polly voice (English when it is unknown)."""
    return CUSTOMER_VOICE.get(lang, CUSTOMER_VOICE["en-US"])


def whisper_twiml(callback_id: int, machine: bool, lang: str, prompt: str, extension: str) -> str:
    """The customer's key prompt (``prompt``, said in ``lang``): a key goes to ``customer_confirm``; no key on what
    detection took for a machine goes to ``customer_machine``, on anyone else hangs up (never bridged)."""
    lang, voice = _voice(lang)
    response = VoiceResponse()
    if extension:  # a switchboard answered: key in the extension, then ask whoever picks up there
        response.play(digits="ww" + extension)
    # "any key": '#' too. Twilio ends a <Gather> on its finishOnKey (# by default) and, with no digit
    # before it, requests no action: the customer would be hung up on. No finish key, so # is a digit.
    gather = response.gather(input="dtmf", num_digits=1, timeout=PRESS_KEY_SECONDS, method="POST",
                             action=f"/twilio/bridge/customer-confirm?callback={callback_id}",
                             finish_on_key="", action_on_empty_result=False)
    for round_ in range(EXTENSION_PROMPTS if extension else 1):  # the extension may ring a while
        if round_:
            gather.pause(length=EXTENSION_PAUSE_SECONDS)
        gather.say(prompt, language=lang, voice=voice)
    if machine:  # no key on what detection took for a machine: a voicemail after all, recorded before the end
        response.redirect(f"/twilio/bridge/customer-machine?callback={callback_id}", method="POST")
        return str(response)
    response.say(text("customer_no_key", lang), language=lang, voice=voice)
    response.hangup()  # no key: the legs are never bridged, and the callback is only attempted
    return str(response)


@bp.post("/customer-machine")
@twilio_webhook
def customer_machine() -> Response:
    """Nobody pressed a key on a leg answering-machine detection took for a machine: a voicemail (attempted), and the
    rep is offered to leave a short message when their ``<Dial>`` ends."""
    callback_id = request.args.get("callback", 0, type=int)

    def handle(session, now):
        callback = session.get(Callback, callback_id) if callback_id else None
        if callback is not None:
            customer_is_machine(session, callback_id, callback.answered_by or "machine_start", now)
        return HANG_UP

    return answer_once(handle, safe=HANG_UP)


@bp.post("/customer-confirm")
@twilio_webhook
def customer_confirm() -> Response:
    """The customer pressed a key: a person answered; an empty answer bridges the legs (``status_callbacks.
    customer_key``). Only a key bridges them (``Digits``, read without the database): a request without one is hung
    up on. While the database cannot be reached the key press is kept in the spool and the legs are bridged all the
    same (the signed request proves the key, and Twilio never sends it again); until probe AA1 the outage's answer
    bridged on anything and recorded nothing, and the callback was closed as "picked up, no key pressed"."""
    if not request.form.get("Digits", ""):  # no key: nothing to record, and no bridge
        return Response(HANG_UP, mimetype="text/xml")
    bridged = str(VoiceResponse())
    return answer_kept(bridged, safe=bridged)


@bp.post("/customer-status")
@twilio_webhook
def customer_status() -> Response:
    """Status of the customer leg: the answer's Timestamp decides met or late, once a person is confirmed."""
    return answer_status()  # status_callbacks.customer_leg


@bp.post("/dial-done")
@twilio_webhook
def dial_done() -> Response:
    """The <Dial> ended: thank the rep, or offer a retry (and, for a voicemail, a short message)."""
    callback_id, dial_status = request.args.get("callback", 0, type=int), request.form.get("DialCallStatus", "")
    dial_seconds, dial_bridged = request.form.get("DialCallDuration", ""), request.form.get("DialBridged", "")
    dial_call_sid, call_status = request.form.get("DialCallSid", ""), request.form.get("CallStatus", "")
    settings = current_app.extensions["hotline"].settings

    def handle(session, now):
        apply_kept_key_press(session, settings, callback_id)  # a key press the spool holds comes first (probe AA1)
        short, since = None, talked_since(session, callback_id)
        # a bridge with no key press on record: only the key leads there (its request was lost), pressed by now; the
        # conversation is then Twilio's duration (``since`` stays None), less the longest the whisper before the key
        # can have taken (probe BW1: a 43-second duration, 3 s of talk after a long whisper, counted as met)
        whisper = 0.0
        if since is None and (proven := bridge_proves_key(session, callback_id, dial_status, dial_bridged, now)):
            whisper = whisper_longest(session, session.get(Incident, proven.incident_id), callback_id)
        # a key pressed, then no conversation worth one (counted from the key press: Twilio's duration holds the whisper)
        if conversation_too_short(dial_seconds, dial_bridged, since, now, before_key=whisper):
            # a rep who hung up first never hears the retry offer below: the core has them told by SMS
            short = withdraw_short_bridge(session, callback_id, dial_seconds, dial_bridged, now, dial_call_sid,
                                          call_status=call_status, before_key=whisper)
        callback = short or dial_ended(session, callback_id, dial_status, now, dial_call_sid)
        if callback is None:
            return say_and_hang_up(text("bridge_goodbye"))
        if short is None and callback.outcome == CallbackOutcome.ATTEMPTED and already_withdrawn_as_short(
                session, callback, call_status, now):
            short = callback  # the customer leg's own end withdrew it first (``callbacks.short_leg``): said the same
        if short is None and (callback.outcome in (CallbackOutcome.MET, CallbackOutcome.LATE)
                              or callback.person_confirmed_at):
            incident = session.get(Incident, callback.incident_id)
            return after_callback(session, callback, incident, now, call_status)  # issue 11: the update interval
        if short is None and callback.leaves_message:  # "left" only when a voicemail took it: nobody answering left none
            left = callback.outcome == CallbackOutcome.MESSAGE_LEFT
            return say_and_hang_up(text("bridge_message_left" if left else "bridge_message_not_left"))
        voicemail = callback.outcome == CallbackOutcome.VOICEMAIL
        said = ("bridge_too_short" if short is not None else "bridge_voicemail" if voicemail
                else "bridge_not_placed" if dial_status == "failed"
                else "bridge_no_key" if callback.answered_at is not None
                else "bridge_busy" if dial_status == "busy" else "bridge_not_answered")
        return offer_retry(callback, said)

    # the dial is over, and nothing is known of how it went: neither "not connected" nor "call them yourself" (probe
    # AA4: a rep who had just served the customer was asked to call them again and reply CALLED)
    return answer_once(handle, safe=say_and_hang_up(text("bridge_dial_end_unknown")))


def offer_retry(callback: Callback, said: str) -> str:
    """Tell the rep why the customer is still owed the callback (prompt ``said``): 1 dials them again (``retry``)."""
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, timeout=8, method="POST",
                             action=f"/twilio/bridge/retry?callback={callback.id}")
    gather.say(text(said), **REP_VOICE)
    response.say(text("bridge_goodbye"), **REP_VOICE)
    response.hangup()
    return str(response)


@bp.post("/retry")
@twilio_webhook
def retry() -> Response:
    """The rep asked to dial the customer again (1), or to leave a short voicemail message (2)."""
    callback_id, digits = request.args.get("callback", 0, type=int), request.form.get("Digits", "")
    call_sid, settings = request.form.get("CallSid", ""), current_app.extensions["hotline"].settings

    def handle(session, now):
        old, incident = lock_callback(session, callback_id)
        if old is None or digits not in ("1", "2"):
            return say_and_hang_up(text("bridge_goodbye"))
        if digits == "2" and old.outcome == CallbackOutcome.VOICEMAIL and incident.status == IncidentStatus.OPEN:
            # a message, not a callback: it counts only if a person picks up and presses the key
            message = open_callback(session, incident, old.rep_id, now, rep_call_sid=call_sid, note=VOICEMAIL_MESSAGE)
            return bridge_twiml(message, incident, settings, whisper=text("bridge_leaving_message"), message=True)
        answer = connect(session, incident, _actor(session, old), now, rep_call_sid=call_sid)
        if answer.callback is None:
            return say_and_hang_up(answer.message)
        return bridge_twiml(answer.callback, incident, settings, whisper=text("bridge_retrying"))

    return answer_once(handle, safe=_safe())
