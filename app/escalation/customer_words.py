"""When a customer's texted words reach the people working their incident: a rule of the 15-minute promise (pure).

The receipt invites them to "reply to add details" (a better number, an e-mail, a second outage): while the callback
is still owed, those words must reach the rep before the call they concern. Once the customer was reached, a chatty
customer's later words wait for the quiet quarter hour (one SMS per reader every 15 minutes).

Words naming a phone number or an e-mail address (``names_contact``: "call me back on +1 212 555 0199 instead") are
never held: they say how to reach the customer, and an outside probe's customer's new callback number, their tenth
text, was held until the callback deadline while the rep called the old, dying number. And when a callback starts
(the rep's CALL, a page call's 2, the board's button: ``callbacks.open_callback``), words still held go to the readers
at once (``held_words.release``): the rep reads them before the customer's phone rings, not at the deadline.
"""

from __future__ import annotations

import re
from datetime import datetime

import phonenumbers

from app.escalation.model import Snapshot
from ivr_flows.validate import is_valid_email

# while the callback is owed, at most this many of the customer's texts go to the readers at once (each one SMS per
# reader); more wait for the quiet quarter hour, but never past the callback deadline
AT_ONCE_WHILE_OWED = 5
_PUNCTUATION = "<>()[]{}\"'.,;:!?«»„“”‚‘’"


def names_contact(words: str, region: str | None) -> bool:
    """The words name a phone number (read as in ``region``, the incident's; None: only numbers with their +) or an
    e-mail address (the IVR's rule, ``is_valid_email``); a reference, a count or a time is no number."""
    if any(True for _ in phonenumbers.PhoneNumberMatcher(words, region or "ZZ")):
        return True
    return any(is_valid_email(token.strip(_PUNCTUATION)) for token in re.split(r"\s+", words) if "@" in token)


def words_go_at(snap: Snapshot, quiet_until: datetime | None, texted_while_owed: int, now: datetime,
                contact: bool = False) -> datetime:
    """When a customer's words go to the incident's readers (``now``: at once).

    ``contact``: they name a phone number or an e-mail address (``names_contact``): at once, whatever came before.

    ``quiet_until``: when the quiet quarter hour since their last texted words ends (None or past: it is over);
    ``texted_while_owed``: how many of their texts went to the readers so far while the callback was owed. While the
    callback is owed (nobody reached the customer yet), they go at once up to ``AT_ONCE_WHILE_OWED``, then with the
    quarter hour's end or the deadline, whichever comes first (a deadline already past holds them no more than the
    quarter hour). Once the customer was reached (or it is closed), the quarter hour holds them."""
    if contact or quiet_until is None or quiet_until <= now:
        return now
    if snap.customer_reached:
        return quiet_until
    if texted_while_owed < AT_ONCE_WHILE_OWED:
        return now
    return min(quiet_until, snap.due_at) if snap.due_at > now else quiet_until
