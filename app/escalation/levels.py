"""When each escalation level of a policy pages: a pure rule of the 15-minute promise."""

from __future__ import annotations

from datetime import datetime, timedelta

# A later level never pages less than this after the first level actually paged (unless the policy itself puts them
# at the same minute): its "again by voice" would ring a phone that is still ringing with the first page, and its next
# person would be paged before the first had any chance to answer.
LEVEL_WAIT_AT_LEAST = timedelta(minutes=1)
BEFORE_THE_ALERT = timedelta(seconds=1)  # a level re-armed to page by the at-risk alert pages this long before it


def level_due_times(start: datetime, now: datetime, delays_minutes: list[int], at_risk_at: datetime) -> list[datetime]:
    """When each level pages, for a policy whose levels wait ``delays_minutes`` from ``start`` (the promise's start),
    planned at ``now``; ``at_risk_at``: when the at-risk alert warns the managers and everyone paged.

    As the policy says when ``now`` is still before the first level's time. Planned late (an incident rescued minutes
    after its caller hung up mid-intake: probe A F5, levels 0 and 1 paged in the same second, the primary rung twice
    at once, the secondary with no chance for the primary), a later level waits its policy's time after the first
    level from when the first actually pages, not from ``start``; but it pages by the at-risk alert at the latest, so
    the alert reaches everyone the policy meant to page by then, and never less than ``LEVEL_WAIT_AT_LEAST`` after
    the first (past the at-risk time, a minute still comes before the deadline when one is left). A level is never
    earlier than the policy says."""
    if not delays_minutes:
        return []
    first_delay = timedelta(minutes=delays_minutes[0])
    first = max(start + first_delay, now)
    times = [first]
    for minutes in delays_minutes[1:]:
        planned = start + timedelta(minutes=minutes)
        wait = timedelta(minutes=minutes) - first_delay  # the policy's wait after the first level
        kept = first + wait
        latest = max(at_risk_at, first + min(wait, LEVEL_WAIT_AT_LEAST))
        times.append(max(planned, min(kept, latest), now))
    return times


def rearmed_at(now: datetime, wait: timedelta, at_risk_at: datetime, due_at: datetime) -> datetime:
    """When a level that stood down (the customer reached, or the incident closed) pages again, at ``now`` (the answer
    withdrawn as too short, the close undone): ``wait`` (its policy's wait after the first level) from now; while the
    deadline ``due_at`` is still ahead, just before the at-risk alert at the latest (a second before it, so the alert,
    which goes to everyone paged, reaches them whichever step runs first) and never less than ``LEVEL_WAIT_AT_LEAST``
    from now, as ``level_due_times`` plans a late incident, so it pages before the deadline (a second probe's
    3-second callback withdrawn 2 minutes before the deadline paged the next level 51 s after it)."""
    kept = now + wait
    if due_at <= now:
        return kept
    return min(kept, max(at_risk_at - BEFORE_THE_ALERT, now + min(wait, LEVEL_WAIT_AT_LEAST)))
