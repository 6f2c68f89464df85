"""The limits on guessing dashboard passwords, counted from the failed logins kept in SQL.

Failures count per client network (an IPv4 address, or an IPv6 /64: one host usually holds
a whole /64, so counting its single addresses would give it 2^64 budgets), per account from
a network, and per account in all: the last is a ceiling that no new address can reset.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models.user import LoginAttempt
from app.services.advisory_locks import LOGIN_SPACE, hold

log = logging.getLogger("app.security")

ACCOUNT_MAX_FAILURES = 5  # from one network: that network waits; in all: every network that failed waits
ACCOUNT_LOCK = timedelta(minutes=15)
ADDRESS_MAX_FAILURES = 20  # from one network, whatever the e-mail
ADDRESS_WINDOW = timedelta(minutes=15)
ACCOUNT_CEILING = 20  # failures for one e-mail from anywhere: then no password is accepted ...
ACCOUNT_CEILING_WINDOW = timedelta(hours=1)  # ... until the oldest of them is this old
IPV6_PREFIX = 64
ATTEMPTS_KEPT = timedelta(days=1)


class LoginThrottled(Exception):
    """Too many failed logins for this account or address; try again later."""

    def __init__(self, retry_after: timedelta) -> None:
        self.retry_after = max(retry_after, timedelta(seconds=1))
        super().__init__(self.message())

    @property
    def minutes(self) -> int:
        """Whole minutes to wait, rounded up."""
        return max(1, math.ceil(self.retry_after.total_seconds() / 60))

    def message(self) -> str:
        """What the login page says."""
        return f"Too many attempts, try again in {self.minutes} minutes."


class AccountCeilingReached(LoginThrottled):
    """So many failed logins for one e-mail, from anywhere, that it accepts no password for a while."""

    def message(self) -> str:
        """What the login page says: the same words whether or not the e-mail has an account."""
        return (f"Too many failed logins for this e-mail address: no password is accepted for it, not even "
                f"the right one, for {self.minutes} minutes. If you need to log in sooner, ask an admin.")


def client_network(remote_addr: str) -> str:
    """The key a client's failures count under: its IPv4 address, or the /64 of its IPv6 address."""
    raw = (remote_addr or "").strip()
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is an IPv4 client on a dual-stack socket
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> (128 - IPV6_PREFIX) << (128 - IPV6_PREFIX), IPV6_PREFIX)))
    return str(ip)


def hold_network(session: Session, network: str, now: datetime) -> None:
    """Make this transaction the only login of ``network`` until it ends, and drop attempts older than a day.

    The limits are counted, then a failure is inserted a password check later: logins of one network running at
    once each read the same count and each passed (24 at once with three failures left: 16 failures, 13 past
    the limit). PostgreSQL: a transaction-level advisory lock on the network, taken before any count (its logins
    wait for one another; other networks' do not). SQLite: the DELETE takes the database's write lock, so every
    login waits for the one before it (pysqlite begins the transaction at the first write).
    The lock is held over the password check (scrypt: 0.53 s on the 2-core test host), so logins of one network
    run one after another: a throttled network's are refused before any hashing, so a guesser holds it for at
    most twenty checks in fifteen minutes.
    """
    hold(session, LOGIN_SPACE, network)
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - ATTEMPTS_KEPT))


def check_network(session: Session, network: str, now: datetime) -> None:
    """Raise LoginThrottled once a network has failed twenty times in fifteen minutes, whatever the e-mails."""
    failures = list(session.scalars(
        select(LoginAttempt.at).where(LoginAttempt.remote_addr == network, LoginAttempt.at > now - ADDRESS_WINDOW)
        .order_by(LoginAttempt.at.desc()).limit(ADDRESS_MAX_FAILURES)
    ))
    if len(failures) >= ADDRESS_MAX_FAILURES:
        log.warning("logins from %s refused: %d failures in %s", network, len(failures), ADDRESS_WINDOW)
        # Open again once the oldest of the last twenty failures leaves the window.
        raise LoginThrottled(failures[-1] + ADDRESS_WINDOW - now)


def check_ceiling(session: Session, email: str, user_id: int | None, now: datetime) -> None:
    """Raise AccountCeilingReached while the e-mail's failures from anywhere are at the ceiling."""
    lifts_at = ceiling_lifts_at(session, email, now)
    if lifts_at is not None:
        log.warning("login for %s refused whatever the password, after %d failed logins in %s", _who(user_id),
                    ACCOUNT_CEILING, ACCOUNT_CEILING_WINDOW)
        raise AccountCeilingReached(lifts_at - now)


def ceiling_lifts_at(session: Session, email: str, now: datetime) -> datetime | None:
    """When the e-mail accepts passwords again, if its failures in the window have reached the ceiling; else None."""
    failures = list(session.scalars(
        select(LoginAttempt.at).where(LoginAttempt.email == email, LoginAttempt.at > now - ACCOUNT_CEILING_WINDOW)
        .order_by(LoginAttempt.at.desc()).limit(ACCOUNT_CEILING)
    ))
    return failures[-1] + ACCOUNT_CEILING_WINDOW if len(failures) >= ACCOUNT_CEILING else None


def note_ceiling(session: Session, email: str, user_id: int | None, now: datetime) -> datetime | None:
    """After a failure is recorded: when the ceiling it reached lifts (logged), else None."""
    session.flush()
    lifts_at = ceiling_lifts_at(session, email, now)
    if lifts_at is not None:
        networks = session.scalar(select(func.count(func.distinct(LoginAttempt.remote_addr))).where(
            LoginAttempt.email == email, LoginAttempt.at > now - ACCOUNT_CEILING_WINDOW))
        log.warning("%s refuses every password until %s: %d failed logins in %s from %d networks", _who(user_id),
                    lifts_at.isoformat(), ACCOUNT_CEILING, ACCOUNT_CEILING_WINDOW, networks)
    return lifts_at


def check_account_from_network(session: Session, email: str, network: str, now: datetime) -> None:
    """Raise LoginThrottled after five failures for this e-mail from this network: this network waits, no other."""
    failures = list(session.scalars(
        select(LoginAttempt.at).where(LoginAttempt.email == email, LoginAttempt.remote_addr == network,
                                      LoginAttempt.at > now - ACCOUNT_LOCK)
        .order_by(LoginAttempt.at.desc()).limit(ACCOUNT_MAX_FAILURES)
    ))
    if len(failures) >= ACCOUNT_MAX_FAILURES:
        raise LoginThrottled(failures[-1] + ACCOUNT_LOCK - now)


def failed_from(session: Session, email: str, network: str, since: datetime) -> bool:
    """True when this e-mail failed from this network after ``since``."""
    return session.scalar(select(LoginAttempt.id).where(
        LoginAttempt.email == email, LoginAttempt.remote_addr == network, LoginAttempt.at > since).limit(1)
    ) is not None


def check_unknown_email(session: Session, email: str, network: str, now: datetime) -> None:
    """Lock an e-mail with no account exactly as an account locks, so a 429 does not tell which have one."""
    # Every fifth failure, for fifteen minutes, for the networks that failed.
    count, last = session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(LoginAttempt.email == email)
    ).one()
    if count and count % ACCOUNT_MAX_FAILURES == 0 and last + ACCOUNT_LOCK > now and \
            failed_from(session, email, network, last - ACCOUNT_LOCK - ADDRESS_WINDOW):
        raise LoginThrottled(last + ACCOUNT_LOCK - now)


def _who(user_id: int | None) -> str:
    # Logs carry ids, never e-mail addresses.
    return f"user {user_id}" if user_id is not None else "an unknown e-mail"
