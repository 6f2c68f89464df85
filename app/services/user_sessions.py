"""Dashboard sessions on the server: started at login, checked on each request, revoked at logout."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models.user import UserSession

SESSION_LIFETIME = timedelta(hours=12)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def start_session(db: Session, user_id: int, now: datetime) -> str:
    """A new session for ``user_id``; returns the random id the cookie carries (only its hash is stored)."""
    db.execute(delete(UserSession).where(UserSession.expires_at < now - SESSION_LIFETIME))
    session_id = secrets.token_urlsafe(32)
    db.add(UserSession(user_id=user_id, token_hash=_hash(session_id), created_at=now,
                       expires_at=now + SESSION_LIFETIME))
    db.flush()
    return session_id


def session_is_live(db: Session, user_id: int, session_id: str | None, now: datetime) -> bool:
    """True when ``session_id`` is a live (not ended, not expired) session of ``user_id``."""
    if not session_id or len(session_id) > 200:
        return False
    found = db.scalar(select(UserSession.id).where(
        UserSession.token_hash == _hash(session_id), UserSession.user_id == user_id, UserSession.expires_at > now))
    return found is not None


def end_session(db: Session, session_id: str | None) -> None:
    """End one session (logout): a copy of its cookie no longer logs anyone in."""
    if session_id:
        db.execute(delete(UserSession).where(UserSession.token_hash == _hash(session_id)))


def end_all_sessions(db: Session, user_id: int, keep: str | None = None) -> int:
    """End every session of ``user_id`` (but ``keep``, if given); returns how many ended."""
    query = delete(UserSession).where(UserSession.user_id == user_id)
    if keep:
        query = query.where(UserSession.token_hash != _hash(keep))
    return db.execute(query).rowcount or 0
