"""The voice page a rep answers: summary, 1 acknowledge, 2 connect to the customer, 9 repeat."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flask import Blueprint, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from app.models import Incident, IncidentStatus, Page, PageStatus, Rep
from app.models.paging import TAM_ROLE
from app.prompts import text
from app.services import live_connect
from app.services.acks import acknowledge, connect, page_actor
from app.services.ownership import owned_words, ownership
from app.services.page_status import TEXTED, page_call_answered, written_copy
from app.services.page_text import (
    alert_purpose,
    callback_under_way,
    email_where,
    hand_off_page,
    self_report_said,
    sms_how,
    spoken_handed_over,
    spoken_summary,
    spoken_time,
    tam_spoken,
)
from app.services.page_urls import page_zone
from app.services.row_locks import lock_incident
from app.voice.bridge import bridge_twiml
from app.voice.signature import twilio_webhook
from app.voice.twiml import REP_VOICE, say_and_hang_up
from app.webhooks import answer_once, answer_status

ALERTS = ("at_risk", "breach")  # page purposes that alert about the promise itself: never settled by an ACK
bp = Blueprint("page_voice", __name__, url_prefix="/twilio/page")


def _safe(hotline_number: str) -> str:
    """What a rep hears when the page webhook fails inside: never silence, never an acknowledgement. Built before the
    page is read (the failure may be the database's), it cannot know whether the page's SMS went (a voice-only page,
    or one whose SMS failed, sends none to reply to) nor what was recorded: it says how to act by texting the hotline
    (``page_text.sms_how`` as for a page without its SMS), and the SMS's reply and link only for one who got it."""
    return say_and_hang_up(text("page_error", how=sms_how(False, hotline_number)))


def _page_and_incident(session, page_id: int):
    page = session.get(Page, page_id, with_for_update=True)
    if page is None:
        return None, None
    return page, lock_incident(session, page.incident_id)


def _settled(session, page: Page, incident: Incident, hotline_number: str) -> str:
    """What a page call says instead of the page once its incident asks nothing more of whoever answers it: closed,
    or acknowledged by someone else (who, and when on the listener's clock, and how to take it over by SMS: ``_how``).
    Never the company or the problem again, nor keys to press. "" while the page still stands (the owner's own page
    still offers 2 to connect)."""
    ref = ", ".join(incident.reference)
    if incident.status != IncidentStatus.OPEN:
        return text("page_closed", ref=ref)
    if page.role == TAM_ROLE or incident.acknowledged_at is None or incident.acknowledged_by == page.rep_id:
        return ""  # the TAM is told in any case: their words ask nothing of them
    if page.purpose in ALERTS and incident.callback_answered_at is None and incident.reached_by_email_at is None:
        return ""  # an acknowledgement keeps no promise: the alert stands (a manager was told "You need do nothing")
    return text("page_owned_by_other", ref=ref, owned=_owned(session, page, incident, "someone else"),
                how=_how(session, page, hotline_number))


def _texted(session, page: Page) -> bool:
    """Whether the listener has the page's SMS to read and reply to (``page_status.written_copy``)."""
    return written_copy(session, page) in TEXTED


def _how(session, page: Page, hotline_number: str) -> str:
    """How the call tells its listener to send an SMS command (``page_text.sms_how``: never "reply to the text
    message" when the page's SMS did not arrive)."""
    return sms_how(_texted(session, page), hotline_number)


def _owned(session, page: Page, incident: Incident, nobody: str, form: str = "owned") -> str:
    """Who has ``incident`` and since when, spoken on the page's clock (``ownership.owned_words``; ``form`` "yours"
    to the owner, "tam_owned" to the account's TAM: the owner's own time after a take-over, never the first
    acknowledgement's)."""
    own = ownership(session, incident, nobody)
    return owned_words(own, lambda when: spoken_time(when, page_zone(page)), form=form) if own is not None else ""


def _owner_name(session, incident: Incident, nobody: str) -> str:
    """The name of the rep who acknowledged ``incident`` (``nobody`` when none did, or by a login without a rep)."""
    owner = session.get(Rep, incident.acknowledged_by) if incident.acknowledged_by else None
    return owner.name if owner is not None else nobody


def _tam_told(session, page: Page, incident: Incident, now: datetime) -> str:
    """The TAM's words, naming who has it since when once a rep acknowledged (never "the reps are being paged"
    then; after a take-over the owner's own time); heard at ``now``, past the deadline, that it has passed, as the
    reps' page says (``page_text.deadline_passed``)."""
    return say_and_hang_up(tam_spoken(incident, page_zone(page), _owned(session, page, incident, "someone",
                                                                        "tam_owned"), now))


def _menu(session, page: Page, incident: Incident, now: datetime, hotline_number: str) -> str:
    settled = _settled(session, page, incident, hotline_number)
    if settled:
        return say_and_hang_up(settled)
    if page.role == TAM_ROLE:  # the account's TAM is told, not offered keys no channel would honour
        return _tam_told(session, page, incident, now)
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, timeout=8, action=f"/twilio/page/voice/key?page={page.id}",
                             method="POST", action_on_empty_result=False)
    texted = _texted(session, page)
    if hand_off_page(page):  # handed over at the shift change: said first, with the minutes left
        gather.say(spoken_handed_over(incident, now), **REP_VOICE)
    gather.say(spoken_summary(incident, page_zone(page), now, texted), **REP_VOICE)  # "has passed" once it has
    if page.purpose in ALERTS:  # what the alert is, and who has it (no "Press 1 to acknowledge" once someone has)
        gather.say(_alert_words(session, page, incident), **REP_VOICE)
    gather.say(_menu_words(session, page, incident, texted), **REP_VOICE)
    response.say(_no_key_words(session, page, incident), **REP_VOICE)
    response.hangup()
    return str(response)


