"""Known platform outages: declared by a manager, heard by callers, one update and one resolution for all.

Each function works inside the caller's transaction; its jobs go on the unit of work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import (
    Callback,
    DueStep,
    Incident,
    IncidentStatus,
    Outage,
    OutageLink,
    ProposalKind,
    ResolutionProposal,
    StepStatus,
)
from app.queue import schedule
from app.services import update_text
from app.services.customer_text import is_german
from app.services.escalation import on_the_line
from app.services.events import log_event
from app.services.outage_callbacks import owe_step
from app.services.page_text import SERVICE_SHORT
from app.services.resolution import pending_proposal, propose
from app.services.row_locks import incident_lock
from app.services.updates import Result, write_update
from app.settings import Settings

DEFAULT_NEXT_UPDATE = timedelta(minutes=60)
# An outage's resolution proposed to an incident reached only after the outage was resolved waits until its callback
# is over, and this long after it, so the engineer who talks with the customer agrees the resolution with them (an
# outside probe's customer was texted "We believe your problem is resolved" the second the first callback connected)
AFTER_CALLBACK = timedelta(minutes=10)
ON_THE_LINE_RECHECK = timedelta(minutes=5)  # while the callback goes on, the proposal looks again this often

# the services an outage or a caller can name, and what each covers ("other" or nothing said covers none)
OUTAGE_SERVICES = ("api", "smtp", "both")
_COVERS = {"api": {"api"}, "smtp": {"smtp"}, "both": {"api", "smtp"}}


class UnknownService(ValueError):
    """An outage's service that is none of OUTAGE_SERVICES (nor "", not said)."""


def belongs(outage: Outage, incident: Incident) -> bool:
    """Whether a new incident is linked to the outage by itself: the outage names no service, or its caller named the
    one that fails (or both). A caller who named another service, another problem or none is not: a manager links
    them by hand (``link_open_incident``) when they belong."""
    if not outage.affected_service:
        return True
    return bool(_COVERS.get(outage.affected_service, set()) & _COVERS.get(incident.affected_service, set()))


def named_another_service(outage: Outage, incident: Incident) -> bool:
    """The caller named a service (API, SMTP, both) the outage's is not part of: its updates and resolution say
    nothing about their problem."""
    return (bool(outage.affected_service) and incident.affected_service in _COVERS
            and not belongs(outage, incident))


def service_words(service: str) -> str:
    """A service as the dashboard and the timeline name it ("API calls failing"; "" : "any service")."""
    return SERVICE_SHORT.get(service, "any service") if service else "any service"


def declare(session: Session, *, what_fails: str, since: datetime, by: str, now: datetime,
            next_update_at: datetime | None = None, what_fails_de: str = "", affected_service: str = "") -> Outage:
    """Declare a known outage (a manager, on the dashboard); ``affected_service``: what fails (OUTAGE_SERVICES),
    "" for not said (every new incident is then linked). UnknownService for anything else."""
    affected_service = affected_service.strip().lower()
    if affected_service and affected_service not in OUTAGE_SERVICES:
        raise UnknownService(affected_service)
    outage = Outage(what_fails=what_fails.strip()[:300], what_fails_de=what_fails_de.strip()[:300], since=since,
                    next_update_at=next_update_at or now + DEFAULT_NEXT_UPDATE, declared_by=by[:200],
                    declared_at=now, affected_service=affected_service)
    session.add(outage)
    session.flush()
    log_event(session, at=now, actor=by, kind="outage_declared",
              detail={"outage_id": outage.id, "what_fails": outage.what_fails, "since": since.isoformat(),
                      "affected_service": affected_service})
    return outage


def active_outage(session: Session, now: datetime) -> Outage | None:
    """The newest outage declared and not yet resolved."""
    with session.no_autoflush:  # ``declare`` flushes its outage: an opening's pending rows flush once, later
        return session.scalars(select(Outage).where(Outage.declared_at <= now, Outage.resolved_at.is_(None))
                               .order_by(Outage.declared_at.desc(), Outage.id.desc())).first()


def statement_for_callers(session: Session, language: str, now: datetime, caller_id: str = "") -> str | None:
    """What callers hear right after the greeting while an outage is declared (None: no outage), its times on the
    clock of ``caller_id`` (a number the call's deadline is spoken on too).

    The intake service puts it in the call's flow policy; the flow speaks it after the language choice.
    """
    outage = active_outage(session, now)
    return update_text.outage_statement(outage, language, caller_id, now) if outage else None


