"""The number a rep or manager reads for a customer update ("customer update 2"): the Nth update owed.

The schedule counts slots (``FollowUp.round``, ``CustomerUpdate.round``, the update steps' ``level``, the events'
``round``): a resolution proposal closes the slot it paused and the schedule resumes at the next one, so after one
update and a rejected proposal the schedule owes round 3. What a person reads is the update owed now counted among
those the customer was owed and sent: one more than the owed updates written for earlier rounds (2 there). An update
sent while none was owed (round 0, during a proposal) answers no round and is not counted. This is the one rule for
that number (SMS, the timeline, the updates page); ``round`` stays the key the steps and the report count by.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CustomerUpdate


def nth(written_rounds: Iterable[object], round_: object) -> int | None:
    """The number round ``round_`` is read as, given the rounds of the incident's updates written (None: no round)."""
    if not isinstance(round_, int | float) or round_ <= 0:
        return None
    earlier = {r for r in written_rounds if isinstance(r, int | float) and 0 < r < round_}
    return 1 + len(earlier)


def update_number(session: Session, incident_id: int, round_: int) -> int | None:
    """The number the incident's round ``round_`` is read as (None for round 0: an update no round owed)."""
    rounds = session.scalars(select(CustomerUpdate.round).where(CustomerUpdate.incident_id == incident_id,
                                                                CustomerUpdate.round > 0,
                                                                CustomerUpdate.round < round_)) if round_ > 0 else []
    return nth(rounds, round_)
