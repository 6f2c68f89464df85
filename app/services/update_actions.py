"""An incident's updates and resolution as a person asks for them, by any channel (an SMS command, the dashboard, a
call's keypad): who may (``update_rights.refusal``, the one rule) is checked before anything changes, and the owner
is told when someone else acted (``update_rights.tell_owner``).

Channels call these, never the services under them (``updates.agree_interval``, ``updates.write_update``,
``resolution.propose``, ``resolution.record_verbal_agreement``), which check no person's rights: they serve the
system's own flows too (an outage's update to every linked customer, the proposal a verbal agreement records).
Until probe AT the dashboard called those directly, and a rep's login paged for nothing told a customer a false
update and interval and closed their incident, while the same rep's SMS was refused.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.models import Incident, ProposalKind
from app.services.acks import Actor
from app.services.page_text import rep_clock
from app.services.resolution import propose, record_verbal_agreement
from app.services.update_rights import refusal, tell_owner
from app.services.updates import Result, agree_interval, write_update
from app.settings import Settings


def set_interval(session: Session, incident: Incident, actor: Actor, minutes: int, now: datetime) -> Result:
    """Agree the update interval with the customer (the owner or a manager: ``update_rights``)."""
    refused = refusal(session, actor, incident, "EVERY", now)
    if refused is not None:
        return Result(False, refused)
    result = agree_interval(session, incident, minutes, via=actor.via, by=actor.name, now=now,
                            owner_rep_id=actor.rep_id)
    if result.ok:
        tell_owner(session, actor, incident, "EVERY", "", now, minutes)
    return result


def send_update(session: Session, incident: Incident, actor: Actor, now: datetime, *, what_is_wrong: str,
                expected_resolution: str = "", workaround: str = "") -> Result:
    """Write an update to the customer (the owner, a manager, or a rep paged for it: ``update_rights``)."""
    refused = refusal(session, actor, incident, "UPDATE", now)
    if refused is not None:
        return Result(False, refused)
    result = write_update(session, incident, what_is_wrong=what_is_wrong, expected_resolution=expected_resolution,
                          workaround=workaround, by=actor.name, via=actor.via, now=now, rep_id=actor.rep_id)
    if result.ok:
        tell_owner(session, actor, incident, "UPDATE", what_is_wrong, now)
    return result


def propose_resolution(session: Session, incident: Incident, actor: Actor, kind: ProposalKind, summary: str,
                       now: datetime, settings: Settings) -> Result:
    """Propose "resolved" or "workaround provided" to the customer (the owner or a manager: ``update_rights``)."""
    command = "WORKAROUND" if kind == ProposalKind.WORKAROUND else "PROPOSE"
    refused = refusal(session, actor, incident, command, now)
    if refused is not None:
        return Result(False, refused)
    result = propose(session, incident, kind, summary=summary, by=actor.name, now=now, settings=settings)
    if result.ok:
        tell_owner(session, actor, incident, command, summary, now)
    return result


def record_agreement(session: Session, incident: Incident, actor: Actor, now: datetime, settings: Settings, *,
                     who_agreed: str, kind: ProposalKind = ProposalKind.RESOLVED, note: str = "",
                     after_no: bool = False) -> Result:
    """Record that the customer agreed on the phone, naming who, and close the incident (the owner or a manager:
    ``update_rights``; ``resolution.record_verbal_agreement``)."""
    refused = refusal(session, actor, incident, "AGREED", now)
    if refused is not None:
        return Result(False, refused)
    result = record_verbal_agreement(session, incident, who_agreed=who_agreed, by=actor.name, now=now,
                                     settings=settings, kind=kind, note=note, after_no=after_no,
                                     tz=rep_clock(actor.rep))
    if result.ok:
        tell_owner(session, actor, incident, "AGREED", who_agreed, now)
    return result
