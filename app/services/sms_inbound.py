"""An SMS to the hotline number, answered: STOP/START, a rep's command, a customer's answer or words (from the
callback number, or words only from the number their call came from).

The web route answers it by TwiML in one transaction. While the database cannot be reached the route keeps the
SMS in the spool (``spool.spool``) and says so; the watchdog's replay carries it out later, at the time it came,
once per delivery, and sends the answer the route would have given as an SMS of its own (a ``Notice``): Twilio
never posts an inbound SMS again, so a rep's ACK answered with a 500 was lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from twilio.twiml.messaging_response import MessagingResponse

from app.models import Notice
from app.plain_text import halfwidth, printable
from app.queue import schedule
from app.services.caller_limits import limits_from
from app.services.customer_sms import caller_id_sms
from app.services.intake import policy_from
from app.services.missed_calls import answer_invitation
from app.services.oncall import reps_on_phone
from app.services.sms_commands import handle_rep_sms, shared_phone_answer
from app.services.sms_opt_outs import handle_opt_keyword, is_opted_out
from app.services.tam_sms import tam_sms
from app.services.update_sms import handle_update_sms

PATH = "/twilio/sms"
NOTICE_PURPOSE = "sms_answer"  # the answer to an SMS carried out from the spool
NOTICE_BODY_MAX = 500  # ``Notice.body``'s length


def answer_sms(session: Session, form: dict[str, Any], now: datetime, settings) -> str:
    """Carry out the SMS Twilio posted as ``form``; the answer to send back ("" for none)."""
    # read, logged and stored in ASCII forms: "ＡＣＫ １２３４５６" from a full-width keyboard is ACK 123456; in plain
    # text only (no NUL, which PostgreSQL refuses, no control or format characters: ``plain_text``)
    body, sender = printable(halfwidth(form.get("Body", "")))[:1600], printable(form.get("From", ""), allowed="")
    media = form.get("NumMedia", "0")
    media = int(media) if media.isascii() and media.isdigit() else 0  # an MMS: pictures the hotline cannot show (maybe no words)
    # STOP / START: Twilio answers those itself, we record them and add nothing ("")
    answer = handle_opt_keyword(session, sender, body, form.get("OptOutType", ""), now)
    if answer is not None:
        return answer
    answer = _carry_out(session, sender, body, media, now, settings)
    # a number that opted out gets no answer either: Twilio blocks one after its STOP (21610), but after the German
    # STOPP / ABMELDEN nothing does, and an outside probe's customer, just told "Sie erhalten von dieser Nummer keine
    # SMS mehr", was answered each SMS they sent (their words are carried out all the same)
    return "" if answer and is_opted_out(session, sender) else answer


def _carry_out(session: Session, sender: str, body: str, media: int, now: datetime, settings) -> str:
    """A message that is no opt-out keyword: a rep's command, a customer's answer or words, an invited report; the
    answer ("" for none)."""
    reps = reps_on_phone(session, sender)  # read once for the handlers below
    answer = shared_phone_answer(session, reps, body, now)  # two reps' number: which sent it cannot be told
    rep = reps[0] if len(reps) == 1 else None
    if answer is None:
        answer = handle_update_sms(session, sender, rep, body, now, settings, media=media)  # issue 11
    if answer is None and rep is None:
        # "" when it opened an incident (its receipt SMS answers them: reference and the time of the callback);
        # an apology when the reply says the call was not theirs ("wrong number": nothing opened)
        answer = answer_invitation(session, sender, body, now, policy_from(settings), limits_from(settings))
    if answer is None and rep is None:  # the phone an incident's call came from: the customer's words, unverified
        answer = caller_id_sms(session, sender, body, now, media=media,
                               reopen_window=timedelta(days=settings.reopen_window_days))
    if answer is None and rep is None:  # an account's TAM: their words reach the incident's owner, never a command
        answer = tam_sms(session, sender, body, now, media=media)
    if answer is None:
        answer = handle_rep_sms(session, sender, rep, body, now)
    return answer or ""  # an unknown sender over its limits gets no SMS back (floods, toll fraud)


def as_twiml(answer: str) -> str:
    """The TwiML that answers an SMS with ``answer`` (none when it is empty)."""
    reply = MessagingResponse()
    if answer:
        reply.message(answer)
    return str(reply)


def answer_later(session: Session, form: dict[str, Any], now: datetime, settings) -> str:
    """Carry out a spooled SMS (at ``now``, when it came) and queue its answer as an SMS; its TwiML, as stored."""
    answer = answer_sms(session, form, now, settings)
    sender = printable(form.get("From", ""), allowed="")
    if answer and sender:
        body = answer if len(answer) <= NOTICE_BODY_MAX else answer[:NOTICE_BODY_MAX - 1] + "…"
        notice = Notice(purpose=NOTICE_PURPOSE, to_number=sender[:20], body=body, created_at=now)
        session.add(notice)
        session.flush()
        schedule(session, "notice", notice.id, now)
    return as_twiml(answer)
