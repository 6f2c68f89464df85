"""A customer's SMS to the hotline number: YES / NO to a proposal, or words for their open incident.

Only the callback number of an OPEN incident is a customer here, or of one closed within
``CLOSED_LATELY`` (their words are logged on it and texted to its owner: a NO after a closure
"resolved, not confirmed" is a dispute, not a stranger's SMS); for any other sender this
returns None and the rep commands answer. A 6-digit number in the text is a reference only
when it is one of this number's incidents ("NO - 250000 mails deferred" is a NO). A YES closes
an incident only when it names its reference (as the proposal SMS asks: "Reply YES <ref>"): a
sending number is no identity (it may be spoofed, or a switchboard many share), and the voice
path too lets only a caller who keyed the reference or PIN answer. With more than one open
incident (or with another of theirs answered within the hour before this proposal) a NO must
name one too, and anything else is attached to the incident (event log, and an SMS to its
owner) instead of being refused. A NO naming a closed incident of this number reopens it when the customer never
agreed to its close in writing (a verbal agreement a rep recorded, a manager's close, their silence) and it came
within ``REOPEN_WINDOW_DAYS`` (``reopen.by_customer``; the rule is the escalation core's).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.escalation.customer_words import names_contact, words_go_at
from app.event_kind import EventKind
from app.models import (
    Delivery,
    DeliveryChannel,
    Incident,
    IncidentEvent,
    IncidentStatus,
    ProposalState,
    ResolutionProposal,
    UpdateDeliveryStatus,
)
from app.prompts import text
from app.services import reopen
from app.services.deliveries import HELD_WORDS, queue_delivery
from app.services.escalation import snapshot
from app.services.events import log_event
from app.services.held_words import HELD_LIMIT, JOIN, quoted
from app.services.how_they_hear import how_they_hear
from app.services.named_numbers import note_for
from app.services.oncall import customer_readers, incident_owner, reader_role
from app.services.page_text import company_name
from app.services.resolution import decide, pending_proposal
from app.services.update_text import QUOTE_LIMIT
from app.settings import Settings
from ivr_flows.validate import region_of

REFERENCE = re.compile(r"\b(\d{6})\b")
CONFIRM = {"YES", "Y", "CONFIRM", "CONFIRMED", "JA", "BESTÄTIGT", "BESTAETIGT"}
REJECT = {"NO", "N", "REJECT", "REJECTED", "NEIN"}
# words after a YES that take it back ("Yes, but the API still fails"): their words, never an agreement that it is
# resolved (policy: both sides agree); a NO with anything after it stays a NO (the incident stays open)
DOUBT = {"BUT", "STILL", "NOT", "HOWEVER", "EXCEPT", "ALTHOUGH", "THOUGH", "PARTLY", "PARTIALLY", "FAILING",
         "ABER", "NOCH", "NICHT", "JEDOCH", "AUSSER", "TEILWEISE", "TROTZDEM"}
OWNER_TOLD_EVERY = timedelta(minutes=15)  # a chatty customer: the owner gets one SMS, the log gets every line
MORE_HELD = " / (more on the incident page)"
# a bare YES may be a late one for another incident of theirs answered this recently: it must name one
RECENT_ANSWER = timedelta(hours=1)
# a customer may dispute a closure (above all one "resolved, not confirmed" after their silence) for this long
CLOSED_LATELY = timedelta(days=7)
CLOSING_KINDS = (EventKind.RESOLVED, EventKind.RESOLUTION_CONFIRMED, EventKind.RESOLVED_UNCONFIRMED)
REOPEN_WINDOW = timedelta(days=Settings.reopen_window_days)  # the setting's default, for callers without settings


def handle_customer_sms(session: Session, from_number: str, body: str, now: datetime, media: int = 0,
                        reopen_window: timedelta = REOPEN_WINDOW) -> str | None:
    """Carry out a customer's answer or attach their words to their incident; None when they have no open incident.

    ``media``: pictures or files of an MMS (a screenshot, maybe without words): noted on the incident and to its
    owner, and the customer told we cannot see them, never answered as a stranger's SMS. ``reopen_window``
    (``REOPEN_WINDOW_DAYS``): how long after a close their NO naming it reopens it (``reopen.by_customer``).
    """
    open_incidents = list(session.scalars(select(Incident).where(
        Incident.callback_phone == from_number, Incident.status == IncidentStatus.OPEN).order_by(Incident.id)))
    if not body.strip() and not media:
        return empty_sms(open_incidents)
    named = _named(session, from_number, body)
    answer = answer_word(body)
    reopened = _reopen(session, named, body, answer, now, reopen_window)
    if reopened is not None:
        return reopened + _media_hint(media, named[0])
    if not open_incidents:
        return _about_closed(session, from_number, body, now, media, reopen_window)
    targets = [i for i in named if i.status == IncidentStatus.OPEN] if named else open_incidents
    if not targets:  # they named only incidents of theirs that are closed: a dispute of its closure, told at once
        for incident in named:
            _attach(session, incident, body, now, tell_owner=True, media=media, at_once=True,
                    disputed=_verbal_close(session, incident, answer))
        return _closed_answer(session, named[0], now, reopen_window) + _media_hint(media, named[0])
    language = targets[0].language
    if len(targets) > 1:  # a bare YES/NO never picks one; words go to each (the customer is asked to name one)
        refs = ", ".join(i.reference for i in targets)
        for incident in targets:
            _attach(session, incident, body, now, tell_owner=answer is None, media=media)
        return (text("cust_sms_which" if answer is not None else "cust_sms_noted_several", language, refs=refs)
                + _media_hint(media, targets[0]))
    incident = targets[0]
    proposal = pending_proposal(session, incident)
    if answer is not None and proposal is not None and not named and (answer or _other_answered_lately(
            session, proposal, from_number)):
        # a YES closes only when it names the reference the proposal SMS gave that number: the sending number is
        # no identity (spoofed, or a switchboard many share); and a bare NO typed for their other incident,
        # delivered late, must not reject this one
        _attach(session, incident, body, now, tell_owner=False, media=media)
        return text("cust_sms_name_it", language, ref=incident.reference) + _media_hint(media, incident)
    if answer is not None and proposal is not None:
        log_event(session, at=now, actor="customer", kind="customer_sms_answer", incident_id=incident.id,
                  detail={"proposal_id": proposal.id, "confirmed": answer, "text": body[:QUOTE_LIMIT]})
        return decide(session, proposal, confirmed=answer, via="sms", who=incident.contact_name or "customer",
                      now=now, note=body).message
    # a YES that takes itself back answers the proposal ("Yes, but the API still fails"): its owner reads it at once,
    # whatever they were texted lately (a probe's owner never read it, and the customer's bare YES closed it next)
    _attach(session, incident, body, now, tell_owner=True, media=media,
            at_once=proposal is not None and doubted_yes(body))
    hint = text("cust_sms_answer_hint", language, ref=incident.reference) if proposal is not None else ""
    return (text("cust_sms_noted", language, ref=incident.reference)
            + how_they_hear(session, incident, now, from_callback_number=True) + hint + _media_hint(media, incident))


def empty_sms(open_incidents: list[Incident]) -> str | None:
    """The answer to an SMS with no words and no picture from the callback number of ``open_incidents``: nothing to
    note, but never answered as a stranger's ("your number matches no open incident", an outside probe's customer
    read); None when they have none."""
    if not open_incidents:
        return None
    if len(open_incidents) > 1:
        return text("cust_sms_empty_several", open_incidents[0].language,
                    refs=", ".join(i.reference for i in open_incidents))
    return text("cust_sms_empty", open_incidents[0].language, ref=open_incidents[0].reference)


def caller_id_sms(session: Session, from_number: str, body: str, now: datetime, media: int = 0,
                  reopen_window: timedelta = REOPEN_WINDOW) -> str | None:
    """Words from the number an incident's call came from (its caller ID) when its callback number is another:
    logged on it as the customer's words and texted to its readers as words from its callback number are
    (``_attach``), marked as from the caller ID; the answer, None when the number is no such caller ID.

    An outside probe's customer texted from the mobile they called from (the callback number a landline) and read
    "This number is not registered for Sev-1 pages"; their words reached nobody. A caller ID is no identity (it may
    be spoofed, and so may an SMS sender): these are words only, never an answer (a YES closes nothing, a NO reopens
    nothing: the proposal went to the callback number), and a reference is texted back only when the message named
    it (a stranger whose number a spoofed call showed learns nothing). Which incident, as from the callback number:
    the open ones it names, else a closed one it names, else the open ones, else the one closed lately
    (``_closed_from_caller_id``: until session 44 words about a closed incident reached nobody)."""
    if not from_number:
        return None
    theirs = (Incident.caller_id == from_number, Incident.callback_phone != from_number)
    incidents = list(session.scalars(select(Incident).where(*theirs, Incident.status == IncidentStatus.OPEN)
                                     .order_by(Incident.id)))
    if not body.strip() and not media:  # never a reference: the caller ID is no identity
        return text("cust_sms_empty_caller_id", incidents[0].language) if incidents else None
    tokens = set(REFERENCE.findall(_spaced(body)))
    named = [incident for incident in incidents if incident.reference in tokens]
    if not named:
        closed = list(session.scalars(select(Incident).where(
            *theirs, Incident.status != IncidentStatus.OPEN, Incident.reference.in_(tokens))
            .order_by(Incident.id))) if tokens else []
        if closed or not incidents:
            return _closed_from_caller_id(session, closed, theirs, body, now, media, reopen_window)
    targets = named or incidents
    for incident in targets:
        _attach(session, incident, body, now, tell_owner=True, media=media, from_caller_id=True)
    language = targets[0].language
    if named:
        answer = text("cust_sms_noted_caller_id", language, ref=", ".join(i.reference for i in named))
    else:
        answer = text("cust_sms_noted_caller_id_unnamed", language)
    return answer + how_they_hear(session, targets[0], now) + _media_hint(media, targets[0])


def _closed_from_caller_id(session: Session, named: list[Incident], theirs: tuple, body: str, now: datetime,
                           media: int, reopen_window: timedelta) -> str | None:
    """Words from an incident's caller ID about it once closed (``named``, else the one closed lately): handled as
    from its callback number (``_about_closed``: on its log and to its readers at once, a NO disputing a verbal close
    said so), marked as from the caller ID; never a reopen (a NO from it answers nothing), and the answer names the
    reference only when the message did. None when there is no such incident."""
    incident = named[0] if named else _closed_lately(session, now, *theirs)
    if incident is None:
        return None
    answer = answer_word(body)
    for each in named or [incident]:
        _attach(session, each, body, now, tell_owner=True, media=media, at_once=True, from_caller_id=True,
                disputed=_verbal_close(session, each, answer))
    lang, ref = incident.language, incident.reference
    told, reopens = _owner_told(session, incident), reopen.reopens_on_no(session, incident, now, reopen_window)
    unnamed = "" if named else "_unnamed"
    return (text(f"cust_sms_closed_caller_id{unnamed}", lang, ref=ref)
            + (text("cust_sms_closed_caller_id_told", lang) if told else "")
            + text(f"cust_sms_closed_caller_id_reopen{unnamed}" if reopens else "cust_sms_closed_caller_id_call",
                   lang, ref=ref)
            + _media_hint(media, incident))


def _reopen(session: Session, named: list[Incident], body: str, answer: bool | None, now: datetime,
            window: timedelta) -> str | None:
    """A NO naming closed incidents of this number (as the notice of a close asks: "reply NO <ref>"): each the core
    lets them undo (a close they never agreed to in writing, within ``window``) is reopened, their words texted to
    its readers at once; what they read, None when none was reopened (their words go on as before). A bare NO
    reopens nothing: the sending number is no identity, and it may be about another incident of theirs."""
    if answer is not False or any(incident.status == IncidentStatus.OPEN for incident in named):
        return None  # a NO naming an open incident too answers that one's proposal, as before
    replies = [reply for incident in named
               for reply in [reopen.by_customer(session, incident, body, now, window)] if reply is not None]
    return " ".join(replies) if replies else None


def _about_closed(session: Session, from_number: str, body: str, now: datetime, media: int = 0,
                  reopen_window: timedelta = REOPEN_WINDOW) -> str | None:
    """Words about an incident of theirs closed lately (a NO after a closure "resolved, not confirmed", a bare NO to a
    closing notice): logged on it and texted to its owner, never answered as a stranger's SMS; None when they name
    none and closed none lately."""
    incident = next(iter(_named(session, from_number, body)), None) or _closed_lately(
        session, now, Incident.callback_phone == from_number)
    if incident is None:
        return None
    # at once, whatever they texted lately: an outside probe's customer texted "NO 873668 sorry, it is failing again"
    # 5 s after the YES that closed it, and nobody was ever told (the quarter-hour rule held it back for good)
    _attach(session, incident, body, now, tell_owner=True, media=media, at_once=True,
            disputed=_verbal_close(session, incident, answer_word(body)))
    return _closed_answer(session, incident, now, reopen_window) + _media_hint(media, incident)


def _closed_lately(session: Session, now: datetime, *where) -> Incident | None:
    """The incident matching ``where`` closed most lately, within ``CLOSED_LATELY`` (None: none)."""
    return session.scalars(select(Incident).join(IncidentEvent, IncidentEvent.incident_id == Incident.id).where(
        *where, Incident.status != IncidentStatus.OPEN, IncidentEvent.kind.in_(CLOSING_KINDS),
        IncidentEvent.at >= now - CLOSED_LATELY).order_by(IncidentEvent.at.desc(), Incident.id.desc()).limit(1)).first()


def _owner_told(session: Session, incident: Incident) -> bool:
    """Whether the last ``customer_sms_message`` line of the incident (just written) says someone was texted."""
    told = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.CUSTOMER_SMS_MESSAGE)
        .order_by(IncidentEvent.id.desc()).limit(1)).first()
    return bool((told or {}).get("owner_told"))


def _verbal_close(session: Session, incident: Incident, answer: bool | None) -> ResolutionProposal | None:
    """A NO about an incident closed on a rep's record of the customer's verbal agreement: the agreement it disputes
    (their closing message asked for just this reply: "reply NO <ref>"), else None."""
    if answer is not False:
        return None
    return session.scalars(select(ResolutionProposal).where(
        ResolutionProposal.incident_id == incident.id, ResolutionProposal.decided_via == "verbal",
        ResolutionProposal.state == ProposalState.CONFIRMED).order_by(ResolutionProposal.id.desc()).limit(1)).first()


def _closed_answer(session: Session, incident: Incident, now: datetime, reopen_window: timedelta) -> str:
    """What a customer who texts about a closed incident reads: that the engineer read it, when someone was texted
    (the last ``customer_sms_message`` line, just written, says so), and how to come back: the exact reply that
    reopens it when a NO naming it would (a bare NO, or words, to the notice of a close that said "reply NO <ref>":
    ``reopen.reopens_on_no``), else to report the problem again by phone."""
    key = "cust_sms_closed_told" if _owner_told(session, incident) else "cust_sms_closed"
    if reopen.reopens_on_no(session, incident, now, reopen_window):
        key += "_reopen"
    return text(key, incident.language, ref=incident.reference)


# "NO123456", "yes123456": an answer typed without its space before the reference (a phone's keyboard), read as both
_ANSWER_WORDS = "|".join(sorted(CONFIRM | REJECT, key=len, reverse=True))
_GLUED = re.compile(rf"^(\W*(?:{_ANSWER_WORDS}))(\d{{6}})\b", re.IGNORECASE)


def _spaced(body: str) -> str:
    """``body`` with a space between an answer word and the reference glued to it."""
    return _GLUED.sub(r"\1 \2", body.strip(), count=1)


def answer_word(body: str) -> bool | None:
    """True for YES (CONFIRM, JA, ...), False for NO (REJECT, NEIN, ...) as the first word, else None.

    A YES that goes on to doubt it ("Yes, but the API still fails", "ja, aber SMTP noch nicht") is None: words
    for the incident and its owner, and the customer is asked for a plain YES or NO.
    """
    words = _spaced(body).split()
    first = _first_word(words)
    if first in CONFIRM:
        rest = {re.sub(r"^\W+|\W+$", "", word).upper() for word in words[1:]}
        return None if rest & DOUBT or any(word.endswith(("N'T", "N’T")) for word in rest) else True
    return False if first in REJECT else None


def doubted_yes(body: str) -> bool:
    """A YES that goes on to doubt it: words about the proposal, not an answer (``answer_word`` None)."""
    return _first_word(_spaced(body).split()) in CONFIRM and answer_word(body) is None


def _first_word(words: list[str]) -> str:
    # "No," "YES!" "NO-" count, and so do quotes around the word ("“Yes”", "„Ja“"); "N/A" stays words
    return re.sub(r"^\W+|\W+$", "", words[0]).upper() if words else ""


def _named(session: Session, from_number: str, body: str) -> list[Incident]:
    """This number's incidents whose references the text names (other 6-digit numbers are just numbers)."""
    tokens = set(REFERENCE.findall(_spaced(body)))
    if not tokens:
        return []
    return list(session.scalars(select(Incident).where(
        Incident.callback_phone == from_number, Incident.reference.in_(tokens)).order_by(Incident.id)))


