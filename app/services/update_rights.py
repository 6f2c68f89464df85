"""Who may do what by SMS after the callback (README, *After the callback*): the one rule for UPDATE, EVERY, PROPOSE
and WORKAROUND texted to the hotline, and the owner's word when someone else acted on their incident.

The interval is agreed with the customer, and resolution is proposed, by the owner (``oncall.incident_owner``: the
owner of the updates, else the rep who acknowledged) or a manager. A rep who was only paged may write an update
(they may know what changed), and the owner is told; for the rest they are refused with who owns it and how to
take it over. While nobody owns the incident the reps paged for it act as before (the first to agree an interval
becomes the owner of its updates). Until this change an outside probe's paged rep, who never spoke to the customer,
told them "as agreed, every 15 minutes" twice against the owner's interval and proposed the resolution, and the
owner heard nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import DeliveryChannel, Incident, Page, Rep
from app.prompts import REP_LANG, text
from app.services.deliveries import queue_delivery
from app.services.events import log_event
from app.services.oncall import incident_owner, owner_or_managers
from app.services.page_text import company_name
from app.services.refusal_answers import refuse_sms
from app.services.update_text import QUOTE_LIMIT, every

OWNERS_ONLY = {"EVERY": "agree_interval", "PROPOSE": "propose", "WORKAROUND": "propose"}
ACTED_PURPOSE = "acted_for_owner"  # the owner's SMS: another rep or a manager acted on their incident


def refusal(session: Session, rep: Rep, incident: Incident, command: str, now: datetime) -> str | None:
    """None when ``rep`` may carry out ``command`` (UPDATE, EVERY, PROPOSE, WORKAROUND) on ``incident`` by SMS;
    else the answer refusing it (logged ``update_sms_refused``; nothing is changed or sent; "" when that answer went
    moments ago: ``refusal_answers``)."""
    owner = incident_owner(session, incident)
    if rep.is_manager or (owner is not None and owner.id == rep.id):
        return None
    paged = session.scalar(select(Page.id).where(Page.incident_id == incident.id, Page.rep_id == rep.id)
                           .limit(1)) is not None
    if not paged:
        why, answer = "not_paged", f"You were not paged for {incident.reference} and do not own it. Nothing was changed."
    elif owner is not None and command in OWNERS_ONLY:
        why = "not_owner"
        answer = text(f"sms_{OWNERS_ONLY[command]}_owner_only", ref=incident.reference, owner=owner.name)
    else:
        return None
    # a line an hour, an answer every 10 minutes (``refusal_answers``): a phone repeating it costs no more
    return refuse_sms(session, rep, now, EventKind.UPDATE_SMS_REFUSED,
                      {"command": command.lower(), "why": why, **({"owner_rep_id": owner.id} if owner else {})},
                      answer, incident.id, command.lower())


def acted_sms(incident: Incident, who: str, command: str, words: str = "", minutes: int = 0,
              lang: str = REP_LANG) -> str:
    """The owner's SMS that ``who`` did ``command`` by SMS on their incident, in ``lang``: ``words`` the update's
    text or the proposal, ``minutes`` the interval of an EVERY (worded by ``update_text.every``)."""
    what = {"UPDATE": "sms_acted_update", "EVERY": "sms_acted_interval"}.get(command, "sms_acted_proposal")
    return text(what, lang, ref=incident.reference, company=company_name(incident, lang), who=who,
                text=" ".join(words.split())[:QUOTE_LIMIT], every=every(minutes, lang) if minutes else "")


def tell_owner(session: Session, rep: Rep, incident: Incident, command: str, words: str, now: datetime,
               minutes: int = 0) -> None:
    """Text the incident's owner (the managers once the owner was deactivated: ``oncall.owner_or_managers``) what
    ``rep``, who is not the owner, did by SMS (``acted_sms``: ``words`` the update's text or the proposal,
    ``minutes`` the interval). Nothing when ``rep`` owns it or nobody does."""
    owner = incident_owner(session, incident)
    if owner is None or owner.id == rep.id:
        return
    body = acted_sms(incident, rep.name, command, words, minutes)
    told = []
    for reader in owner_or_managers(session, owner):
        if reader.phone and reader.id != rep.id:
            queue_delivery(session, channel=DeliveryChannel.SMS, to=reader.phone, purpose=ACTED_PURPOSE,
                           recipient="owner" if reader.id == owner.id else "manager", body=body, now=now,
                           incident_id=incident.id)
            told.append(reader.id)
    log_event(session, at=now, actor=rep.name, kind=EventKind.OWNER_TOLD_OF_SMS, incident_id=incident.id,
              detail={"command": command.lower(), "owner_rep_id": owner.id, "told_rep_ids": told})
