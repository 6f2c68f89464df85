"""Bearer tokens for the JSON API; only their SHA-256 is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class ApiToken(Base):
    """A named API token (hash only)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Space-separated scopes (``tickets:write incidents:read``); see app.services.api_tokens.SCOPES.
    scopes: Mapped[str] = mapped_column(String(200), default="")

    @property
    def scope_set(self) -> frozenset[str]:
        """The scopes this token carries."""
        return frozenset((self.scopes or "").split())
