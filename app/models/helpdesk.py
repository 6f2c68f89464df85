"""Outbound webhooks to the helpdesk: one delivery row per event sent (the delivery log), and where the collector
of those events stands in the log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class DeliveryStatus(StrEnum):
    """Pending until the helpdesk answers 2xx (delivered) or the tries run out (failed)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    # never posted: a callback.met/missed held until its answer was proven, whose answer was withdrawn first, and the
    # callback.withdrawn of it (``helpdesk_webhooks.unposted_answer``): the helpdesk heard neither, as nothing stood
    WITHDRAWN = "withdrawn"


class HelpdeskDelivery(Base):
    """One event of the incident log sent (or being sent) to HELPDESK_WEBHOOK_URL."""

    __tablename__ = "helpdesk_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("incident_events.id"), unique=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # e.g. incident.opened
    status: Mapped[DeliveryStatus] = mapped_column(String(16), default=DeliveryStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FeedCursor(Base):
    """Where a reader of the event log in commit order (``app.services.event_feed``) stands, by reader."""

    __tablename__ = "event_feed_cursors"

    reader: Mapped[str] = mapped_column(String(40), primary_key=True)  # e.g. helpdesk_webhooks
    cursor: Mapped[str] = mapped_column(Text)  # event_feed.encode(position)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