def _alert_words(session, page: Page, incident: Incident) -> str:
    """An at-risk or breach call: which it is, and who acknowledged the incident (no callback has reached them)."""
    breach = alert_purpose(incident, page.purpose, page.created_at) == "breach"
    said = text("page_alert_breach" if breach else "page_alert_at_risk")
    if breach and not callback_under_way(incident, page.created_at):  # as the SMS says it (``alert_sms``)
        said = " ".join(part for part in (said, self_report_said(incident, page.created_at)) if part)
    if incident.acknowledged_at is None or incident.acknowledged_by == page.rep_id:
        return said
    return said + " " + text("page_alert_owned", owned=_owned(session, page, incident, "someone"))


def _voicemail(session, page: Page, incident: Incident, now: datetime, hotline_number: str) -> str:
    """A page's voicemail: what a person hears before the menu (which alert, the deadline on the rep's clock or that
    it passed, the reference digit by digit), then how to act by SMS instead of the keys, by the state the menu
    reads. It points to the page's SMS only while that SMS went (``written_copy``): before, every voicemail said
    "Please reply to the text message, or open the link in it", to a rep called because that SMS was undelivered,
    of an alert whose SMS has no link, and to the owner who had acknowledged."""
    sms = written_copy(session, page)
    texted = sms in TEXTED
    said = [spoken_handed_over(incident, now)] if hand_off_page(page) else []
    said.append(spoken_summary(incident, page_zone(page), now, texted))
    if page.purpose in ALERTS:
        said.append(_alert_words(session, page, incident))
    if sms is not None and not texted and sms != PageStatus.CANCELED:  # failed, undelivered, or Twilio still failing
        said.append(text("page_machine_sms_failed"))
    said.append(_voicemail_act(session, page, incident, sms_how(texted, hotline_number)))
    if texted and page.purpose == "page" and incident.acknowledged_at is None:  # only the page SMS has the link
        said.append(text("page_machine_link"))
    return say_and_hang_up(" ".join(part for part in said if part))


def _voicemail_act(session, page: Page, incident: Incident, how: str) -> str:
    """The voicemail's keys in SMS commands (``_menu_words``' rule): ACK and CALL while nobody acknowledged; CALL to
    the owner, never asked to acknowledge again; CALL to take an alert over; only CALL with a number to call."""
    if incident.acknowledged_at is not None and incident.acknowledged_by == page.rep_id:
        yours = _owned(session, page, incident, "you", "yours")
        return text("page_machine_owner", yours=yours, how=how) if incident.callback_phone else \
            text("page_machine_owner_no_number", yours=yours)
    if incident.acknowledged_at is not None:  # an alert to someone else: taking it over is what is left to do
        return text("page_machine_take_over", how=how) if incident.callback_phone else ""
    return text("page_machine_unacked" if incident.callback_phone else "page_machine_unacked_no_number", how=how)


