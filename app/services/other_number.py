"""A rep's other number (``phone_alt``): where a page that failed for good goes next, before the level gives up.

The escalation core decides (``PageFailed.other_number``, ``Audience.OTHER_NUMBER``); this module finds the fact.
Probe Q (Q1): Twilio refused the primary's SMS (21610) and call (21215), the managers were paged, and the on-call
YAML held an alternate number for that rep that nothing ever dialled.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Page, Rep


def other_number(session: Session, page: Page) -> str:
    """The number ``page``'s rep may still be paged on in its place: their ``phone_alt``, when the page did not go
    there and no page of its level (its step; for a page without one, since it was written) went there on its
    channel for its purpose yet; "" when there is none (no rep, deactivated, no ``phone_alt``, tried already).

    Only from the other number onward, never back: a page to ``phone_alt`` that fails has no other number."""
    rep = session.get(Rep, page.rep_id) if page.rep_id is not None else None
    if rep is None or not rep.active or not rep.phone_alt or rep.phone_alt == page.to_number:
        return ""
    level = Page.step_id == page.step_id if page.step_id is not None else Page.created_at >= page.created_at
    tried = session.scalar(select(Page.id).where(
        Page.incident_id == page.incident_id, Page.to_number == rep.phone_alt, Page.channel == page.channel,
        Page.purpose == page.purpose, level).limit(1))
    return "" if tried is not None else rep.phone_alt
