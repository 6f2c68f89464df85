"""A rep's other number (``phone_alt``): where a page that failed for good goes next, before the level gives up.

The escalation core decides (``PageFailed.other_number``, ``Audience.OTHER_NUMBER``; for a bridged callback's call
to the rep, ``RepNotReached.other_number``); this module finds the fact.
Probe Q (Q1): Twilio refused the primary's SMS (21610) and call (21215), the managers were paged, and the on-call
YAML held an alternate number for that rep that nothing ever dialled.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import Callback, IncidentEvent, Page, Rep


def alternate(rep: Rep | None, tried: str) -> str:
    """The rep's other number when a message to ``tried`` failed for good: their ``phone_alt`` while they are active,
    unless that is the number tried; "" when there is none. Only onward, never back to their own number."""
    if rep is None or not rep.active or not rep.phone_alt or rep.phone_alt == tried:
        return ""
    return rep.phone_alt


def other_number(session: Session, page: Page) -> str:
    """The number ``page``'s rep may still be paged on in its place: their ``phone_alt``, when the page did not go
    there and no page of its level (its step; for a page without one, since it was written) went there on its
    channel for its purpose yet; "" when there is none (no rep, deactivated, no ``phone_alt``, tried already).

    Only from the other number onward, never back: a page to ``phone_alt`` that fails has no other number."""
    rep = session.get(Rep, page.rep_id) if page.rep_id is not None else None
    if not alternate(rep, page.to_number):
        return ""
    level = Page.step_id == page.step_id if page.step_id is not None else Page.created_at >= page.created_at
    tried = session.scalar(select(Page.id).where(
        Page.incident_id == page.incident_id, Page.to_number == rep.phone_alt, Page.channel == page.channel,
        Page.purpose == page.purpose, level).limit(1))
    return "" if tried is not None else rep.phone_alt


def rep_leg_number(session: Session, callback: Callback, rep: Rep) -> str:
    """The number a bridged callback's call to ``rep`` dials: their own, or their other number once a call to their
    own failed for good (the callback's ``callback_rep_other_number`` line)."""
    return rep.phone_alt or rep.phone if rep_leg_moved_at(session, callback) is not None else rep.phone


def rep_leg_other_number(session: Session, callback: Callback, rep: Rep | None, tried: str) -> str:
    """The number a bridged callback's call to ``rep`` may still be made on, its call to ``tried`` having failed for
    good (Twilio refused it, or took it and reported it ``failed``): their other number (``alternate``), once per
    callback; "" when there is none or it was tried."""
    return "" if rep_leg_moved_at(session, callback) is not None else alternate(rep, tried)


def rep_leg_moved_at(session: Session, callback: Callback) -> datetime | None:
    """When the callback's call to the rep moved to their other number (its ``callback_rep_other_number`` line);
    None when it never did."""
    return _move(session, callback)[0]


def left_rep_call(session: Session, callback: Callback, call_sid: str) -> bool:
    """Whether ``call_sid`` is the call to the rep's own number that failed after Twilio took it, which the callback
    left for their other number (its ``callback_rep_other_number`` line names it): its late or repeated statuses
    are not the callback's call."""
    return bool(call_sid) and _move(session, callback)[1] == call_sid[:64]


def _move(session: Session, callback: Callback) -> tuple[datetime | None, str]:
    for at, detail in session.execute(select(IncidentEvent.at, IncidentEvent.detail).where(
            IncidentEvent.incident_id == callback.incident_id,
            IncidentEvent.kind == EventKind.CALLBACK_REP_OTHER_NUMBER).order_by(IncidentEvent.id)):
        if (detail or {}).get("callback_id") == callback.id:
            return at, str(detail.get("failed_call") or "")
    return None, ""
