"""Due steps put off because their incident's row was locked, recorded where ``/healthz`` reads them cheaply.

A step never waits for its incident's row lock (``steps.run_step``): it stays pending and is tried again every
``LOCKED_RETRY``. Until session 44 only the worker's log said so, once per step: an outside probe held an incident's
row locked and its pages, at-risk alert and breach step waited as long, while ``/healthz`` said "ok". The first time
a step is put off since its last run is kept on its row (``DueStep.put_off_at``; a run that claims it clears it), and
``/healthz`` warns while a step pending has been put off for longer than ``WARN_AFTER``, with counts only (it answers
anyone who can reach it, and a reference is what a repeat caller proves: SECURITY.md); the board names the incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import DueStep, Incident, StepStatus

# Two tries: a lock held for a moment (another request of the incident) puts a step off once, and is no news
WARN_AFTER = timedelta(seconds=6)
NAMED_AT_MOST = 5  # incidents a warning names; it counts the others


@dataclass(frozen=True)
class PutOff:
    """The steps put off on a locked incident for longer than ``WARN_AFTER``: how many, and their incidents."""

    count: int
    incidents: int
    references: tuple[str, ...]  # the incidents of the longest put off first, at most NAMED_AT_MOST
    since: datetime | None  # when the longest put off one was first put off

    def named(self) -> str:
        """The incidents' references, "and N more" for those not named."""
        more = self.incidents - len(self.references)
        return ", ".join(self.references) + (f" and {more} more" if more > 0 else "")

    def as_json(self) -> dict:
        """The /healthz shape: counts, no reference (an outside probe read open incidents' references there)."""
        return {"count": self.count, "incidents": self.incidents, "since": self.since.isoformat() if self.since else None}


def note_put_off(session: Session, step_id: int, now: datetime) -> None:
    """Step ``step_id`` was put off at ``now`` (its incident locked): kept on its row, the first time since its last
    run (in the transaction that re-arms its job)."""
    session.execute(update(DueStep).where(DueStep.id == step_id, DueStep.status == StepStatus.PENDING)
                    .values(put_off_at=func.coalesce(DueStep.put_off_at, now))
                    .execution_options(synchronize_session=False))


def put_off_now(session: Session, now: datetime) -> PutOff:
    """The pending steps first put off more than ``WARN_AFTER`` before ``now`` (a read of the few pending rows)."""
    rows = session.execute(
        select(DueStep.put_off_at, Incident.reference).join(Incident, Incident.id == DueStep.incident_id)
        .where(DueStep.status == StepStatus.PENDING, DueStep.put_off_at <= now - WARN_AFTER)
        .order_by(DueStep.put_off_at, DueStep.id)).all()
    references = tuple(dict.fromkeys(reference for _, reference in rows))  # an incident's steps named once
    return PutOff(len(rows), len(references), references[:NAMED_AT_MOST], rows[0][0] if rows else None)