def link_incident(session: Session, outage: Outage, incident: Incident, *, by: str, now: datetime) -> bool:
    """Link an incident to an outage (once); True when it was linked now."""
    exists = session.scalar(select(OutageLink.id).where(OutageLink.outage_id == outage.id,
                                                        OutageLink.incident_id == incident.id))
    if exists is not None:
        return False
    session.add(OutageLink(outage_id=outage.id, incident_id=incident.id, linked_at=now, linked_by=by[:200]))
    session.flush()
    log_event(session, at=now, actor=by, kind="outage_linked", incident_id=incident.id,
              detail={"outage_id": outage.id})
    return True


def link_open_incident(session: Session, outage: Outage, reference: str, *, by: str, now: datetime) -> Result:
    """A manager links an incident opened before the outage was declared (or not linked at its opening): it then
    gets the outage's updates and its resolution proposal, as the incidents linked when they opened do."""
    if outage.resolved_at is not None:
        return Result(False, "This outage is resolved already: nothing was linked.")
    reference = reference.strip()[:20]
    if not reference:
        return Result(False, "Give the reference of the incident to link: nothing was linked.")
    incident = session.scalar(select(Incident).where(Incident.reference == reference))
    if incident is None:
        return Result(False, f"No incident has the reference {reference}: nothing was linked.")
    if incident.status != IncidentStatus.OPEN:
        return Result(False, f"Incident {incident.reference} is closed: nothing was linked.")
    if named_another_service(outage, incident):
        return Result(False, f"Incident {incident.reference}'s caller said "
                             f"{service_words(incident.affected_service)}; this outage is "
                             f"{service_words(outage.affected_service)}: nothing was linked.")
    if not link_incident(session, outage, incident, by=by, now=now):
        return Result(False, f"Incident {incident.reference} is linked to this outage already.")
    return Result(True, f"Incident {incident.reference} linked: its customer gets this outage's updates and its "
                        "resolution proposal.")


def link_if_declared(session: Session, incident: Incident, now: datetime) -> Outage | None:
    """Link a new incident to the declared outage when it belongs to it (``belongs``: the caller named the service
    that fails); called where incidents are opened. The outage it was linked to, or None."""
    outage = active_outage(session, now)
    if outage is None:
        return None
    if not belongs(outage, incident):  # said on its timeline: a manager may still link it by hand
        log_event(session, at=now, actor="system", kind=EventKind.OUTAGE_NOT_LINKED, incident_id=incident.id,
                  detail={"outage_id": outage.id, "outage_service": outage.affected_service,
                          "caller_said": incident.affected_service})
        return None
    link_incident(session, outage, incident, by="system", now=now)
    return outage


def unlink_incident(session: Session, outage: Outage, reference: str, *, by: str, now: datetime) -> Result:
    """A manager takes an incident out of the outage (it was linked but is another problem): it gets neither the
    outage's updates nor its resolution proposal, and keeps its own callback and updates. Refused once the outage's
    resolution was proposed to it (the customer answers that proposal)."""
    reference = reference.strip()[:20]
    link = session.scalars(select(OutageLink).join(Incident, Incident.id == OutageLink.incident_id).where(
        OutageLink.outage_id == outage.id, Incident.reference == reference)).first()
    if link is None:
        return Result(False, f"Incident {reference} is not linked to this outage: nothing was changed.")
    if session.scalar(select(ResolutionProposal.id).where(ResolutionProposal.incident_id == link.incident_id,
                                                          ResolutionProposal.outage_id == outage.id).limit(1)):
        return Result(False, f"This outage's resolution was proposed to incident {reference} already: it stays "
                             "linked (the customer answers the proposal).")
    session.delete(link)
    log_event(session, at=now, actor=by, kind=EventKind.OUTAGE_UNLINKED, incident_id=link.incident_id,
              detail={"outage_id": outage.id, "linked_by": link.linked_by, "linked_at": link.linked_at.isoformat()})
    return Result(True, f"Incident {reference} unlinked: it gets neither this outage's updates nor its resolution "
                        "proposal.")


