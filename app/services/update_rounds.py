"""Whether a customer update answers the round the schedule owes, or is an extra: the one rule, pure (no database).

A round is one update owed by the schedule, which starts only when the customer was reached (the escalation core's
``Decision.start_updates``: a callback a person answered, a self-reported call, an e-mail contact). An update
answers the round open when it is written, on time or late (early within the interval is on time: the next round
is then due one interval after it). An update answers no round, is counted *extra* and moves no due time when:

- no schedule runs: the customer was not reached yet (or the answer that started it was withdrawn): nothing is owed;
- the schedule is paused: a resolution proposal awaits the customer's answer;
- it comes less than a quarter of the interval after the update that answered the previous round, and the round
  open is not yet due: a second message minutes (or seconds) after the last is a follow-up to it, not the next
  round delivered early; the next round stays due when it was.

The report counts each update by the ``round`` its log line records (0: extra), so the figures are recomputed from
the log alone and lines written before this rule keep the count they were written with.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

TOO_SOON_SHARE = 4  # an update within a quarter of the interval of the previous answered one adds to it


class Extra(StrEnum):
    """Why an update answers no round (the ``extra`` of its ``customer_update_sent`` line)."""

    NOT_REACHED = "not_reached"  # no schedule runs: no callback (or e-mail contact) reached the customer yet
    PAUSED = "paused"  # a resolution proposal awaits the customer's answer
    TOO_SOON = "too_soon"  # soon after the update that answered the previous round, the round open not yet due


# why an update answered no round, as a record reads it (the timeline, the incident's Updates page); lines written
# before the reason was recorded read "none was owed"
RECORDED_WHY = {Extra.NOT_REACHED: "none is owed before a callback reaches the customer",
                Extra.PAUSED: "updates were paused while a resolution proposal awaited the customer's answer",
                Extra.TOO_SOON: "it followed the last update by less than a quarter of the interval"}


def recorded_why(extra: object) -> str:
    """What a record says of why an update answered no round (``extra`` as its log line holds it, or None)."""
    return RECORDED_WHY.get(str(extra), "none was owed")  # a StrEnum's members are keyed by their value too


def why_extra(*, updating: bool | None, next_due_at: datetime | None, last_answered_at: datetime | None,
              interval_minutes: int, now: datetime) -> Extra | None:
    """None when an update written ``now`` answers the round owed, else why it is an extra.

    ``updating``: None when the incident has no schedule running (none yet, or withdrawn), False when it is paused
    (a proposal awaits the customer's answer), True when updates are owed; ``next_due_at``: the round open's due
    time; ``last_answered_at``: when the update that answered a round was last written (None: none yet).
    """
    if updating is None:
        return Extra.NOT_REACHED
    if not updating or next_due_at is None:
        return Extra.PAUSED
    if next_due_at <= now:  # an overdue round is answered by whatever comes, however soon after the last
        return None
    if last_answered_at is not None and now - last_answered_at < timedelta(minutes=interval_minutes) / TOO_SOON_SHARE:
        return Extra.TOO_SOON
    return None
