"""When a customer's texted words reach the people working their incident: a rule of the 15-minute promise (pure).

The receipt invites them to "reply to add details" (a better number, an e-mail, a second outage): while the callback
is still owed, those words must reach the rep before the call they concern. Once the customer was reached, a chatty
customer's later words wait for the quiet quarter hour (one SMS per reader every 15 minutes).
"""

from __future__ import annotations

from datetime import datetime

from app.escalation.model import Snapshot

# while the callback is owed, at most this many of the customer's texts go to the readers at once (each one SMS per
# reader); more wait for the quiet quarter hour, but never past the callback deadline
AT_ONCE_WHILE_OWED = 5


def words_go_at(snap: Snapshot, quiet_until: datetime | None, texted_while_owed: int, now: datetime) -> datetime:
    """When a customer's words go to the incident's readers (``now``: at once).

    ``quiet_until``: when the quiet quarter hour since their last texted words ends (None or past: it is over);
    ``texted_while_owed``: how many of their texts went to the readers so far while the callback was owed. While the
    callback is owed (nobody reached the customer yet), they go at once up to ``AT_ONCE_WHILE_OWED``, then with the
    quarter hour's end or the deadline, whichever comes first (a deadline already past holds them no more than the
    quarter hour). Once the customer was reached (or it is closed), the quarter hour holds them."""
    if quiet_until is None or quiet_until <= now:
        return now
    if snap.customer_reached:
        return quiet_until
    if texted_while_owed < AT_ONCE_WHILE_OWED:
        return now
    return min(quiet_until, snap.due_at) if snap.due_at > now else quiet_until