def linked_open_incidents(session: Session, outage: Outage) -> list[Incident]:
    """The outage's incidents that are still open, locked, in reference order."""
    return list(session.scalars(incident_lock(select(Incident).join(OutageLink, OutageLink.incident_id == Incident.id)
                                              .where(OutageLink.outage_id == outage.id,
                                                     Incident.status == IncidentStatus.OPEN).order_by(Incident.id))))


def write_outage_update(session: Session, outage: Outage, *, what_is_wrong: str, expected_resolution: str = "",
                        workaround: str = "", by: str, now: datetime, next_update_at: datetime | None = None,
                        german: dict[str, str] | None = None) -> Result:
    """One update for the outage, sent to every linked open incident's customer in their language.

    ``german``: the manager's German wording of the same fields (``what_is_wrong``, ``expected_resolution``,
    ``workaround``), for customers who chose German; a field left out there goes in the English words, and the
    manager is told which German-speaking customers read English (never held back: an update in English beats none).
    """
    if outage.resolved_at is not None:
        return Result(False, "This outage is resolved. Nothing was sent.")
    english = {"what_is_wrong": what_is_wrong, "expected_resolution": expected_resolution, "workaround": workaround}
    german = {field: words for field, words in (german or {}).items() if words.strip()}
    sent, in_english = 0, []
    # the time every customer is told is the one the manager set (each incident's own interval said another)
    outage.next_update_at = next_update_at or now + DEFAULT_NEXT_UPDATE
    for incident in linked_open_incidents(session, outage):
        words = {**english, **german} if is_german(incident.language) else english
        if is_german(incident.language) and any(text.strip() and field not in german
                                                for field, text in english.items()):
            in_english.append(incident.reference)  # any field in English, not only the first one
        result = write_update(session, incident, **words, by=by, via="outage", now=now, outage_id=outage.id,
                              next_due_at=outage.next_update_at)
        sent += result.ok
    log_event(session, at=now, actor=by, kind="outage_update_sent",
              detail={"outage_id": outage.id, "incidents": sent, "german_in_english": len(in_english)})
    return Result(True, f"Outage update sent to {sent} incidents.{_read_english(in_english)}")


def _read_english(references: list[str]) -> str:
    """What the manager is told of German-speaking customers who got the English words."""
    if not references:
        return ""
    who = "customer" if len(references) == 1 else "customers"
    return (f" {len(references)} German-speaking {who} got the English words (no German wording was given): "
            f"{', '.join(references)}.")


def resolve_outage(session: Session, outage: Outage, *, summary: str, by: str, now: datetime,
                   settings: Settings, summary_de: str = "") -> Result:
    """End the outage and propose resolution to every linked open incident (each customer confirms), in the
    customer's language: ``summary_de`` for those who chose German, when given. The outage keeps both: an incident
    not called back yet is asked once it is (``propose_after_callback``)."""
    if outage.resolved_at is not None:
        return Result(False, "This outage is resolved already.")
    outage.resolved_at, outage.resolved_by = now, by[:200]
    outage.resolution_summary, outage.resolution_summary_de = summary.strip(), summary_de.strip()
    proposed, not_proposed, after_call = 0, [], []
    for incident in linked_open_incidents(session, outage):
        if pending_proposal(session, incident) is not None:
            continue  # it already awaits the customer's answer
        wait_until = _after_the_call(session, incident, now)
        if wait_until is not None:  # its engineer is on the phone with the customer: proposed after the call
            owe_step(session, incident, outage.id, wait_until)
            after_call.append(incident.reference)
            continue
        result = _propose_to(session, outage, incident, by=by, now=now, settings=settings)
        proposed += result.ok
        if not result.ok:  # e.g. not called back yet: it stays open (asked once it is), and its timeline says why
            not_proposed.append(incident.reference)
    log_event(session, at=now, actor=by, kind="outage_resolved",
              detail={"outage_id": outage.id, "proposed": proposed, "not_proposed": not_proposed,
                      "after_callback": after_call})
    left = (f" Not proposed to {len(not_proposed)} (each stays open; its timeline says why): "
            f"{', '.join(not_proposed)}.") if not_proposed else ""
    later = (f" Proposed after the callback going on now ({len(after_call)}): {', '.join(after_call)}."
             if after_call else "")
    return Result(True, f"Outage resolved; resolution proposed to {proposed} incidents.{left}{later}")


