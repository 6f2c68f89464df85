"""A repeat caller's words or recording added to their open incident by phone, texted at once to its readers.

A customer who adds to their incident by SMS has their words texted to whoever works it (``customer_sms``); one who
calls again and says them ("please call me on my mobile instead") must reach the same people: the caller believes
the engineer about to call them knows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.models import DeliveryChannel, Incident, UpdateDeliveryStatus
from app.prompts import text
from app.services.deliveries import queue_delivery
from app.services.named_numbers import note_for
from app.services.oncall import customer_readers, reader_role
from app.services.page_text import company_name
from app.services.update_text import QUOTE_LIMIT

PURPOSE = "caller_added"  # the deliveries' purpose: "SMS caller_added to the owner" on the timeline


def tell_readers(session: Session, incident: Incident, words: str, recording_url: str, now: datetime) -> dict:
    """Text a repeat caller's addition at once to the incident's readers (``oncall.customer_readers``: the owner,
    the managers once the owner was deactivated, before anyone acknowledged the reps paged so far), never to the
    customer; returns who was told, for the ``information_added`` line (``customer_sms_message``'s keys)."""
    reps, owner = customer_readers(session, incident)
    body = addition_text(incident, words, recording_url)
    told: dict[int, str] = {}
    for rep in reps:
        if not rep.phone:
            continue
        role = reader_role(rep, owner)
        delivery = queue_delivery(session, channel=DeliveryChannel.SMS, to=rep.phone, purpose=PURPOSE, recipient=role,
                                  body=body, now=now, incident_id=incident.id)
        if delivery is not None and delivery.status == UpdateDeliveryStatus.QUEUED:  # not a number that texted STOP
            told[rep.id] = role
    return {"owner_told": bool(told), "owner_rep_id": owner.id if owner else None,
            "told_rep_ids": sorted(told), "told": sorted(set(told.values()))}


def addition_text(incident: Incident, words: str, recording_url: str) -> str:
    """The readers' SMS: the caller's words (quoted as a customer's SMS is, to QUOTE_LIMIT) and, when they left one,
    that a recording is on the incident page (a recording's URL is never texted: the dashboard plays it)."""
    quoted = " ".join(words.split())[:QUOTE_LIMIT]
    ref, company = incident.reference, company_name(incident)
    if not quoted:
        return text("caller_added_recording_only", ref=ref, company=company)
    return text("caller_added_to_owner", ref=ref, company=company, text=quoted,
                recording=note_for(incident, words) + (text("caller_added_with_recording") if recording_url else ""))
