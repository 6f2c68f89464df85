"""Resolution by agreement: the owner proposes, the customer confirms or rejects, or stays silent.

Every channel (SMS reply, signed e-mail link, a repeat call, the rep's record of a verbal
agreement) goes through ``decide``. Each function works inside the caller's transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import (
    Callback,
    Delivery,
    DeliveryChannel,
    DueStep,
    FollowUpState,
    Incident,
    IncidentEvent,
    IncidentStatus,
    ProposalKind,
    ProposalState,
    ResolutionProposal,
    StepKind,
    StepStatus,
    UpdateDeliveryStatus,
)
from app.prompts import text
from app.queue import schedule
from app.services import held_words, update_text
from app.services.acks import Actor, resolve
from app.services.deliveries import queue_delivery
from app.services.escalation import snapshot
from app.services.events import log_event
from app.services.oncall import customer_readers, reader_role
from app.services.page_text import company_name, rep_clock
from app.services.phones import is_textable
from app.services.proposal_unheard import paused_due, set_aside, undelivered_due
from app.services.row_locks import lock_incident
from app.services.update_schedule import close_round_steps, follow_up_of, resume_after_proposal
from app.services.updates import NO_WRITTEN_CHANNEL, Result, start_follow_up, written_channels
from app.settings import Settings

VIAS = ("sms", "link", "call", "verbal")


class BadResolutionLink(Exception):
    """A resolution link that is forged or garbled."""


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.signing_key(), salt="sev1-resolution-link")


def resolution_link(settings: Settings, proposal_id: int) -> str:
    """The signed link in the proposal e-mail; it is good while the proposal awaits an answer."""
    base = settings.link_base
    return f"{base}/resolution/{_serializer(settings).dumps({'r': proposal_id})}"


def proposal_of_link(settings: Settings, token: str) -> int:
    """The proposal id a link was made for; raises BadResolutionLink."""
    try:
        return int(_serializer(settings).loads(token)["r"])
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise BadResolutionLink("this link is not valid") from exc


def pending_proposal(session: Session, incident: Incident) -> ResolutionProposal | None:
    """The proposal awaiting the customer's answer, if any."""
    return session.scalars(select(ResolutionProposal).where(
        ResolutionProposal.incident_id == incident.id, ResolutionProposal.state == ProposalState.PROPOSED)).first()


def propose(session: Session, incident: Incident, kind: ProposalKind, *, summary: str, by: str, now: datetime,
            settings: Settings, outage_id: int | None = None, in_writing: bool = True) -> Result:
    """Propose "resolved" or "workaround provided"; updates pause until the customer answers or stays silent.

    ``in_writing`` (every proposal but a verbal agreement's record): the customer is asked by SMS and
    e-mail, so one who has neither is never asked, and their silence could never mean anything.
    """
    if incident.status != IncidentStatus.OPEN:
        return Result(False, f"Incident {incident.reference} is closed already.")
    if pending_proposal(session, incident) is not None:
        return Result(False, f"Incident {incident.reference} already awaits the customer's answer.")
    snap = snapshot(session, incident, now)
    if snap.answered_at is None and not snap.reached_by_email:  # h1's rule: a verified contact comes first
        return Result(False, text("resolve_needs_callback", ref=incident.reference,
                                         minutes=settings.callback_sla_minutes))
    if in_writing and not written_channels(session, incident):
        return Result(False, f"Incident {incident.reference} was not proposed: {NO_WRITTEN_CHANNEL}. Ask them on the "
                             "phone, then record who agreed. Nothing was changed.")
    follow_up, _ = start_follow_up(session, incident, now)
    paused = paused_due(follow_up.state, follow_up.next_due_at)  # resumed if the proposal reaches nobody
    if follow_up.state == FollowUpState.UPDATING:
        close_round_steps(session, incident.id, follow_up.round, "paused_for_proposal", now)
    follow_up.state, follow_up.next_due_at = FollowUpState.AWAITING_CONFIRMATION, None
    seq = (session.scalar(select(func.count(ResolutionProposal.id)).where(
        ResolutionProposal.incident_id == incident.id)) or 0) + 1
    proposal = ResolutionProposal(incident_id=incident.id, seq=seq, kind=kind, state=ProposalState.PROPOSED,
                                  summary=summary.strip()[:2000], proposed_by=by[:200], proposed_at=now,
                                  expires_at=now + timedelta(hours=settings.resolution_silence_hours),
                                  outage_id=outage_id)
    session.add(proposal)
    session.flush()
    expiry = DueStep(incident_id=incident.id, kind=StepKind.RESOLUTION_EXPIRY, level=seq, due_at=proposal.expires_at)
    session.add(expiry)
    session.flush()
    log_event(session, at=now, actor=by or "rep", kind="resolution_proposed", incident_id=incident.id,
              detail={"proposal_id": proposal.id, "kind": kind.value, "expires_at": proposal.expires_at.isoformat(),
                      "outage_id": outage_id, **paused})
    schedule(session, "step", expiry.id, expiry.due_at)
    _ask_customer(session, incident, proposal, settings, now)
    return Result(True, f"Proposed to the customer of {incident.reference}; waiting for their answer.")


