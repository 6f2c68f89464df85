"""SMS opt-outs: a number that texted STOP (or that Twilio refused with 21610) gets no SMS until START.

Twilio itself answers its (English) keywords and refuses every later SMS to the number (error 21610);
this module records that, so a delivery to the number is never tried (and never called sent),
and the rep sees it on the incident's timeline. The German keywords (STOPP, ANMELDEN, HILFE) Twilio does
not know unless the operator adds them with Advanced Opt-Out: the hotline honours and answers them itself.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Incident, IncidentStatus, Rep, SmsOptOut
from app.prompts import text
from app.services.events import log_event

# Twilio's default keywords on a long code; only a message that is the keyword alone counts
OPT_OUT_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_WORDS = {"START", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}
# Twilio's third opt-in keyword is also an answer here (a rep's ACK, a customer's YES to a proposal): it lifts
# the opt-out (Twilio did) and is then read as that answer
OPT_IN_ANSWERS = {"YES"}
# German keywords Twilio does not know by default: recorded and answered by the hotline (in German); Twilio neither
# blocks nor answers them, unless Advanced Opt-Out names them (then OptOutType comes and Twilio has answered)
GERMAN = {"STOPP": "stop", "ABMELDEN": "stop", "ABBESTELLEN": "stop", "ANMELDEN": "start", "HILFE": "help"}
OPTED_OUT_REASON = "not sent: the number opted out of SMS (STOP); START lifts it"


def keyword_action(body: str, opt_out_type: str = "") -> str | None:
    """"stop", "start", "help" or None: Twilio's Advanced Opt-Out field when it is sent, else the bare keyword."""
    kind = opt_out_type.strip().upper()
    if kind in ("STOP", "START", "HELP"):
        return kind.lower()
    word = _bare_word(body)
    if word in OPT_OUT_WORDS:
        return "stop"
    if word in OPT_IN_WORDS | OPT_IN_ANSWERS:
        return "start"
    return "help" if word in HELP_WORDS else GERMAN.get(word)


def _bare_word(body: str) -> str:
    return body.strip().strip(".!").upper()


def handle_opt_keyword(session: Session, from_number: str, body: str, opt_out_type: str, now: datetime) -> str | None:
    """Record STOP / START and note HELP from any sender; the answer to send ("" when Twilio answers it, or for a
    sender we do not know), or None when no keyword.

    A bare YES lifts an opt-out and still answers None: the message is read on as a reply (ACK, a proposal's YES).
    A rep's HELP is None too: the paging commands' help. The German keywords are answered here, in German, to a
    rep's or a customer's number (any other sender's are recorded, answered by nobody: no SMS to a forged number).
    """
    action = keyword_action(body, opt_out_type)
    if action is None or not from_number:
        return None
    keyword = body.strip()[:16].upper()
    ours = not opt_out_type.strip() and _bare_word(body) in GERMAN  # Twilio neither answered nor blocked it
    if action == "help":
        return _help(session, from_number, keyword, ours, now)
    if action == "stop":
        new = record_opt_out(session, from_number, now, source="opt_out_type" if opt_out_type else "keyword",
                             keyword=keyword)
        return text("kw_opted_out", "de-DE") if ours and new and _known(session, from_number) else ""
    lifted = lift_opt_out(session, from_number, now, keyword=keyword)
    if _bare_word(body) in OPT_IN_ANSWERS:
        return None
    return text("kw_opted_in", "de-DE") if ours and lifted and _known(session, from_number) else ""


def _help(session: Session, number: str, keyword: str, ours: bool, now: datetime) -> str | None:
    """A customer's HELP: on their open incidents' timeline, never words for the owner; Twilio answers its own, the
    hotline the others (HILFE) unless the number opted out."""
    actor, by = _sender(session, number)
    if by:
        return None  # a rep: the paging commands' HELP
    if not _known(session, number):
        return "" if not ours else None  # a stranger's HILFE: answered as any stranger's SMS, within its limits
    ids = _log_on_incidents(session, number, now, actor, "sms_help_asked", {"keyword": keyword})
    # Twilio answered its own keyword; and a number that opted out gets no SMS from the hotline, a help keyword's
    # answer included (an outside probe's customer, told after STOPP they would get no more SMS, was answered each
    # HILFE, while Twilio answers no English HELP from a number it blocks)
    if not ours or is_opted_out(session, number):
        return ""
    reference = session.scalar(select(Incident.reference).where(Incident.id == ids[0])) if len(ids) == 1 else None
    return text("kw_help", "de-DE", about=text("kw_help_about", "de-DE", ref=reference) if reference else "")


def _known(session: Session, number: str) -> bool:
    """A rep's number or a customer's callback number: the hotline answers keywords to these alone."""
    return session.scalar(select(Incident.id).where(Incident.callback_phone == number).limit(1)) is not None or bool(
        _sender(session, number)[1])


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


def _log_on_incidents(session: Session, number: str, now: datetime, actor: str, kind: str, detail: dict) -> list[int]:
    """One line on each open incident of the number (the reps' timeline), else one line of its own; their ids."""
    ids = list(session.scalars(select(Incident.id).where(Incident.callback_phone == number,
                                                         Incident.status == IncidentStatus.OPEN)))
    for incident_id in ids or [None]:
        log_event(session, at=now, actor=actor, kind=kind, incident_id=incident_id,
                  detail={**detail, "number_suffix": number[-4:]})
    return ids
