"""Who can be paged: reps and managers, on-call schedules, overrides and escalation policies."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.models.base import Base, UTCDateTime
from app.oncall.errors import OnCallConfigError
from app.oncall.fields import ALL_CHANNELS, channels_field, time_zone_field
from app.oncall.policy import validate_levels
from app.oncall.rotation import Rotation


class Rep(Base):
    """A support rep (or manager) who can be paged."""

    __tablename__ = "reps"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    phone: Mapped[str] = mapped_column(String(20))
    phone_alt: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    channels: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(ALL_CHANNELS))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    is_manager: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @validates("time_zone")
    def _check_time_zone(self, _key: str, value: str) -> str:
        return time_zone_field(value, "time_zone")

    @validates("channels")
    def _check_channels(self, _key: str, value: list[str]) -> list[str]:
        return channels_field(value, "channels")

    @validates("phone")
    def _check_phone(self, _key: str, value: str) -> str:
        if not value or not value.startswith("+"):
            raise OnCallConfigError("phone", "is required, in E.164")
        return value


class Schedule(Base):
    """An on-call schedule such as "primary", in one time zone."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64))

    layers: Mapped[list[ScheduleLayer]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan", order_by="ScheduleLayer.position"
    )

    @validates("time_zone")
    def _check_time_zone(self, _key: str, value: str) -> str:
        return time_zone_field(value, "time_zone")


class ScheduleLayer(Base):
    """One rotation of a schedule; the highest position with someone on call wins."""

    __tablename__ = "schedule_layers"
    __table_args__ = (UniqueConstraint("schedule_id", "position", name="uq_schedule_layers_schedule_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    rotation: Mapped[Rotation] = mapped_column(String(16))
    handoff_time: Mapped[str] = mapped_column(String(5))  # "HH:MM" in the schedule's time zone
    handoff_weekday: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday; weekly only
    shift_hours: Mapped[int | None] = mapped_column(Integer)  # custom only
    starts_on: Mapped[date] = mapped_column(Date)  # local date of the first hand-off
    members: Mapped[list[int]] = mapped_column(JSON, default=list)  # rep ids, in rotation order

    schedule: Mapped[Schedule] = relationship(back_populates="layers")


class Override(Base):
    """A rep on call for a schedule from ``starts_at`` until ``ends_at``, over every layer."""

    __tablename__ = "schedule_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("reps.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    schedule: Mapped[Schedule] = relationship()
    rep: Mapped[Rep] = relationship()


class EscalationPolicy(Base):
    """Levels of targets to page, each after a delay; one policy is the default."""

    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    levels: Mapped[list[dict]] = mapped_column(JSON)

    @validates("levels")
    def _check_levels(self, _key: str, value: list[dict]) -> list[dict]:
        return validate_levels(value)