def _ask_customer(session: Session, incident: Incident, proposal: ResolutionProposal, settings: Settings,
                  now: datetime) -> None:
    if is_textable(incident.callback_phone):
        queue_delivery(session, channel=DeliveryChannel.SMS, to=incident.callback_phone, purpose="proposal",
                       body=update_text.proposal_sms(incident, proposal), now=now,
                       incident_id=incident.id, proposal_id=proposal.id, language=incident.language)
    if incident.email:
        texted = DeliveryChannel.SMS.value in written_channels(session, incident)
        subject, body = update_text.proposal_email(incident, proposal, resolution_link(settings, proposal.id),
                                                   settings.resolution_silence_hours, texted)
        queue_delivery(session, channel=DeliveryChannel.EMAIL, to=incident.email, purpose="proposal",
                       subject=subject, body=body, now=now, incident_id=incident.id,
                       proposal_id=proposal.id, language=incident.language)


def decide(session: Session, proposal: ResolutionProposal, *, confirmed: bool, via: str, who: str, now: datetime,
           note: str = "", hotline_number: str = "") -> Result:
    """The customer's answer: confirmed closes the incident; rejected reopens it and updates continue.

    ``hotline_number``: how the customer comes back, in the message a verbal agreement's close sends them."""
    incident = lock_incident(session, proposal.incident_id)
    spoken = via == "call"  # the repeat caller's keypad: the answer is said, the reference digit by digit
    if proposal.state != ProposalState.PROPOSED:  # the customer's answer: in their language, as every reply here
        return Result(False, update_text.answered_before(incident, proposal.state, spoken))
    if incident.status != IncidentStatus.OPEN:  # resolved another way meanwhile: an answer reopens nothing
        return Result(False, update_text.closed_before(incident, spoken))
    if confirmed:  # the one resolve service (and the core's rule) closes it, naming who agreed
        answer = resolve(session, incident, Actor(name=who or "customer", via=via), now, agreed_by=who or "customer",
                         hotline_number=hotline_number)
        if not answer.ok:
            return Result(False, answer.message)
    proposal.state = ProposalState.CONFIRMED if confirmed else ProposalState.REJECTED
    proposal.decided_at, proposal.decided_via = now, via
    proposal.agreed_by, proposal.note = who[:200], note[:500]
    session.execute(update(DueStep).where(
        DueStep.incident_id == incident.id, DueStep.kind == StepKind.RESOLUTION_EXPIRY,
        DueStep.level == proposal.seq, DueStep.status == StepStatus.PENDING,
    ).values(status=StepStatus.DONE, done_at=now, outcome=f"answered_{proposal.state}"))
    if confirmed:  # the resolve above closed the update schedule (decisions.carry_out)
        log_event(session, at=now, actor=who or "customer", kind="resolution_confirmed", incident_id=incident.id,
                  detail={"proposal_id": proposal.id, "kind": proposal.kind, "via": via, "agreed_by": who[:200],
                          "seconds_since_capture": round((now - incident.captured_at).total_seconds(), 1),
                          "outage_id": proposal.outage_id})
        _close_reached_through(session, incident, who or "customer", now)
        if via != "verbal":  # recorded by the rep who spoke with them: nobody to tell
            _tell_readers(session, incident, now, "workaround_confirmed_to_owner"
                          if proposal.kind == ProposalKind.WORKAROUND else "resolution_confirmed_to_owner",
                          words=_own_words(note if via == "sms" else ""), since=proposal.proposed_at)
        return Result(True, update_text.decision_reply(incident, True, spoken))
    follow_up = follow_up_of(session, incident, lock=True)
    resume_after_proposal(session, incident, now + timedelta(minutes=follow_up.interval_minutes))
    log_event(session, at=now, actor=who or "customer", kind="resolution_rejected", incident_id=incident.id,
              detail={"proposal_id": proposal.id, "via": via, "next_update_due_at": follow_up.next_due_at.isoformat()})
    said = " ".join(note.split())[:update_text.QUOTE_LIMIT]
    _tell_readers(session, incident, now, "resolution_rejected_to_owner", due=follow_up.next_due_at,
                  words=f': "{said}"' if said else "", since=proposal.proposed_at)
    # the customer is told when the next update comes, as the owner is (``resolution_rejected_to_owner``)
    return Result(True, update_text.decision_reply(incident, False, spoken, next_due=follow_up.next_due_at, now=now))


