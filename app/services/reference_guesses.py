"""The limit on keying wrong ticket numbers and incident references at the intake's ticket prompt.

A keyed number that is an open incident's reference proves that incident (its deadline, the last digits of its
callback number, adding words the reps read as the customer's, a live bridge to a rep announced as the customer);
one that is a ticket's names the ticket. References are six digits: an outside probe guessed 30 in one second from
one caller ID, over 15 calls, with nothing to stop it. Support PINs lock after five failures an hour per account;
wrong numbers keyed here are counted likewise, per caller ID and for all callers together, in the event log
(``EventKind.KEYED_NUMBER_NOT_FOUND``, one line per wrong number, its digits never written). Past either limit the
number is not looked up: the caller goes on to report as a new caller (a critical caller is never turned away), and
the number they keyed stays on the report for the engineer.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import IncidentEvent
from app.services.advisory_locks import GUESS_SPACE, hold
from app.services.events import log_event
from ivr_flows.validate import is_valid_phone

WRONG_PER_CALLER = 5  # wrong numbers keyed from one caller ID (all withheld ones together) in WINDOW
WRONG_OVERALL = 60  # from every caller together in WINDOW: a spoofer changing caller ID each call
WINDOW = timedelta(hours=1)
WITHHELD = "withheld"
log = logging.getLogger("app.security")


def caller_key(caller: str) -> str:
    """What a caller's wrong numbers count under: a hash of their caller ID (never the number), or one key for all
    withheld and invalid ones (anyone can call withheld)."""
    if not is_valid_phone(caller):
        return WITHHELD
    return hashlib.sha256(caller.encode()).hexdigest()[:16]


def may_look_up(session: Session, caller: str, now: datetime) -> bool:
    """Whether a number keyed from ``caller`` is looked up: False once the caller, or all callers together, keyed
    the limit of wrong numbers in the last hour (logged). Holds the count's lock until the transaction ends, so
    lookups at the same moment are counted one after another."""
    hold(session, GUESS_SPACE, "keyed numbers")
    key = caller_key(caller)
    recent = select(func.count(IncidentEvent.id)).where(IncidentEvent.kind == EventKind.KEYED_NUMBER_NOT_FOUND,
                                                       IncidentEvent.at > now - WINDOW)
    mine = session.scalar(recent.where(IncidentEvent.detail["caller"].as_string() == key)) or 0
    if mine >= WRONG_PER_CALLER:
        log.warning("keyed number not looked up: caller %s keyed %d wrong ones in %s", key, mine, WINDOW)
        return False
    overall = session.scalar(recent) or 0
    if overall >= WRONG_OVERALL:
        log.warning("keyed number not looked up: %d wrong ones keyed by all callers in %s", overall, WINDOW)
        return False
    return True


def note_wrong(session: Session, call_sid: str, caller: str, digits: str, now: datetime) -> None:
    """Count and log a keyed number that is no open ticket's and no open incident's reference."""
    key = caller_key(caller)
    log_event(session, at=now, actor="ivr", kind=EventKind.KEYED_NUMBER_NOT_FOUND, call_sid=call_sid,
              detail={"caller": key, "digits": len(digits)})
    log.info("keyed number not found (%d digits) on call %s from caller %s", len(digits), call_sid, key)
