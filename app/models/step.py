"""Due steps: every deadline action is a row first, a queued job second."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, StrEnumColumn, UTCDateTime


class StepKind(StrEnum):
    """What a step does when it is due."""

    RECEIPT = "receipt"  # receipt to the customer (SMS, else e-mail): reference and callback time
    PAGE = "page"  # escalation level ``level`` of the incident's policy
    AT_RISK = "at_risk"  # T+10: no callback started yet -> managers and everyone paged
    BREACH = "breach"  # T+15: record the breach, alert managers
    REPAGE = "repage"  # after a breach: page again every few minutes until a callback
    # the rota handed over while nobody owned the incident: whoever is on call since and never had its page gets it
    # (level = whole minutes since the incident was captured; written by the watchdog: ``hand_offs``)
    HANDOFF = "handoff"
    # issue 11: the customer's updates and the resolution (level = update round / proposal number)
    UPDATE_REMINDER = "update_reminder"  # shortly before an update is due: remind the owner
    UPDATE_DUE = "update_due"  # the update was not written by its due time: escalate to managers
    RESOLUTION_EXPIRY = "resolution_expiry"  # the customer stayed silent: resolved, not confirmed
    # a rep asked to connect while the caller was on the hotline: connect once their call has ended
    # (level = the check's number; the end of the call connects at once, this is its backstop)
    CONNECT_AFTER_CALL = "connect_after_call"
    # the callback of an incident linked to an outage resolved before it was verified: propose the outage's
    # resolution now (level = the outage's id)
    OUTAGE_PROPOSAL = "outage_proposal"


class StepStatus(StrEnum):
    """A step is pending until one run claims it with a compare-and-set."""

    PENDING = "pending"
    DONE = "done"


class DueStep(Base):
    """One action owed to an incident at ``due_at``."""

    __tablename__ = "due_steps"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "level", name="uq_due_steps_incident_kind_level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[StepKind] = mapped_column(StrEnumColumn(StepKind, 32))
    level: Mapped[int] = mapped_column(Integer, default=0)  # escalation level, or repage round
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[StepStatus] = mapped_column(StrEnumColumn(StepStatus), default=StepStatus.PENDING, index=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(64), default="")  # what the run did (or why it did nothing)
    # when a run first found its incident's row locked by another transaction and put it off (``steps._put_off``),
    # since its last run; NULL when it never was. /healthz warns of a step still pending long after this
    put_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
