"""Due steps: every deadline action is a row first, a queued job second."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class StepKind(StrEnum):
    """What a step does when it is due."""

    ANNOUNCE = "announce"  # tell the on-call side a new incident exists


class StepStatus(StrEnum):
    """A step is pending until one run claims it with a compare-and-set."""

    PENDING = "pending"
    DONE = "done"


class DueStep(Base):
    """One action owed to an incident at ``due_at``."""

    __tablename__ = "due_steps"
    __table_args__ = (UniqueConstraint("incident_id", "kind", name="uq_due_steps_incident_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[StepKind] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[StepStatus] = mapped_column(String(16), default=StepStatus.PENDING, index=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def job_id(self) -> str:
        """Deterministic RQ job id (no colons)."""
        return f"step-{self.id}"
