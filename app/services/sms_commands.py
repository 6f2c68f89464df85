"""SMS replies from reps: ACK, CALL, CALLED (a self-reported callback), HELP (every command: ``rep_commands``).

A rep's commands act only on incidents they were paged for or while on call;
anything else is refused, logged, and changes nothing. A refusal repeated (a phone or a script sending the same SMS
again and again) is a log line an hour (``refusal_lines``) and an answer every ``refusal_answers.ANSWER_EVERY``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import Account, Incident, IncidentStatus, Page, UnknownText
from app.models.oncall import Rep
from app.prompts import text
from app.services.acks import Actor, Answer, acknowledge, allowed, connect, lock_incident, no_worker_hint
from app.services.advisory_locks import UNKNOWN_SMS_SPACE, hold
from app.services.callbacks import self_report
from app.services.company_label import said_company
from app.services.customer_text import language_for
from app.services.events import log_event
from app.services.open_page_list import several_pages_text
from app.services.refusal_answers import refusal_answer, refuse_sms
from app.services.refusal_lines import SMS
from app.services.rep_commands import help_text, paging_words
from app.services.updates import untold_interval

COMMANDS = paging_words()  # ACK, CALL, CALLED, HELP and their other words (rep_commands: one list, HELP lists it)
REFERENCE = re.compile(r"\b(\d{6})\b")
# the first word as phones send it: quotes, "#", ":" or "?" around it ("“Ack”", "ACK:123456"), letters or digits
FIRST_WORD = re.compile(r"[\W_]*([^\W\d_]+|\d+)")
# a reference as typed when it is not 6 digits in a row: "123 456", "123-456", or a typo ("12345", "1234567")
TYPED_DIGITS = re.compile(r"(?<![\d+])\d+(?:[ .-]\d+)*")
# a reference right after a command word: two of them ("ACK 111111 ACK 222222") make the SMS ambiguous
COMMAND_REFERENCE = re.compile(r"\b(?:" + "|".join(w for w, c in COMMANDS.items() if w.isalpha() and c != "help")
                               + r")\W{0,3}(\d{6})\b", re.IGNORECASE)
# Toll fraud and floods: an unknown sender gets at most one answer a day, and all unknown senders
# together at most UNKNOWN_REPLIES_PER_HOUR; the rest are kept for the missed-calls page and left unanswered.
UNKNOWN_REPLY_EVERY = timedelta(hours=24)
UNKNOWN_REPLIES_PER_HOUR = 20


def shared_phone_answer(session: Session, reps: list[Rep], body: str, now: datetime) -> str | None:
    """The answer to an SMS from a number two active reps share (configured before that was refused): nothing is
    carried out, since it cannot say which of them sent it; None for any other number. ``reps``: the active reps
    on the sender's number (``oncall.reps_on_phone``)."""
    if len(reps) < 2:
        return None
    names = [rep.name for rep in reps]
    log_event(session, at=now, actor="unknown", kind=EventKind.SMS_FROM_SHARED_PHONE,
              detail={"reps": names, "body": body[:160]})
    return text("sms_shared_phone", names=", ".join(names))


