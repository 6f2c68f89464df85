"""Dashboard users: reps, managers and admins."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class Role(StrEnum):
    """What a user may see and do; each role includes the ones before it."""

    REP = "rep"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """0 for rep, 1 for manager, 2 for admin."""
        return list(Role).index(self)

    def includes(self, other: Role) -> bool:
        """True when this role may do what ``other`` may."""
        return self.rank >= Role(other).rank


class User(Base):
    """Someone who logs in to the dashboard (password stored only as a hash)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(16), default=Role.REP)
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("reps.id"))  # the on-call rep this user is
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginAttempt(Base):
    """A failed dashboard login, kept a day: per-address rate limit and locks on unknown e-mails."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_remote_addr_at", "remote_addr", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64))  # the client's network: IPv4 address or IPv6 /64
    email: Mapped[str] = mapped_column(String(254), index=True)  # as typed (normalised), known or not


class UserSession(Base):
    """A dashboard login, checked on every request; logout and password changes delete it."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the id in the cookie
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
