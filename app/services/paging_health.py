"""Whether pages reach Twilio now, read from the event log's recent send attempts (``/healthz``'s ``paging``).

A Twilio outage (every attempt answered 5xx, or not at all) leaves the hotline taking and recording callers, so
``/healthz`` stays 200 for the load balancer; this is what tells monitoring that no rep is being paged meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import IncidentEvent
from app.services.failure_log import attempts_written

WINDOW = timedelta(minutes=10)  # attempts older than this say nothing about now
# failed attempts in a row (none accepted since) that make it "failing": one 5xx retried 2 s later is no alarm,
# three are the first three tries of a page (2 and 4 s apart), or several pages failing at once
FAILING_AFTER = 3


@dataclass(frozen=True)
class PagingHealth:
    """``state`` "failing" when the last FAILING_AFTER or more page attempts within WINDOW failed and none was
    accepted after them; else "ok" (also when nothing was paged lately: nothing proves otherwise)."""

    state: str
    failed_attempts: int  # failed attempts since the last accepted one (their lines within WINDOW)
    failing_since: datetime | None  # the first line of them
    last_accepted_at: datetime | None  # the last page Twilio accepted within WINDOW
    # of those failures, the pages given up (their line ``final``): refused for good (21211: a number Twilio does not
    # take) or failed past their retry time, so never sent again
    given_up: int = 0
    still_tried: int = 0  # the other pages of those failures: retried

    def what_follows(self) -> str:
        """What becomes of the failed pages, for /healthz and the board: an outside probe's three pages refused
        for good (21211) read "each page is retried", which pointed the operator at a Twilio outage, not at the
        rep's number."""
        if not self.given_up:
            return "each page is sent once Twilio answers again"
        others = "; the others are sent once Twilio answers again" if self.still_tried else ""
        return (f"{self.given_up} of those pages were given up and are not sent again: Twilio refused them for good "
                "(a number it does not take, say error 21211) or they failed past their retry time. Check the "
                f"paged reps' numbers; the incident pages name each failed page and Twilio's error{others}")

    def as_json(self) -> dict[str, object]:
        """The ``paging`` object of /healthz."""
        return {"state": self.state, "failed_attempts": self.failed_attempts,
                "failing_since": self.failing_since.isoformat() if self.failing_since else None,
                "last_accepted_at": self.last_accepted_at.isoformat() if self.last_accepted_at else None}


def paging_health(session: Session, now: datetime) -> PagingHealth:
    """Page sends accepted and failed in the last WINDOW (two range reads on the log's time index).

    A page in a long retry writes a line per ``failure_log.LOG_EVERY``, not per attempt: its line counts the
    attempts it stands for (failed in a row since its page's line before), as one attempt when a send was accepted
    since that line (which of them came after it is not known)."""
    since = now - WINDOW
    accepted = session.scalar(select(func.max(IncidentEvent.at)).where(
        IncidentEvent.at >= since, IncidentEvent.kind == EventKind.PAGE_SENT))
    lines = session.execute(select(IncidentEvent.at, IncidentEvent.detail).where(
        IncidentEvent.at > accepted if accepted else IncidentEvent.at >= since,
        IncidentEvent.kind == EventKind.PAGE_SEND_FAILED)).all()
    failed = sum(attempts_written(detail or {}, after=accepted) for _, detail in lines)
    first = min((at for at, _ in lines), default=None)
    pages = {(detail or {}).get("page_id"): bool((detail or {}).get("final")) for _, detail in lines}
    given_up = sum(pages.values())
    return PagingHealth(state="failing" if failed >= FAILING_AFTER else "ok", failed_attempts=failed,
                        failing_since=first if failed else None, last_accepted_at=accepted, given_up=given_up,
                        still_tried=len(pages) - given_up)