def _other_answered_lately(session: Session, proposal: ResolutionProposal, from_number: str) -> bool:
    """Another incident of this number had a proposal decided since (or within RECENT_ANSWER before) this one."""
    return session.scalar(select(func.count(ResolutionProposal.id)).join(
        Incident, Incident.id == ResolutionProposal.incident_id).where(
        Incident.callback_phone == from_number, ResolutionProposal.incident_id != proposal.incident_id,
        ResolutionProposal.decided_at >= proposal.proposed_at - RECENT_ANSWER)) > 0


def _media_hint(media: int, incident: Incident) -> str:
    """Tell the customer their pictures were not seen (nothing, without any)."""
    return text("cust_sms_media", incident.language) if media else ""


def _with_media(words: str, media: int) -> str:
    """The customer's words and, for an MMS, how many pictures or files came with them (which nobody can see)."""
    if not media:
        return words
    what = "1 picture or file" if media == 1 else f"{media} pictures or files"
    return f"{words} [{what} by MMS, not shown by the hotline]".lstrip()


def attach_words(session: Session, incident: Incident, body: str, now: datetime) -> None:
    """Log the customer's words on their incident and text them at once to its readers (a missed caller's reply
    that opened it: ``missed_calls.answer_invitation``)."""
    _attach(session, incident, body, now, tell_owner=True, at_once=True)