def handle_rep_sms(session: Session, from_number: str, rep: Rep | None, body: str, now: datetime) -> str:
    """Carry out a rep's SMS command and return the SMS answer ("" for none); unknown senders change nothing.
    ``rep``: the one active rep on ``from_number``, None for nobody's."""
    if rep is None:
        return _answer_unknown(session, from_number, body, now)
    word, command, rest = _command(body)
    if command == "help":
        return help_text()
    if command is None:  # "Ja", "2 min", an empty MMS: the rep must not believe it acknowledged anything
        return refuse_sms(session, rep, now, EventKind.SMS_NOT_UNDERSTOOD, {"body": body[:160]},
                          text("sms_not_understood") + " " + help_text())
    named = _named_references(session, body)
    if len(named) > 1:  # "ACK 111111 ACK 222222": one command per SMS, none is carried out
        return refuse_sms(session, rep, now, EventKind.SMS_SEVERAL_REFERENCES, {"references": named},
                          text("sms_one_reference", refs=", ".join(named), word=word), command=command)
    match = REFERENCE.search(body)
    typed = TYPED_DIGITS.search(rest) if match is None else None
    digits = re.sub(r"\D", "", typed.group()) if typed is not None else ""
    if match is not None:
        reference = match.group(1)
    elif len(digits) >= 5:
        # a reference typed with a space or a typo is never read as "no reference": that would act on the
        # rep's only open page, which may be another incident than the one they meant
        reference = digits
    else:
        reference = only_open_page(session, rep, now)
        if reference is None:
            return _taken_by_another(session, rep, now, command)
    if reference.startswith("several:"):
        return several_pages_text(session, rep, reference[8:].split(", "), word, command)
    incident = lock_incident(session, reference)
    if incident is None:
        return refuse_sms(session, rep, now, EventKind.SMS_UNKNOWN_REFERENCE, {"reference": reference},
                          text("sms_unknown_reference", ref=reference), command=command)
    actor = Actor(name=rep.name, via=SMS, rep=rep, is_manager=rep.is_manager)
    if command == "called":
        if not allowed(session, incident, actor, now):  # refused in the acknowledgement's words (the same guard)
            return _answered(session, rep, incident, acknowledge(session, incident, actor, now), now, command)
        recorded = self_report(session, incident, rep.id, rep.name, now, "reported by SMS", now)
        if recorded is None:
            return refusal_answer(session, rep, incident.id, "called self_report_closed",
                                  text("self_report_closed", ref=reference), now)
        if recorded.rep_id != rep.id:  # stored once: another rep's call is the record, this one is not
            by = session.get(Rep, recorded.rep_id) if recorded.rep_id else None
            return refuse_sms(session, rep, now, EventKind.SELF_REPORT_NOT_RECORDED,
                              {"rep_id": rep.id, "recorded_callback_id": recorded.id},
                              text("self_report_other", ref=reference, name=by.name if by else "another rep"),
                              incident.id, command)
        # updates now run at the default interval, which nobody agreed with the customer: the rep is asked to
        return text("self_reported", ref=reference) + untold_interval(session, incident)
    if command == "ack":
        return _answered(session, rep, incident, acknowledge(session, incident, actor, now), now, command)
    answer = connect(session, incident, actor, now)
    if answer.callback is not None:
        if answer.outcome == "taken_over_and_connecting":  # whose it was, and that they are told (``_take_over``)
            return answer.message + (no_worker_hint(answer.callback) if answer.no_worker else "")
        return (text("sms_connect", company=said_company(incident.company) or "the customer", ref=reference, rep_phone=rep.phone)
                + (no_worker_hint(answer.callback) if answer.no_worker else ""))
    return _answered(session, rep, incident, answer, now, command)


def _answered(session: Session, rep: Rep, incident: Incident, answer: Answer, now: datetime, command: str) -> str:
    """The SMS back for a service's answer: a refusal's within ``refusal_answers``' bound (its line is the
    service's), anything carried out always."""
    if answer.ok:
        return answer.message
    return refusal_answer(session, rep, incident.id, f"{command} {answer.outcome}", answer.message, now)


def _named_references(session: Session, body: str) -> list[str]:
    """The references an SMS names: each right after a command word, and any other 6-digit number that is an open
    incident's ("ACK 111111 222222"); other numbers ("ticket 734512") are just numbers."""
    named = list(dict.fromkeys(COMMAND_REFERENCE.findall(body)))
    others = [r for r in dict.fromkeys(REFERENCE.findall(body)) if r not in named]
    if others:
        open_refs = set(session.scalars(select(Incident.reference).where(
            Incident.reference.in_(others), Incident.status == IncidentStatus.OPEN)))
        named += [r for r in others if r in open_refs]
    return named


def first_word(body: str) -> tuple[str, str]:
    """An SMS's first word in upper case, read as phones send it (quotes and punctuation around it), and the rest."""
    match = FIRST_WORD.match(body)
    return (match.group(1).upper(), body[match.end():]) if match else ("", "")


def is_command(body: str) -> bool:
    """Whether the SMS is one of the paging commands (ACK, CALL, CALLED, HELP, ...), as a rep's phone sends it."""
    return _command(body)[1] is not None


def _command(body: str) -> tuple[str, str | None, str]:
    """The first word (upper case), the command it names (None: not a command) and the text after it.

    "1" and "2" (the page call's keys) count only alone or with a reference: "2 min" is no CALL.
    """
    word, rest = first_word(body)
    if not word:
        return "", None, ""
    if word.isdigit() and re.search(r"[^\W\d_]", rest):
        return word, None, rest
    return word, COMMANDS.get(word), rest


