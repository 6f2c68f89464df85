"""Support PINs: an account's optional proof of identity for callers, stored salted and hashed."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import case, or_, update
from sqlalchemy.orm import object_session

from app.models import Account

PIN_PATTERN = re.compile(r"[0-9]{4,8}")
# scrypt cost: about 16 MB and tens of milliseconds, like the dashboard's passwords.
_N, _R, _P = 2**14, 8, 1
MAX_FAILURES = 5  # wrong PINs on one account before it is locked
LOCK_DURATION = timedelta(hours=1)  # a PIN is 4-8 digits: stop a caller (or many) from guessing it


class InvalidPin(ValueError):
    """A support PIN that is not 4 to 8 digits."""


def validate_pin(raw: str) -> str:
    """The PIN as digits, or InvalidPin: 4 to 8 digits, typed on a phone keypad."""
    pin = raw.strip()
    if not PIN_PATTERN.fullmatch(pin):
        raise InvalidPin("must be 4 to 8 digits (it is typed on a phone keypad)")
    return pin


def hash_pin(pin: str) -> str:
    """A salted scrypt hash of ``pin``: ``scrypt$N$r$p$salt$hash`` (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def pin_matches(stored: str, pin: str) -> bool:
    """True when ``pin`` is the one hashed in ``stored`` (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                                   dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def set_pin(account: Account, pin: str) -> None:
    """Give ``account`` a new support PIN (and clear any lock from guessing the old one).

    Re-sending the same PIN (a helpdesk sync) changes nothing, so it cannot lift a lock.
    """
    pin = validate_pin(pin)
    if account.support_pin_hash and pin_matches(account.support_pin_hash, pin):
        return
    account.support_pin_hash = hash_pin(pin)
    account.support_pin_failures = 0
    account.support_pin_failed_at = None


def clear_pin(account: Account) -> None:
    """Remove the account's support PIN."""
    account.support_pin_hash = ""
    account.support_pin_failures = 0
    account.support_pin_failed_at = None


def is_locked(account: Account, now: datetime) -> bool:
    """True while the account is locked after too many wrong PINs."""
    failed_at = account.support_pin_failed_at
    return (account.support_pin_failures >= MAX_FAILURES and failed_at is not None
            and now - failed_at < LOCK_DURATION)


def check_pin(account: Account | None, pin: str, now: datetime) -> bool:
    """Check a keyed PIN against the account's, counting failures; a locked account never matches.

    The attempt is counted as a failure before the PIN is checked, in one statement that also refuses a locked
    account, and a right PIN then clears the count. That statement holds the account's row (PostgreSQL) or the
    database (SQLite) until the caller's transaction ends, so calls keying PINs for one account at the same moment
    are counted one after another: a count read by each and written back lost all but one of them, and each
    batch of parallel calls had MAX_FAILURES guesses instead of MAX_FAILURES in all.
    """
    if account is None or not account.support_pin_hash:
        return False
    session = object_session(account)
    if session is None:
        raise ValueError("check_pin needs an account loaded in a session (its attempts are counted in SQL)")
    expired = or_(Account.support_pin_failed_at.is_(None), Account.support_pin_failed_at <= now - LOCK_DURATION)
    counted = session.execute(
        update(Account).where(Account.id == account.id, or_(Account.support_pin_failures < MAX_FAILURES, expired))
        .values(support_pin_failures=case((expired, 1), else_=Account.support_pin_failures + 1),
                support_pin_failed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    session.expire(account, ["support_pin_failures", "support_pin_failed_at"])
    if not counted:  # locked (old failures expire above)
        return False
    if PIN_PATTERN.fullmatch(pin) and pin_matches(account.support_pin_hash, pin):
        account.support_pin_failures = 0
        account.support_pin_failed_at = None
        return True
    return False