def _close_reached_through(session: Session, incident: Incident, who: str, now: datetime) -> None:
    """The open incidents whose customer was reached only through this incident's callback (a dropped call and its
    redial: ``related_callbacks``) close with it: the customer agreed on this one, and that one has no update schedule
    of its own to carry a proposal (an outside probe's redialled customer confirmed the fix on the redial's incident
    and the dropped call's stayed open on the board). Closed with the same agreement (``via`` "related": no second
    notice to the customer), the line naming this incident. Never one with an update schedule or a proposal of its
    own: its customer answers for it (an outside probe's second caller from one switchboard had answered NO to its own
    proposal, and the first caller's YES closed it)."""
    callbacks = select(Callback.id).where(Callback.incident_id == incident.id)
    for other_id in session.scalars(select(Incident.id).where(
            Incident.reached_on_callback_id.in_(callbacks), Incident.status == IncidentStatus.OPEN)
            .order_by(Incident.id)).all():
        other = lock_incident(session, other_id, fresh=True)
        if other is None or other.status != IncidentStatus.OPEN or follow_up_of(session, other) is not None or (
                session.scalar(select(ResolutionProposal.id).where(ResolutionProposal.incident_id == other.id)
                               .limit(1)) is not None):
            continue
        answer = resolve(session, other, Actor(name=who, via="related"), now, agreed_by=who)
        log_event(session, at=now, actor=who, kind=EventKind.RESOLVED_WITH_RELATED, incident_id=other.id,
                  detail={"related_reference": incident.reference, "outcome": answer.outcome})


def _own_words(note: str) -> str:
    """The words of a written YES beyond the word and the reference, quoted to the owner with the closure: a probe's
    customer wrote "YES 365528. Problem persists for EU customers." and the owner read only "confirmed" (no list of
    doubting words catches them all; the owner reads them and may reopen it)."""
    said = " ".join(note.split())
    rest = _REFERENCES.sub("", said.split(" ", 1)[1] if " " in said else "")
    if not any(ch.isalpha() for ch in rest):
        return ""
    return text("confirmed_with_words", words=said[:update_text.QUOTE_LIMIT])


_REFERENCES = re.compile(r"\b\d{6}\b")


