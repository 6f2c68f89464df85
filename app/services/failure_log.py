"""Which failed attempts of a page in retry are written (a warning and a ``page_send_failed`` line), and what a
line says of the attempts before it that were not: a page retried every 6 s through a Twilio outage wrote about
600 of each an hour (session 33), tens of thousands for an outage of an hour, burying the timeline and the report.

Every attempt still updates its page (``attempts``, ``last_error``): only the writing is thinned.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import IncidentEvent, Page

LOGGED_FIRST = 3  # the first tries (2 and 4 s apart) are each written: a short fault reads attempt by attempt
# then at most one line per page this often: an outage of an hour writes about 15 per page, not 600. At most half of
# /healthz's window (``paging_health.WINDOW``, 10 min): a page failing throughout leaves a line in every window
# /healthz reads, and that line counts the attempts it stands for, so it still reads "failing"
LOG_EVERY = timedelta(minutes=5)
# the detail of a line written after attempts that were not: how many failed since the last line of the page (this
# one included), and when that line was (``last_logged_at``); lines without it stand for one attempt
COVERED = "failed_since_last_logged"


def attempts_written(detail: dict, after: datetime | None = None) -> int:
    """How many failed attempts a ``page_send_failed`` line stands for (1 for every line before session 34); with
    ``after`` (a send accepted then), those known to come after it: all when its page's line before was written
    after it, else only its own (which of the others came after is not known)."""
    covered = detail.get(COVERED)
    if not isinstance(covered, int) or covered < 2:
        return 1
    if after is not None and _instant(detail.get("last_logged_at")) < after:
        return 1
    return covered


def _instant(value: object) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def line_for(session: Session, page: Page, now: datetime, always: bool) -> dict | None:
    """Whether the failed attempt ``page.attempts`` is written: None if not, else what its line adds to the detail
    ({} or the attempts it stands for). ``always``: its last attempt, or the one that calls its person meanwhile."""
    if page.attempts <= LOGGED_FIRST:
        return {}
    last = _last_written(session, page)
    if last is None:  # none on record (a dead run's attempts, lines of another release): this one is
        return {}
    attempt, at = last
    if not always and now - at < LOG_EVERY:
        return None
    covered = page.attempts - attempt
    return {COVERED: covered, "last_logged_at": at.isoformat()} if covered > 1 else {}


def _last_written(session: Session, page: Page) -> tuple[int, datetime] | None:
    """The attempt and time of the page's last ``page_send_failed`` line (a few per page and hour: read them)."""
    rows = session.execute(select(IncidentEvent.at, IncidentEvent.detail).where(
        IncidentEvent.incident_id == page.incident_id, IncidentEvent.kind == EventKind.PAGE_SEND_FAILED)
        .order_by(IncidentEvent.id.desc()))
    for at, detail in rows:
        if (detail or {}).get("page_id") == page.id and isinstance((detail or {}).get("attempt"), int):
            return detail["attempt"], at
    return None
