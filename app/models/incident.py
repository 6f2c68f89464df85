"""Sev-1 incidents and their append-only event log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models import event_guard
from app.models.base import Base, StrEnumColumn, UTCDateTime
from app.models.event_txid import writing_transaction


class IncidentStatus(StrEnum):
    """Lifecycle of an incident."""

    OPEN = "open"
    RESOLVED = "resolved"


class IncidentSource(StrEnum):
    """How the incident came in."""

    IVR = "ivr"  # the full intake flow
    FALLBACK = "fallback"  # Twilio's Fallback URL: voicemail only
    RESCUED = "rescued"  # call ended or failed mid-intake; saved with what we had


class Incident(Base):
    """A Severity-1 incident with its 15-minute callback deadline."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[IncidentStatus] = mapped_column(StrEnumColumn(IncidentStatus), default=IncidentStatus.OPEN)
    source: Mapped[IncidentSource] = mapped_column(StrEnumColumn(IncidentSource), default=IncidentSource.IVR)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    ticket_number: Mapped[str] = mapped_column(String(20), default="")
    ticket_match: Mapped[str] = mapped_column(String(16), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    callback_phone: Mapped[str] = mapped_column(String(20), default="", index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    problem_text: Mapped[str] = mapped_column(Text, default="")
    recording_url: Mapped[str] = mapped_column(String(500), default="")
    recording_seconds: Mapped[int] = mapped_column(Integer, default=0)
    affected_service: Mapped[str] = mapped_column(String(16), default="")
    language: Mapped[str] = mapped_column(String(8), default="en-US")
    caller_id: Mapped[str] = mapped_column(String(32), default="", index=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    missing_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # the report filters by it
    callback_due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # the escalation policy as it was when the incident opened: later edits do not change it
    escalation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))
    callback_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    callback_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # Twilio's timestamp
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # no callback number: when the owner recorded how they reached the customer by e-mail (ends the chase)
    reached_by_email_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reached_how: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # an escalation level resolved to nobody: the managers were paged at once (shown red on the board)
    nobody_to_page_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # issue 9: how the caller proved who they are ("pin", "reference", "" = not at all)
    caller_verified: Mapped[str] = mapped_column(String(16), default="", server_default="")
    # a "pin" caller who keyed a ticket: the account whose PIN they proved it with (the ticket may move later)
    pin_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # an open incident of the same caller this one may be related to
    related_incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    # the callback of a related incident (linked either way, the same callback number) that reached this incident's
    # customer before a callback of its own did: it counts for this one too (``related_callbacks``). No foreign key:
    # callbacks refer to incidents, and a cycle of foreign keys between the two tables cannot be created or dropped
    # in one go; the callback row is never deleted.
    reached_on_callback_id: Mapped[int | None] = mapped_column(Integer)


# The lines that name an incident's owner (an acknowledgement or a take-over), as literal SQL: the board finds
# them through a partial index, which a planner uses only for a query that repeats this condition verbatim.
OWNER_KINDS = text("kind IN ('acknowledged', 'taken_over')")
REOPEN_LINES = text("kind = 'incident_reopened'")


class IncidentEvent(Base):
    """One line of the append-only log: who did what, when.

    Lines written during a call before its incident exists carry only the
    call SID; the incident's log is its own lines plus those of its call.
    """

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_owner", "incident_id", "at", "id",
                            postgresql_where=OWNER_KINDS, sqlite_where=OWNER_KINDS),
                      Index("ix_incident_events_txid", "txid", "id"),  # the change feed's order
                      # the reopens (few): the updates report leaves out the closes they undid (``reports.updates``)
                      Index("ix_incident_events_reopens", "incident_id", "id", postgresql_where=REOPEN_LINES,
                            sqlite_where=REOPEN_LINES),
                      # a pinned report's lines written after its as_of (none, or a handful)
                      Index("ix_incident_events_written_at", "written_at"),
                      # the updates report's lines of a few kinds in a range (a small share of the log), and
                      # the incidents they name, read from the index alone (``reports.updates``)
                      Index("ix_incident_events_kind_at", "kind", "at", "incident_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the transaction that wrote the line (PostgreSQL's, set by the database; 0 on SQLite, whose writers take
    # turns, and on lines written before it was kept): the change feed hands lines out in commit order by it
    txid: Mapped[int] = mapped_column(BigInteger, server_default=writing_transaction())
    # When the line was written, by the app's clock (a test's fake one too: what a report's ``as_of`` is judged by;
    # ``Database`` stamps every ORM insert, the lean IVR step its SQL); ``at`` is the instant it tells of, which can
    # be earlier (a spooled status callback applied later, a late job, a long transaction). NULL: written before
    # it was kept, or by a writer that does not know it (the release before, in a rolling upgrade): read as ``at``.
    # A report pinned to ``as_of`` reads the lines stamped and written by then (``reports.queries.written_by``).
    written_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AppendOnlyViolation(Exception):
    """Raised on any attempt to change or delete a logged event."""


@event.listens_for(IncidentEvent, "before_update")
@event.listens_for(IncidentEvent, "before_delete")
def _refuse_change(_mapper, _conn, target: IncidentEvent) -> None:
    raise AppendOnlyViolation(f"incident event {target.id} is append-only")


# Below the ORM too: the database itself refuses UPDATE and DELETE (the migration calls the same install).
event.listen(IncidentEvent.__table__, "after_create", event_guard.after_create)