def _tell_readers(session: Session, incident: Incident, now: datetime, key: str, due: datetime | None = None,
                  words: str = "", since: datetime | None = None) -> None:
    """Text the customer's answer to a proposed resolution to whoever reads their words (``customer_readers``): a
    NO said the problem goes on, and its owner heard nothing until the next update's reminder. With ``since`` (the
    proposal), the SMS quotes what the customer texted that no SMS carried (``held_words.untold``: a probe's owner read
    "confirmed" and never the "..., but it still fails" before it), and each reader's held SMS of those very words is
    withdrawn (``held_words.withdraw_quoted``), never another's."""
    reps, owner = customer_readers(session, incident)
    quote = held_words.untold(session, incident, since).quote if since is not None else ""
    after = text("confirmed_after_words", words=quote) if quote else ""
    for rep in {r.phone: r for r in reps if r.phone}.values():
        body = text(key, ref=incident.reference, company=company_name(incident), words=words,
                    due=update_text.due_text(due, rep_clock(rep), now) if due is not None else "") + after
        sent = queue_delivery(session, channel=DeliveryChannel.SMS, to=rep.phone, purpose="resolution_answer",
                              recipient=reader_role(rep, owner), body=body, now=now, incident_id=incident.id)
        if sent is not None and sent.status == UpdateDeliveryStatus.QUEUED:  # not refused (the number opted out)
            held_words.withdraw_quoted(session, incident, rep.phone, quote, now)


# what shows the customer was in touch after a NO: a callback a person answered (or the rep's own call), an e-mail
# contact, their texts or answers, a call of theirs joined to the incident, details added or a rep put through on it
CONTACT_KINDS = (EventKind.CALLBACK_MET, EventKind.CALLBACK_LATE, EventKind.CALLBACK_ANSWERED_AGAIN,
                 EventKind.CALLBACK_REACHED_ON_RELATED,
                 EventKind.CALLBACK_SELF_REPORTED, EventKind.REACHED_BY_EMAIL, EventKind.CUSTOMER_SMS_MESSAGE,
                 EventKind.CUSTOMER_SMS_ANSWER, EventKind.CALL_JOINED, EventKind.INFORMATION_ADDED, "live_connecting")
_NO_VIA = {"sms": "by SMS", "link": "by the e-mail link", "call": "on the keypad of a call to the hotline"}
AFTER_NO_FIELD = "agreed_after_no"  # the form's box, ticked: the rep confirms they agreed after that NO
AFTER_NO_LABEL = "They agreed with me after that NO"


@dataclass(frozen=True)
class StandingNo:
    """The customer's latest own answer to a proposal, a NO, with nothing since that shows they were reached."""

    at: datetime
    via: str
    words: str

    def warning(self, tz: str, now: datetime) -> str:
        """What the rep reads before (and on) recording a verbal agreement over it, the time on their clock."""
        written = "written " if self.via != "call" else ""
        said = " ".join(self.words.split())[:120]
        return (f"The customer's last {written}answer was NO, {_NO_VIA.get(self.via, self.via)} at "
                f"{update_text.due_text(self.at, tz, now)}" + (f' ("{said}")' if said else "")
                + ", and nothing shows they were reached since (no callback answered, nothing from them).")


def standing_no(session: Session, incident: Incident) -> StandingNo | None:
    """The customer's latest answer to a proposal (SMS, e-mail link, keypad), or their NO that reopened a close, was NO
    and no contact since
    (``CONTACT_KINDS``): a verbal agreement recorded now contradicts the last thing they said, so the rep is warned
    and must confirm it (an outside probe's rep closed one 17 minutes after the customer's "No, the problem goes on",
    with no call between)."""
    latest = session.scalars(select(ResolutionProposal).where(
        ResolutionProposal.incident_id == incident.id, ResolutionProposal.decided_via.in_(("sms", "link", "call")),
        ResolutionProposal.decided_at.is_not(None))
        .order_by(ResolutionProposal.decided_at.desc(), ResolutionProposal.id.desc()).limit(1)).first()
    # a NO that reopened a close they never agreed to in writing is their latest answer too (``reopen``)
    reopened = session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.INCIDENT_REOPENED)
        .order_by(IncidentEvent.id.desc()).limit(1)).first()
    if reopened is not None and (reopened.detail or {}).get("by") == "customer" and (
            latest is None or reopened.at >= latest.decided_at):
        no = StandingNo(reopened.at, str(reopened.detail.get("via") or "sms"), str(reopened.detail.get("words") or ""))
    elif latest is None or latest.state != ProposalState.REJECTED:
        return None
    else:
        no = StandingNo(latest.decided_at, latest.decided_via, latest.note or "")
    contact = session.scalar(select(func.count(IncidentEvent.id)).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind.in_(CONTACT_KINDS), IncidentEvent.at > no.at))
    return None if contact else no


