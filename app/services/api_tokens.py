"""Creating, checking and revoking bearer tokens of the JSON API."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models import ApiToken

TOKEN_PREFIX = "hl_"
NAME_MAX = 100


class InvalidTokenName(ValueError):
    """A token name is empty, too long or has control characters."""


class UnknownToken(LookupError):
    """No active token has the given name or id."""


def hash_token(plaintext: str) -> str:
    """The SHA-256 hex digest stored for a token."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, now: datetime) -> str:
    """Store a new named token and return its plaintext (shown once, never stored)."""
    name = name.strip()
    if not name or len(name) > NAME_MAX or not name.isprintable():
        raise InvalidTokenName(f"token name must be 1-{NAME_MAX} printable characters")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=hash_token(plaintext), created_at=now))
    session.flush()
    return plaintext


def verify_token(session: Session, plaintext: str, now: datetime) -> ApiToken | None:
    """The active token matching ``plaintext`` (marked as used now), else None."""
    # Only the hash reaches SQL, so a lookup leaks nothing about stored tokens.
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    token = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext), ApiToken.revoked_at.is_(None))
    )
    if token is not None:
        token.last_used_at = now
    return token


def revoke_token(session: Session, name_or_id: str | int, now: datetime) -> list[ApiToken]:
    """Revoke every active token with this name (or this id); raise UnknownToken if none."""
    conditions = [ApiToken.name == str(name_or_id).strip()]
    if isinstance(name_or_id, int) or str(name_or_id).strip().isdecimal():
        conditions.append(ApiToken.id == int(name_or_id))
    tokens = list(session.scalars(select(ApiToken).where(or_(*conditions), ApiToken.revoked_at.is_(None))))
    if not tokens:
        raise UnknownToken(f"no active API token named or numbered {name_or_id!r}")
    for token in tokens:
        token.revoked_at = now
    return tokens


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, active or revoked, oldest first."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
