"""Who may do what to an incident's updates and resolution after the callback (README, *After the callback*), by
every channel (an SMS command, the dashboard, a call's keypad: ``update_actions`` applies it for each): the one rule
for an update, the interval, a proposal and a recorded verbal agreement, and the owner's word when someone else acted
on their incident.

The interval is agreed with the customer, resolution proposed and a verbal agreement recorded, by the owner
(``oncall.incident_owner``: the owner of the updates, else the rep who acknowledged) or a manager. A rep who was only
paged may write an update (they may know what changed), and the owner is told; for the rest they are refused with who
owns it and how to take it over. While nobody owns the incident the reps paged for it act as before (the first to
agree an interval becomes the owner of its updates). A rep paged for nothing, and a login linked to no rep, change
nothing. Until this change an outside probe's paged rep, who never spoke to the customer, told them "as agreed, every
15 minutes" twice against the owner's interval and proposed the resolution, and the owner heard nothing; until probe
AT a rep's dashboard login, paged for nothing, did all of it, and closed the incident, with nobody told.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import DeliveryChannel, Incident, Page
from app.prompts import REP_LANG, text
from app.services.deliveries import queue_delivery
from app.services.events import log_event
from app.services.oncall import incident_owner, owner_or_managers
from app.services.page_text import company_name
from app.services.refusal_answers import refuse_sms
from app.services.refusal_lines import SMS, log_refusal
from app.services.update_text import QUOTE_LIMIT, every

if TYPE_CHECKING:
    from app.services.acks import Actor

# AGREED: a verbal agreement recorded (the dashboard's "who at the customer agreed"): it closes the incident
OWNERS_ONLY = {"EVERY": "agree_interval", "PROPOSE": "propose", "WORKAROUND": "propose", "AGREED": "record_agreement"}
ACTED_PURPOSE = "acted_for_owner"  # the owner's SMS: another rep or a manager acted on their incident
_ACTED = {"UPDATE": "update", "EVERY": "interval", "AGREED": "agreement"}  # the rest: a proposal
KEYPAD = "keypad"  # the ``via`` of the interval keyed in at the end of a bridged callback (``voice/update_routes``)
_WORDS_OF = {SMS: "sms", KEYPAD: "call"}  # the prompts' prefix for the channel acted through; else the dashboard's


def refusal(session: Session, actor: Actor, incident: Incident, command: str, now: datetime) -> str | None:
    """None when ``actor`` may carry out ``command`` (UPDATE, EVERY, PROPOSE, WORKAROUND, AGREED) on ``incident``;
    else the answer refusing it (logged ``update_sms_refused`` with its ``via``; nothing is changed or sent; by SMS ""
    when that answer went moments ago: ``refusal_answers``)."""
    owner, rep = incident_owner(session, incident), actor.rep
    if actor.is_manager or (rep is not None and owner is not None and owner.id == rep.id):
        return None
    if actor.via == KEYPAD:  # pressed on the bridged callback itself: whoever is on it agrees it with the customer
        return None
    words = _WORDS_OF.get(actor.via, "dash")
    paged = rep is not None and session.scalar(select(Page.id).where(
        Page.incident_id == incident.id, Page.rep_id == rep.id).limit(1)) is not None
    if rep is None:  # a dashboard login linked to no active rep: paged for nothing, and nobody the owner could ask
        why, answer = "not_a_rep", text("update_not_a_rep", ref=incident.reference)
    elif not paged:
        why, answer = "not_paged", text("update_not_paged", ref=incident.reference)
    elif owner is not None and command in OWNERS_ONLY:
        why = "not_owner"
        answer = text(f"{'sms' if words == 'sms' else 'dash'}_{OWNERS_ONLY[command]}_owner_only",
                      ref=incident.reference, owner=owner.name)
    else:
        return None
    detail = {"command": command.lower(), "why": why, **({"owner_rep_id": owner.id} if owner else {})}
    if actor.via == SMS and rep is not None:  # a line an hour, an answer every 10 minutes (``refusal_answers``)
        return refuse_sms(session, rep, now, EventKind.UPDATE_SMS_REFUSED, detail, answer, incident.id,
                          command.lower())
    log_refusal(session, now, EventKind.UPDATE_SMS_REFUSED, actor.name or "rep", actor.via, incident.id, detail)
    return answer


def acted_sms(incident: Incident, who: str, command: str, words: str = "", minutes: int = 0,
              lang: str = REP_LANG, via: str = SMS) -> str:
    """The owner's SMS that ``who`` did ``command`` through ``via`` on their incident, in ``lang``: ``words`` the
    update's text, the proposal or who agreed, ``minutes`` the interval of an EVERY (worded by ``update_text.every``)."""
    key = f"{_WORDS_OF.get(via, 'dash')}_acted_{_ACTED.get(command, 'proposal')}"
    return text(key, lang, ref=incident.reference, company=company_name(incident, lang), who=who,
                text=" ".join(words.split())[:QUOTE_LIMIT], every=every(minutes, lang) if minutes else "")


def tell_owner(session: Session, actor: Actor, incident: Incident, command: str, words: str, now: datetime,
               minutes: int = 0) -> None:
    """Text the incident's owner (the managers once the owner was deactivated: ``oncall.owner_or_managers``) what
    ``actor``, who is not the owner, did (``acted_sms``: ``words`` the update's text, the proposal or who agreed,
    ``minutes`` the interval). Nothing when ``actor`` owns it or nobody does."""
    owner = incident_owner(session, incident)
    if owner is None or owner.id == actor.rep_id:
        return
    body = acted_sms(incident, actor.name or "A rep", command, words, minutes, via=actor.via)
    told = []
    for reader in owner_or_managers(session, owner):
        if reader.phone and reader.id != actor.rep_id:
            queue_delivery(session, channel=DeliveryChannel.SMS, to=reader.phone, purpose=ACTED_PURPOSE,
                           recipient="owner" if reader.id == owner.id else "manager", body=body, now=now,
                           incident_id=incident.id)
            told.append(reader.id)
    log_event(session, at=now, actor=actor.name or "rep", kind=EventKind.OWNER_TOLD_OF_SMS, incident_id=incident.id,
              detail={"command": command.lower(), "owner_rep_id": owner.id, "told_rep_ids": told, "via": actor.via})