def verbal_warning(session: Session, incident: Incident, tz: str, now: datetime) -> str:
    """The warning the verbal-agreement forms show above their box (``AFTER_NO_FIELD``), "" when none is due."""
    no = standing_no(session, incident) if incident.status == IncidentStatus.OPEN else None
    return no.warning(tz, now) if no is not None else ""


def record_verbal_agreement(session: Session, incident: Incident, *, who_agreed: str, by: str, now: datetime,
                            settings: Settings, kind: ProposalKind = ProposalKind.RESOLVED, note: str = "",
                            after_no: bool = False, tz: str = "UTC") -> Result:
    """The rep spoke with the customer, who agreed it is resolved: close it, naming who agreed; the customer is told
    in writing (``Decision.agreed_close``). Over a standing NO (``standing_no``) only when the rep confirms
    (``after_no``: the form's box), else nothing changes and the rep reads why; ``tz``: the rep's clock."""
    who_agreed = who_agreed.strip()
    if not who_agreed:
        return Result(False, "Name who at the customer agreed. Nothing was changed.")
    if incident.status != IncidentStatus.OPEN:
        return Result(False, f"Incident {incident.reference} is closed already.")
    no = standing_no(session, incident)
    if no is not None and not after_no:
        return Result(False, f"Incident {incident.reference} was NOT closed: {no.warning(tz, now)} If they agreed "
                             f"with you after that, tick \"{AFTER_NO_LABEL}\" (the incident page or its Updates page) "
                             "and record it again. Nothing was changed.")
    proposal = pending_proposal(session, incident)
    if proposal is None:
        proposed = propose(session, incident, kind, summary=note, by=by, now=now, settings=settings, in_writing=False)
        if not proposed.ok:
            return proposed
        proposal = pending_proposal(session, incident)
        # the customer already agreed on the phone: do not ask them again in writing (their send jobs find
        # the rows skipped and do nothing)
        _drop_queued_deliveries(session, proposal.id)
    result = decide(session, proposal, confirmed=True, via="verbal", who=f"{who_agreed} (recorded by {by})"[:200],
                    now=now, note=note, hotline_number=settings.twilio_number)
    if not result.ok:
        return result
    over = ""
    if no is not None:  # warned and confirmed: on the record, and in the answer
        log_event(session, at=now, actor=by or "rep", kind=EventKind.VERBAL_AGREEMENT_AFTER_NO,
                  incident_id=incident.id, detail={"no_at": no.at.isoformat(), "no_via": no.via,
                                                   "agreed_by": who_agreed[:200], "recorded_by": by[:200]})
        over = f" Recorded although: {no.warning(tz, now)}"
    result.message = f"Incident {incident.reference} is resolved: {who_agreed} agreed.{over} {_told_of_close(session, incident)}"
    return result


def _told_of_close(session: Session, incident: Incident) -> str:
    """What the rep who recorded the agreement reads of the customer's closing message (the core chose its channel:
    ``Decision.agreed_close``; the log line just written says which)."""
    detail = session.scalars(select(IncidentEvent.detail).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == EventKind.CUSTOMER_CLOSING_NOTICE)
        .order_by(IncidentEvent.id.desc()).limit(1)).first() or {}
    return text(f"agreed_customer_told_{detail.get('channel', 'none')}")