def _attach(session: Session, incident: Incident, body: str, now: datetime, *, tell_owner: bool,
            media: int = 0, at_once: bool = False, disputed: ResolutionProposal | None = None,
            from_caller_id: bool = False) -> None:
    """Log the customer's words on the incident and, at most every OWNER_TOLD_EVERY (``at_once``: now, whatever was
    texted lately), text them to its owner (to the managers when the owner was deactivated since: never to someone
    who no longer works here; with no owner yet, to the reps paged for it: ``oncall.customer_readers``). ``disputed``:
    the verbal agreement their NO disputes, named in the SMS (the owner must not read a bare "NO 123456").
    ``from_caller_id``: sent from the number the incident's call came from, not its callback number
    (``caller_id_sms``): marked so on the line and in what the owner reads."""
    # the line names the incident's owner even when nobody is texted (a bare YES asked for its reference): a probe
    # read "owner_rep_id": null on an incident Alice owned
    reps, owner = customer_readers(session, incident) if tell_owner else ([], incident_owner(session, incident))
    readers = {r.phone: reader_role(r, owner) for r in reps if r.phone}
    reader_ids = sorted({r.id for r in reps if r.phone})
    goes_at = now if at_once or not readers else _words_go_at(session, incident, set(reader_ids), body, now)
    told = bool(readers) and goes_at <= now
    words = _with_media(" ".join(body.split())[:QUOTE_LIMIT], media)
    note = note_for(incident, body)  # a number in them the hotline would not call back: said so, after them
    if from_caller_id:
        words = text("cust_sms_from_caller_id", text=words)
    held_until = None
    if told:
        body_sms = (text("cust_sms_disputes_verbal_close", ref=incident.reference, company=company_name(incident),
                         text=words, agreed_by=disputed.agreed_by, phone=incident.callback_phone)
                    if disputed is not None else
                    text("cust_sms_to_owner", ref=incident.reference, company=company_name(incident),
                         text=words + note))
        for phone, role in readers.items():
            queue_delivery(session, channel=DeliveryChannel.SMS, to=phone, purpose="customer_sms", recipient=role,
                           body=body_sms, now=now, incident_id=incident.id)
    elif readers:  # held back, never dropped: texted together when the quarter hour since the last SMS is over
        held_until = _hold(session, incident, readers, words, now, goes_at, note)
    log_event(session, at=now, actor="customer", kind="customer_sms_message", incident_id=incident.id,
              detail={"text": _with_media(body[:QUOTE_LIMIT], media), "owner_told": told, "media": media,
                      "owner_rep_id": owner.id if owner else None, **({"told_rep_ids": reader_ids} if told else {}),
                      **({"disputes_verbal_close": disputed.id} if disputed is not None else {}),
                      **({"from": "caller_id"} if from_caller_id else {}),
                      **({"held_until": held_until.isoformat()} if held_until else {})})


