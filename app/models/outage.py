"""Known platform outages, the incidents linked to them, and non-critical callers (issue 11)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class Outage(Base):
    """A platform outage a manager declared; callers hear about it while it is declared."""

    __tablename__ = "outages"

    id: Mapped[int] = mapped_column(primary_key=True)
    what_fails: Mapped[str] = mapped_column(String(300))
    what_fails_de: Mapped[str] = mapped_column(String(300), default="")  # German wording, when given
    # the service that fails ("api", "smtp", "both"; "" not said): a new incident is linked only when its caller
    # named it (``outages.belongs``); "" links every new incident, as before it was asked
    affected_service: Mapped[str] = mapped_column(String(16), default="", server_default="")
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    next_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declared_by: Mapped[str] = mapped_column(String(200))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    resolved_by: Mapped[str] = mapped_column(String(200), default="")
    # what the resolution said (and its German wording, when given): proposed again to an incident whose callback
    # is verified only after the outage was resolved (``outages.propose_after_callback``)
    resolution_summary: Mapped[str] = mapped_column(Text, default="")
    resolution_summary_de: Mapped[str] = mapped_column(Text, default="")


class OutageLink(Base):
    """An incident that belongs to an outage."""

    __tablename__ = "outage_links"
    __table_args__ = (UniqueConstraint("outage_id", "incident_id", name="uq_outage_links_outage_incident"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    linked_by: Mapped[str] = mapped_column(String(200), default="system")


class NonCriticalContact(Base):
    """A caller whose problem is not critical: logged, nobody paged, offered how to open a ticket."""

    __tablename__ = "non_critical_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    caller_id: Mapped[str] = mapped_column(String(32), default="")
    language: Mapped[str] = mapped_column(String(8), default="en-US")
    sms_to: Mapped[str] = mapped_column(String(20), default="")  # where the ticket how-to went, if accepted
    note: Mapped[str] = mapped_column(Text, default="")