def _drop_queued_deliveries(session: Session, proposal_id: int, why: str = "agreed verbally before sending") -> None:
    session.execute(update(Delivery).where(Delivery.proposal_id == proposal_id, Delivery.status == UpdateDeliveryStatus.QUEUED)
                    .values(status=UpdateDeliveryStatus.SKIPPED, last_error=why))


def decide_by_call(session: Session, reference: str, digits: str, now: datetime) -> Result:
    """A repeat caller (who proved who they are by reference/PIN in the flow) pressed 1 (confirm) or 2 (reject)."""
    incident = session.scalars(select(Incident).where(Incident.reference == reference)).first()
    proposal = pending_proposal(session, incident) if incident else None
    if proposal is None or digits not in ("1", "2"):
        return Result(False, "No resolution awaits your answer.")
    return decide(session, proposal, confirmed=digits == "1", via="call", who=incident.contact_name or "caller",
                  now=now)


def spoken_proposal(session: Session, reference: str) -> str | None:
    """What a repeat caller whose incident awaits confirmation hears (None when nothing awaits)."""
    incident = session.scalars(select(Incident).where(Incident.reference == reference)).first()
    proposal = pending_proposal(session, incident) if incident else None
    return update_text.proposal_spoken(incident, proposal) if proposal else None


def expire(session: Session, incident: Incident, step: DueStep, now: datetime) -> str:
    """Step RESOLUTION_EXPIRY: the customer stayed silent; close as resolved, not confirmed."""
    proposal = session.scalars(select(ResolutionProposal).where(
        ResolutionProposal.incident_id == incident.id, ResolutionProposal.seq == step.level)).first()
    if proposal is None or proposal.state != ProposalState.PROPOSED:
        return "skipped_answered"
    if not _reached_the_customer(session, proposal):  # reached nobody: normally set aside already (``unreached``)
        set_aside(session, incident, proposal, now, state=ProposalState.UNDELIVERED,
                  kind=EventKind.RESOLUTION_UNDELIVERED, due=undelivered_due(session, proposal, now), via="silence")
        return "kept_open_undelivered"
    if _customer_wrote_since(session, incident, proposal.proposed_at):  # not silent: updates are owed at once
        set_aside(session, incident, proposal, now, state=ProposalState.UNCLEAR, kind=EventKind.RESOLUTION_UNCLEAR,
                  due=now, via="silence")
        return "kept_open_unclear"
    answer = resolve(session, incident, Actor(name="system", via="silence"), now, after_silence=True)
    if not answer.ok:
        return f"refused_{answer.outcome}"[:64]
    proposal.state, proposal.decided_at, proposal.decided_via = ProposalState.EXPIRED, now, "silence"
    log_event(session, at=now, actor="system", kind="resolved_unconfirmed", incident_id=incident.id,
              detail={"proposal_id": proposal.id, "proposed_at": proposal.proposed_at.isoformat(),
                      "seconds_since_capture": round((now - incident.captured_at).total_seconds(), 1),
                      "outage_id": proposal.outage_id})
    return "resolved_unconfirmed"


def _reached_the_customer(session: Session, proposal: ResolutionProposal) -> bool:
    """A message of the proposal was accepted by Twilio or the SMTP server: only then can silence mean anything."""
    return session.scalar(select(func.count(Delivery.id)).where(
        Delivery.proposal_id == proposal.id,
        Delivery.status.in_((UpdateDeliveryStatus.SENT, UpdateDeliveryStatus.DELIVERED)))) > 0


def _customer_wrote_since(session: Session, incident: Incident, since: datetime) -> bool:
    """The customer texted words that were not a YES or NO ("Not fixed") since ``since``: they were not silent."""
    return session.scalar(select(func.count(IncidentEvent.id)).where(
        IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "customer_sms_message",
        IncidentEvent.at >= since)) > 0