def _words_go_at(session: Session, incident: Incident, reader_ids: set[int], body: str, now: datetime) -> datetime:
    """When the customer's words go to these readers (``now``: at once): at most one SMS per reader every
    OWNER_TOLD_EVERY, a reader told nothing yet (a new owner, the managers once the owner was deactivated) at once (a
    probe's new owner heard nothing for 15 minutes), and while the callback is owed at once up to a bound, never after
    its deadline (the escalation core's ``words_go_at``: an outside probe's customer's second text, a new contact
    address, was held two minutes past the callback deadline); words naming a phone number or an e-mail address at
    once (``names_contact``, numbers read as in the incident's region: its callback number's, else its caller ID's)."""
    if not _told_since(session, incident, now - OWNER_TOLD_EVERY, reader_ids):
        return now
    last = _last_told_at(session, incident, now - OWNER_TOLD_EVERY)
    texted = sum(1 for detail in session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.CUSTOMER_SMS_MESSAGE))
        if (detail or {}).get("owner_told"))
    contact = names_contact(body, region_of(incident.callback_phone) or region_of(incident.caller_id))
    return words_go_at(snapshot(session, incident, now), (last or now) + OWNER_TOLD_EVERY, texted, now, contact)


def _hold(session: Session, incident: Incident, readers: dict[str, str], words: str, now: datetime,
          when: datetime, note: str = "") -> datetime:
    """Add the customer's words to each reader's held SMS (one per reader, queued for ``when``: ``_words_go_at``),
    writing it when there is none yet; returns when they go. Until session 39 the words were only logged: an outside
    probe's customer's second SMS ("Also SMTP is down now, contact me at ...") reached nobody, though they read "We
    added your message"."""
    line = quoted(words) + note
    for phone, role in readers.items():
        held = session.scalars(select(Delivery).where(
            Delivery.incident_id == incident.id, Delivery.purpose == HELD_WORDS, Delivery.to_address == phone,
            Delivery.status == UpdateDeliveryStatus.QUEUED, Delivery.attempts == 0)
            .order_by(Delivery.id.desc()).limit(1).with_for_update()).first()
        if held is None:
            queue_delivery(session, channel=DeliveryChannel.SMS, to=phone, purpose=HELD_WORDS, recipient=role, now=now,
                           incident_id=incident.id, send_at=when,
                           body=text("cust_sms_to_owner_held", ref=incident.reference, company=company_name(incident),
                                     text=line))
        elif len(held.body) + len(line) <= HELD_LIMIT:
            held.body = f"{held.body}{JOIN}{line}"
        elif not held.body.endswith(MORE_HELD):
            held.body += MORE_HELD
        when = held.next_attempt_at if held is not None else when
    return when



def _last_told_at(session: Session, incident: Incident, since: datetime) -> datetime | None:
    """When the customer's words were last texted to a reader of this incident since ``since`` (its latest told
    line), else None."""
    for at, detail in session.execute(select(IncidentEvent.at, IncidentEvent.detail).where(
            IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.CUSTOMER_SMS_MESSAGE,
            IncidentEvent.at > since).order_by(IncidentEvent.id.desc())):
        if (detail or {}).get("owner_told"):
            return at
    return None


def _told_since(session: Session, incident: Incident, since: datetime, readers: set[int]) -> bool:
    """Every one of ``readers`` was texted the customer's words since ``since``. A line written before the readers
    were kept on it names only the owner it was for (``owner_rep_id``)."""
    lines = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "customer_sms_message",
        IncidentEvent.at > since)).all()
    told: set[int] = set()
    for detail in lines:
        if (detail or {}).get("owner_told"):
            told.update(detail.get("told_rep_ids") or [detail.get("owner_rep_id")])
    return readers <= told