def _propose_to(session: Session, outage: Outage, incident: Incident, *, by: str, now: datetime,
                settings: Settings) -> Result:
    """Propose the outage's resolution to one incident, in the customer's language; a refusal is logged on it."""
    if named_another_service(outage, incident):  # linked before the outage named its service, or by hand
        why = (f"its caller said {service_words(incident.affected_service)}; the outage was "
               f"{service_words(outage.affected_service)}")
        log_event(session, at=now, actor=by, kind="outage_resolution_not_proposed", incident_id=incident.id,
                  detail={"outage_id": outage.id, "why": why})
        return Result(False, why)
    german = outage.resolution_summary_de if is_german(incident.language) else ""
    result = propose(session, incident, ProposalKind.RESOLVED, summary=german or outage.resolution_summary, by=by,
                     now=now, settings=settings, outage_id=outage.id)
    if not result.ok:
        log_event(session, at=now, actor=by, kind="outage_resolution_not_proposed", incident_id=incident.id,
                  detail={"outage_id": outage.id, "why": result.message[:300]})
    return result


def propose_after_callback(session: Session, incident: Incident, step: DueStep, now: datetime,
                           settings: Settings) -> str:
    """Step OUTAGE_PROPOSAL: the incident's contact was verified after its outage (``step.level``) was resolved:
    propose that resolution to it as the manager's resolve would have, unless it was proposed already, another
    proposal awaits the customer's answer, or it was unlinked. Never during the callback: while the customer is on
    the line, and until AFTER_CALLBACK after the call ended, the step waits (``_after_the_call``), so the engineer
    on the phone agrees the resolution with the customer (their own proposal or close then skips this one)."""
    outage = session.get(Outage, step.level)
    if outage is None or outage.resolved_at is None:
        return "skipped_outage_not_resolved"
    if incident.status != IncidentStatus.OPEN:
        return "skipped_closed"
    if session.scalar(select(OutageLink.id).where(OutageLink.outage_id == outage.id,
                                                  OutageLink.incident_id == incident.id)) is None:
        return "skipped_unlinked"
    if session.scalar(select(ResolutionProposal.id).where(ResolutionProposal.incident_id == incident.id,
                                                          ResolutionProposal.outage_id == outage.id).limit(1)):
        return "skipped_proposed_before"
    if pending_proposal(session, incident) is not None:
        return "skipped_proposal_pending"
    wait_until = _after_the_call(session, incident, now)
    if wait_until is not None:
        step.status, step.done_at, step.due_at = StepStatus.PENDING, None, wait_until
        schedule(session, "step", step.id, wait_until)
        return "waiting_for_callback_end"
    by = outage.resolved_by or "system"
    if not outage.resolution_summary:  # resolved before the outage kept its words: nothing to say to the customer
        log_event(session, at=now, actor="system", kind="outage_resolution_not_proposed", incident_id=incident.id,
                  detail={"outage_id": outage.id, "why": "the outage's resolution summary is not on record"})
        return "not_proposed_no_summary"
    result = _propose_to(session, outage, incident, by=by, now=now, settings=settings)
    if not result.ok:
        return "not_proposed"
    log_event(session, at=now, actor="system", kind=EventKind.OUTAGE_RESOLUTION_PROPOSED_AFTER_CALLBACK,
              incident_id=incident.id, detail={"outage_id": outage.id, "resolved_at": outage.resolved_at.isoformat(),
                                               "resolved_by": by})
    return "proposed"


def _after_the_call(session: Session, incident: Incident, now: datetime) -> datetime | None:
    """When an outage's proposal to ``incident`` may go, if not yet: while a callback is on the line
    (``escalation.on_the_line``), ON_THE_LINE_RECHECK from now; within AFTER_CALLBACK of a callback's end, that
    end plus AFTER_CALLBACK. None: no call is going on or just ended."""
    callbacks = list(session.scalars(select(Callback).where(Callback.incident_id == incident.id)))
    if any(on_the_line(callback, now) for callback in callbacks):
        return now + ON_THE_LINE_RECHECK
    ended = max((c.ended_at for c in callbacks if c.answered_at is not None and c.ended_at is not None), default=None)
    if ended is not None and now < ended + AFTER_CALLBACK:
        return ended + AFTER_CALLBACK
    return None
