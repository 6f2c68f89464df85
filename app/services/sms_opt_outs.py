"""SMS opt-outs: a number that texted STOP (or that Twilio refused with 21610) gets no SMS until START.

Twilio itself answers the keywords and refuses every later SMS to the number (error 21610);
this module records that, so a delivery to the number is never tried (and never called sent),
and the rep sees it on the incident's timeline.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Incident, IncidentStatus, Rep, SmsOptOut
from app.services.events import log_event

# Twilio's default keywords on a long code; only a message that is the keyword alone counts
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "UNSTOP"}
# Twilio's third opt-in keyword is also an answer here (a rep's ACK, a customer's YES to a proposal): it lifts
# the opt-out (Twilio did) and is then read as that answer
OPT_IN_ANSWERS = {"YES"}
OPTED_OUT_REASON = "not sent: the number opted out of SMS (STOP); START lifts it"


def keyword_action(body: str, opt_out_type: str = "") -> str | None:
    """"stop", "start" or None: Twilio's Advanced Opt-Out field when it is sent, else the bare keyword."""
    kind = opt_out_type.strip().upper()
    if kind in ("STOP", "START"):
        return kind.lower()
    word = _bare_word(body)
    return "stop" if word in OPT_OUT_WORDS else "start" if word in OPT_IN_WORDS | OPT_IN_ANSWERS else None


def _bare_word(body: str) -> str:
    return body.strip().strip(".!").upper()


def handle_opt_keyword(session: Session, from_number: str, body: str, opt_out_type: str, now: datetime) -> str | None:
    """Record STOP / START from any sender; "" (Twilio answers it, we add nothing) or None when no keyword.

    A bare YES lifts an opt-out and still answers None: the message is read on as a reply (ACK, a proposal's YES).
    """
    action = keyword_action(body, opt_out_type)
    if action is None or not from_number:
        return None
    keyword = body.strip()[:16].upper()
    if action == "stop":
        record_opt_out(session, from_number, now, source="opt_out_type" if opt_out_type else "keyword",
                       keyword=keyword)
    else:
        lift_opt_out(session, from_number, now, keyword=keyword)
        if _bare_word(body) in OPT_IN_ANSWERS:
            return None
    return ""


def is_opted_out(session: Session, number: str) -> bool:
    """True while ``number`` may not be texted (it opted out and did not opt back in)."""
    return bool(number) and session.scalar(select(SmsOptOut.id).where(SmsOptOut.phone == number)) is not None


def record_opt_out(session: Session, number: str, now: datetime, *, source: str, keyword: str = "") -> bool:
    """Store the opt-out (once) and log it on the number's open incidents; True when it is new."""
    if is_opted_out(session, number):
        return False
    try:
        with session.begin_nested():  # a STOP and a 21610 for one number at once: one row, no error
            session.add(SmsOptOut(phone=number[:32], opted_out_at=now, source=source, keyword=keyword[:16]))
    except IntegrityError:
        return False
    actor, by = ("twilio", {}) if source == "twilio_21610" else _sender(session, number)
    _log_on_incidents(session, number, now, actor, "sms_opted_out", {"source": source, "keyword": keyword[:16], **by})
    return True


def lift_opt_out(session: Session, number: str, now: datetime, *, keyword: str = "") -> bool:
    """The number opted back in (START): SMS go to it again; True when it had opted out."""
    lifted = session.execute(delete(SmsOptOut).where(SmsOptOut.phone == number)).rowcount > 0
    if lifted:
        actor, by = _sender(session, number)
        _log_on_incidents(session, number, now, actor, "sms_opted_in", {"keyword": keyword[:16], **by})
    return lifted


def _sender(session: Session, number: str) -> tuple[str, dict]:
    """Who texted the keyword: a rep's number (an active rep first) names the rep, by SMS; else the customer."""
    rep = session.execute(select(Rep.id, Rep.name).where(or_(Rep.phone == number, Rep.phone_alt == number))
                          .order_by(Rep.active.desc(), Rep.id).limit(1)).first()
    return (rep.name, {"rep_id": rep.id, "via": "sms"}) if rep else ("customer", {})


def _log_on_incidents(session: Session, number: str, now: datetime, actor: str, kind: str, detail: dict) -> None:
    """One line on each open incident of the number (the reps' timeline), else one line of its own."""
    ids = list(session.scalars(select(Incident.id).where(Incident.callback_phone == number,
                                                         Incident.status == IncidentStatus.OPEN)))
    for incident_id in ids or [None]:
        log_event(session, at=now, actor=actor, kind=kind, incident_id=incident_id,
                  detail={**detail, "number_suffix": number[-4:]})