def only_open_page(session: Session, rep: Rep, now: datetime | None = None) -> str | None:
    """The reference of the one open incident this rep was paged for and that still needs them ("several:<refs>"
    for more than one, None for none). With ``now``, an incident another rep acknowledged whose page reached this
    rep within ``RECENT_PAGE`` counts too when there is one of theirs: the bare command may answer that page. An
    outside probe's Dave, owning one incident, replied "Call" to a new page Bob had just taken, and was connected to
    his own incident's customer."""
    paged = (or_(Page.rep_id == rep.id, Page.to_number == rep.phone), Incident.status == IncidentStatus.OPEN,
             Incident.callback_answered_at.is_(None))
    refs = set(session.scalars(
        select(Incident.reference).join(Page, Page.incident_id == Incident.id).where(
            *paged, or_(Incident.acknowledged_at.is_(None), Incident.acknowledged_by == rep.id))))
    if not refs:
        return None
    if now is not None:
        refs |= set(session.scalars(select(Incident.reference).join(Page, Page.incident_id == Incident.id).where(
            *paged, Page.purpose == "page", Page.created_at >= now - RECENT_PAGE,
            Incident.acknowledged_at.is_not(None),
            or_(Incident.acknowledged_by.is_(None), Incident.acknowledged_by != rep.id))))
    refs = sorted(refs)
    if len(refs) > 1:
        return "several:" + ", ".join(refs)
    return refs[0]


RECENT_PAGE = timedelta(hours=1)  # a page this recent may be what a bare command answers, whoever took it since


def _taken_by_another(session: Session, rep: Rep, now: datetime, command: str) -> str:
    """A bare command from a rep whose only open page another rep acknowledged meanwhile: who has it, at what time,
    and how to take it over (refused and logged as any acknowledgement of an owned incident; never acted on: a
    bare CALL must not take an incident from its owner). Else: no open page."""
    refs = sorted(set(session.scalars(
        select(Incident.reference).join(Page, Page.incident_id == Incident.id).where(
            or_(Page.rep_id == rep.id, Page.to_number == rep.phone), Page.purpose == "page",
            Incident.status == IncidentStatus.OPEN, Incident.callback_answered_at.is_(None),
            Incident.acknowledged_at.is_not(None)))))
    if len(refs) != 1:
        return refusal_answer(session, rep, None, f"{command} sms_no_open_page", text("sms_no_open_page"), now)
    incident = lock_incident(session, refs[0])
    actor = Actor(name=rep.name, via=SMS, rep=rep, is_manager=rep.is_manager)
    return _answered(session, rep, incident, acknowledge(session, incident, actor, now), now, command)


def _answer_unknown(session: Session, from_number: str, body: str, now: datetime) -> str:
    """Keep an SMS from a number that is no rep's for the missed-calls page, and log it; answer it only within the
    per-sender and hourly limits.

    Every such text is kept (``UnknownText``: the number and the words, for staff to read and call back), answered
    or not: an outside probe's customer texted a Sev-1 after 20 strangers had used up the hour's answers, got no
    answer, and their words were in a log line no page of the dashboard read. The answers are counted under one
    lock (``advisory_locks.hold``), so texts at the same moment are counted one after another: 50 at once were
    answered 25 times under a limit of 20.
    """
    hold(session, UNKNOWN_SMS_SPACE, "answers")
    sender = hashlib.sha256(from_number.encode()).hexdigest()[:16]  # matches a sender, never shows the number
    answers = select(func.count(UnknownText.id)).where(UnknownText.answered.is_(True))
    seen = answers.where(UnknownText.from_number == from_number, UnknownText.received_at > now - UNKNOWN_REPLY_EVERY)
    hourly = answers.where(UnknownText.received_at > now - timedelta(hours=1))
    answered = not session.scalar(seen) and (session.scalar(hourly) or 0) < UNKNOWN_REPLIES_PER_HOUR
    session.add(UnknownText(from_number=from_number[:32], body=body, received_at=now, answered=answered))
    # an account's TAM, texted about its incidents (told, never asked): not "not registered", which reads as if
    # the hotline had never heard of them a minute after it texted them
    tam = bool(from_number) and session.scalar(
        select(func.count(Account.id)).where(Account.tam_phone == from_number)) > 0
    log_event(session, at=now, actor="unknown", kind="sms_from_unknown_sender",
              detail={"from_suffix": from_number[-4:], "sender": sender, "answered": answered, "body": body[:160],
                      **({"tam": True} if tam else {})})
    if not answered:
        return ""
    # in words a customer understands (most strangers are one), in German for a German-speaking country's number
    return text("sms_from_tam") if tam else text("sms_unknown_sender", language_for("", from_number))