def _menu_words(session, page: Page, incident: Incident, texted: bool) -> str:
    """The keys the page offers: to acknowledge and to connect; to its owner (who acknowledged, or took it over, by
    SMS or the link while this call rang), that they did and when, and to connect; "Press 2" only with a number to
    call (else where the e-mail address is: in the SMS only while it went, ``texted``)."""
    if incident.acknowledged_at is not None and incident.acknowledged_by == page.rep_id:
        yours = _owned(session, page, incident, "you", "yours")
        return text("page_menu_owner" if incident.callback_phone else "page_menu_owner_no_number", yours=yours,
                    where=email_where(texted))
    if incident.acknowledged_at is not None:  # an alert to someone else: taking it over is what is left to do
        return text("page_menu_take_over" if incident.callback_phone else "page_menu_no_number")
    return text("page_menu" if incident.callback_phone else "page_menu_no_number")


def _no_key_words(session, page: Page, incident: Incident) -> str:
    """The menu's end when no key was pressed: paging goes on only while nobody acknowledged (an outside probe's rep
    who had acknowledged by SMS heard "This page is not acknowledged; we will keep paging" of their own incident)."""
    if incident.acknowledged_at is None:
        return text("page_no_key")
    if incident.acknowledged_by == page.rep_id:
        return text("page_no_key_owner")
    return text("page_no_key_owned", owner=_owner_name(session, incident, "someone"))


@bp.post("/voice")
@twilio_webhook
def voice() -> Response:
    """Twilio fetched the page call's TwiML: a machine gets a short message, a human the menu."""
    page_id, answered_by = request.args.get("page", 0, type=int), request.form.get("AnsweredBy", "")
    hotline_number, call_sid = current_app.extensions["hotline"].settings.twilio_number, request.form.get("CallSid", "")

    def handle(session, now):
        page, incident = _page_and_incident(session, page_id)
        if page is None:
            return say_and_hang_up(text("page_invalid"))
        if not page_call_answered(session, page, answered_by, now, call_sid):
            settled = _settled(session, page, incident, hotline_number)
            if settled:  # a voicemail too: nothing to call back about
                return say_and_hang_up(settled)
            if page.role == TAM_ROLE:
                return _tam_told(session, page, incident, now)
            return _voicemail(session, page, incident, now, hotline_number)
        return _menu(session, page, incident, now, hotline_number)

    return answer_once(handle, safe=_safe(hotline_number))


@bp.post("/voice/key")
@twilio_webhook
def key() -> Response:
    """The rep pressed a key on the page call: the one acknowledge/connect service decides."""
    page_id, digits = request.args.get("page", 0, type=int), request.form.get("Digits", "")
    call_sid = request.form.get("CallSid", "")
    settings = current_app.extensions["hotline"].settings

    def handle(session, now):
        page, incident = _page_and_incident(session, page_id)
        if page is None:
            return say_and_hang_up(text("page_invalid"))
        actor, _allowed = page_actor(session, page, incident, "voice", now)  # the services apply the guard
        texted = _texted(session, page)  # what the answer to a key says of the page's SMS: the voicemail's rule
        actor = replace(actor, sms_how=sms_how(texted, settings.twilio_number), email_where=email_where(texted))
        waiting = live_connect.waiting_caller(session, incident.id) is not None  # issue 13: the caller is on the line
        if digits == "1" and not waiting:
            return say_and_hang_up(acknowledge(session, incident, actor, now).message)
        if digits in ("1", "2"):
            answer = connect(session, incident, actor, now, rep_call_sid=call_sid)
            if answer.callback is None:
                return say_and_hang_up(answer.message)
            return bridge_twiml(answer.callback, incident, settings, whisper=text("page_connecting"))
        return _menu(session, page, incident, now, settings.twilio_number)

    return answer_once(handle, safe=_safe(settings.twilio_number))


@bp.post("/voice/status")
@twilio_webhook
def status() -> Response:
    """Status callback of a page call; only moves the page forward."""
    return answer_status()  # status_callbacks.page_call
