"""Creating, checking and revoking bearer tokens of the JSON API."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ApiToken

TOKEN_PREFIX = "hl_"
NAME_MAX = 100

# What each scope lets a token do; every API endpoint names the one it needs.
SCOPES = {
    "tickets:write": "create and update support tickets (the helpdesk sync)",
    "incidents:read": "read incidents and their event log (names, phone numbers, e-mails)",
    "oncall:read": "read reps, schedules, overrides, escalation policies and who is on call",
    "oncall:admin": "change reps, schedules, overrides and escalation policies (includes oncall:read)",
    "accounts:admin": "with tickets:write, set an account's TAM (paged about its Sev-1s) and support PIN",
}
# A scope that brings others with it: whoever may change the on-call set-up may read it.
IMPLIED = {"oncall:admin": frozenset({"oncall:read"})}
# ``hotline api-token create`` without --scope: the helpdesk sync, the most common use, and nothing else.
DEFAULT_SCOPES = ("tickets:write",)


class InvalidTokenName(ValueError):
    """A token name is empty, too long or has control characters."""


class InvalidScope(ValueError):
    """A scope name that does not exist."""


class UnknownToken(LookupError):
    """No active token has the given name or id."""


def hash_token(plaintext: str) -> str:
    """The SHA-256 hex digest stored for a token."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def normalise_scopes(scopes: Iterable[str]) -> str:
    """The stored form of ``scopes``: known names, sorted, space-separated; InvalidScope otherwise."""
    names = {part for scope in scopes for part in scope.replace(",", " ").split()}
    unknown = sorted(names - SCOPES.keys())
    if unknown:
        raise InvalidScope(f"unknown scope {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    if not names:
        raise InvalidScope(f"a token needs at least one scope; known: {', '.join(SCOPES)}")
    return " ".join(sorted(names))


def grants(token_scopes: Iterable[str], needed: str) -> bool:
    """True when a token with ``token_scopes`` may do what ``needed`` allows."""
    have = set(token_scopes)
    for scope in list(have):
        have |= IMPLIED.get(scope, frozenset())
    return needed in have


def create_token(session: Session, name: str, now: datetime, scopes: Iterable[str] = DEFAULT_SCOPES) -> str:
    """Store a new named token with ``scopes`` and return its plaintext (shown once, never stored)."""
    name = name.strip()
    if not name or len(name) > NAME_MAX or not name.isprintable():
        raise InvalidTokenName(f"token name must be 1-{NAME_MAX} printable characters")
    if name.isdecimal():  # `api-token revoke` takes a name or an id: a name of digits would read as an id
        raise InvalidTokenName(f"token name {name!r} is all digits, which reads as a token's id; add a letter")
    stored_scopes = normalise_scopes(scopes)
    taken = session.scalar(select(ApiToken.id).where(ApiToken.name == name, ApiToken.revoked_at.is_(None)).limit(1))
    if taken is not None:  # revoking "the old one" by name would revoke both: a rotation would cut off the new one
        raise InvalidTokenName(f"an active token is already named {name!r} (id {taken}): give the new one another "
                               f"name (e.g. {name[:40]}-2), then revoke the old one by its name")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=hash_token(plaintext), created_at=now, scopes=stored_scopes))
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
    """Revoke the active token with this name, else the one with this id; raise UnknownToken if none, or if
    several active tokens share the name (made before that was refused).

    A name wins over an id: revoking a token named "7" (made before such names were refused)
    never revokes another integration's token whose id is 7 as well.
    """
    active = select(ApiToken).where(ApiToken.revoked_at.is_(None))
    key = str(name_or_id).strip()
    tokens = [] if isinstance(name_or_id, int) else list(session.scalars(active.where(ApiToken.name == key)))
    if not tokens and key.isascii() and key.isdecimal() and len(key) <= 18:
        tokens = list(session.scalars(active.where(ApiToken.id == int(key))))
    if not tokens:
        raise UnknownToken(f"no active API token named or numbered {name_or_id!r}")
    if len(tokens) > 1:  # made before duplicate names were refused: which one is meant cannot be told
        ids = ", ".join(str(token.id) for token in tokens)
        raise UnknownToken(f"{len(tokens)} active API tokens are named {key!r} (ids {ids}): revoke one by its id "
                           "(`hotline api-token list` shows them)")
    for token in tokens:
        token.revoked_at = now
    return tokens


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, active or revoked, oldest first."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
