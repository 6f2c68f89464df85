"""Numbers that opted out of our SMS (they texted STOP, or Twilio refused a send with error 21610)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class SmsOptOut(Base):
    """One number Twilio will not text for us until it opts back in (START); the row goes when it does.

    The history (when, how, lifted) is in the event log; this row is only what holds now.
    """

    __tablename__ = "sms_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True)  # E.164, as Twilio gives From / we send To
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(24))  # keyword, opt_out_type, twilio_21610
    keyword: Mapped[str] = mapped_column(String(16), default="")
