"""The compliance report's per-incident facts: a derived table, always recomputable from the event log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class IncidentFactsRow(Base):
    """One incident's compliance facts, folded from its log (``app.reports.facts``); never edited by hand.

    Rewritten in the same transaction as every log line that can change it
    (``app.reports.facts_sync``), and rebuilt from the log by ``rebuild_facts``. The report
    reads these rows instead of every event; rows whose ``last_event_at`` is after a
    report's ``as_of`` are recomputed from the log for that report.
    """

    __tablename__ = "incident_facts"
    # The report's order: a range's CSV is one index-ordered scan, never a sort. And the rows stale at
    # a report's ``as_of`` (lines logged after it: none or a handful) found without scanning the range.
    __table_args__ = (Index("ix_incident_facts_captured_at_reference", "captured_at", "reference"),
                      Index("ix_incident_facts_last_event_at", "last_event_at"))

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True, autoincrement=False)
    reference: Mapped[str] = mapped_column(String(12))
    listed_at: Mapped[datetime] = mapped_column(UTCDateTime())  # incidents.captured_at (the range filter)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the deadline_set line's time, else the incident_opened line's
    captured_slot: Mapped[int] = mapped_column(Integer)  # captured_at as Unix seconds // 900 (per-hour grouping)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime())  # latest log line these facts depend on
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_rep_id: Mapped[int | None] = mapped_column(Integer)
    acknowledged_actor: Mapped[str] = mapped_column(String(100), default="")
    outcome: Mapped[str] = mapped_column(String(24))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # first answer, Twilio's timestamp
    seconds_to_callback: Mapped[float | None] = mapped_column(Float)
    called_rep_id: Mapped[int | None] = mapped_column(Integer)  # the deciding callback's rep
    called_actor: Mapped[str] = mapped_column(String(100), default="")
    breach_logged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the reason should it be breached; "" when it cannot be without a further log line: met, or opened mid-call
    # with the caller still giving details and no breach line (``facts_sync.row_of``, ``figures.stored_breached``)
    breach_reason: Mapped[str] = mapped_column(String(64), default="")
    # the related incident whose callback is this one's answer (a dropped call's redial: ``facts.related_reference``),
    # "" when its own: the call counts once, on that incident, in the per-rep and time-to-callback figures
    related_reference: Mapped[str] = mapped_column(String(12), server_default="")  # no Python default: a migration
    # older than this column refolds without it (``facts_sync._older_schema``), and an INSERT names every defaulted column
    # The CSV export's line in parts (``app.reports.csv_parts``): rendered from these facts and the
    # incident's company whenever either changes, so a year's export only joins strings.
    csv_lead: Mapped[str] = mapped_column(Text, default="")
    csv_acked_by: Mapped[str] = mapped_column(Text, default="")
    csv_tail: Mapped[str] = mapped_column(Text, default="")
