"""Dashboard users: creating them and checking their passwords (the limits on guessing: ``login_limits``)."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.models.oncall import Rep
from app.models.user import LoginAttempt, Role, User
from app.services.login_limits import (
    ACCOUNT_LOCK,
    ACCOUNT_MAX_FAILURES,
    ADDRESS_WINDOW,
    LoginThrottled,
    check_account_from_network,
    check_ceiling,
    check_network,
    check_unknown_email,
    client_network,
    failed_from,
    hold_network,
    note_ceiling,
)
from app.services.password_rules import MAX_PASSWORD_LENGTH, weakness
from app.services.user_sessions import end_all_sessions

# Security events go to their own logger so operators can route them (never the incident log).
log = logging.getLogger("app.security")

HASH_METHOD = "scrypt"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Checked against when the e-mail is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password, never matches", method=HASH_METHOD)


class InvalidUser(ValueError):
    """A user's e-mail, name, role or rep is not acceptable."""


class UserExists(InvalidUser):
    """Another user already has this e-mail address."""


class WeakPassword(InvalidUser):
    """A password the rule refuses (``password_rules.weakness``: too short, the user's own words, well known)."""


class LastAdmin(InvalidUser):
    """The change would leave the dashboard without an active admin."""


class UnknownUser(LookupError):
    """No user has this id."""


def normalise_email(email: str) -> str:
    """The e-mail address as stored and looked up: trimmed, lower case."""
    return (email or "").strip().lower()


def hash_password(password: str, email: str = "", name: str = "") -> str:
    """A salted scrypt hash of ``password`` for the user of ``email`` and ``name``; WeakPassword naming the rule it
    breaks (``password_rules``) for the CLI and the dashboard's admin forms alike."""
    if why := weakness(password, email, name):
        raise WeakPassword(why)
    return generate_password_hash(password, method=HASH_METHOD)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash`` (constant-time comparison)."""
    if not password or len(password) > MAX_PASSWORD_LENGTH:
        return False
    return check_password_hash(password_hash, password)


def check_identity(email: str, name: str) -> tuple[str, str]:
    """The e-mail (normalised) and name of a new user; InvalidUser saying what is wrong (asked before a password)."""
    email, name = normalise_email(email), (name or "").strip()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise InvalidUser("e-mail must look like name@example.com")
    if not name or len(name) > 200 or not name.isprintable():
        raise InvalidUser("name must be 1-200 printable characters")
    return email, name


def create_user(session: Session, email: str, name: str, password: str, role: Role | str, now: datetime,
                rep_name: str | None = None) -> User:
    """Add a dashboard user, optionally linked to the on-call rep named ``rep_name``."""
    email, name = check_identity(email, name)
    role = _role(role)
    rep_id = _rep_id(session, rep_name)
    password_hash = hash_password(password, email, name)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserExists(f"a user with e-mail {email} already exists")
    user = User(email=email, name=name, password_hash=password_hash, role=role, rep_id=rep_id, active=True,
                created_at=now, failed_logins=0)
    session.add(user)
    session.flush()
    log.info("user %s created with role %s", user.id, role)
    return user


def unlinked_warning(user: User) -> str:
    """What to tell whoever created ``user`` when it is a rep's login linked to no on-call rep ("" otherwise): the
    hotline can neither page nor call it, so the escalation core refuses its acknowledgements (an outside probe
    created one with nothing said, then acknowledged with it)."""
    if user.role != Role.REP or user.rep_id is not None:
        return ""
    return (f"{user.email} is linked to no on-call rep: this login cannot acknowledge or take over an incident, "
            "and is never paged. Link it to its rep when creating it (--rep NAME, or On-call rep on the form).")


def authenticate(session: Session, email: str, password: str, now: datetime, remote_addr: str) -> User | None:
    """The active user with this e-mail and password, else None; LoginThrottled when locked out.

    Failures count per client network (an IPv4 address or an IPv6 /64, see ``login_limits``).
    Five failures from one network lock the account for that network only. Five failures in
    all lock the account for every network that has failed; a network that has not failed may
    still log in, and its success lifts the lock, so nobody can keep a user out for long by
    failing from many networks. But twenty failures within an hour, from anywhere, make the
    account refuse every password (AccountCeilingReached) until the oldest of them is an hour
    old or an admin unlocks it: new addresses cannot buy more guesses.
    """
    email = normalise_email(email)[:254]
    network = client_network(remote_addr)
    hold_network(session, network, now)  # the counts below and the failure inserted after: one at a time
    check_network(session, network, now)
    user = session.scalar(select(User).where(User.email == email).with_for_update())
    user_id = user.id if user is not None else None
    check_ceiling(session, email, user_id, now)
    check_account_from_network(session, email, network, now)
    if user is None:
        check_unknown_email(session, email, network, now)
        verify_password(_DUMMY_HASH, password)
    elif user.locked_until is not None and user.locked_until > now and \
            failed_from(session, email, network, user.locked_until - ACCOUNT_LOCK - ADDRESS_WINDOW):
        raise LoginThrottled(user.locked_until - now)
    elif verify_password(user.password_hash, password) and user.active:
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        # This network's own slips are forgiven; other networks' failures still count against them.
        session.execute(delete(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.remote_addr == network))
        log.info("login: user %s from %s", user.id, network)
        return user
    session.add(LoginAttempt(at=now, remote_addr=network, email=email))
    ceiling_until = note_ceiling(session, email, user_id, now)
    if user is None:
        log.warning("failed login for an unknown e-mail from %s", network)
        return None
    user.failed_logins = (user.failed_logins or 0) + 1
    log.warning("failed login %d for user %s from %s", user.failed_logins, user.id, network)
    if user.failed_logins >= ACCOUNT_MAX_FAILURES:
        user.failed_logins = 0
        user.locked_until = now + ACCOUNT_LOCK
        log.warning("user %s locked until %s after %d failed logins, for the addresses that failed", user.id,
                    user.locked_until.isoformat(), ACCOUNT_MAX_FAILURES)
    if ceiling_until is not None:  # shown as locked, with Unlock, on the admins' Users page
        user.locked_until = max(user.locked_until or ceiling_until, ceiling_until)
    return None


def unlock(session: Session, user_id: int, actor_id: int | None = None) -> User:
    """Lift every lock on a user's account, for every address (an admin's action)."""
    user = get_user(session, user_id)
    _lift_locks(session, user)
    log.info("user %s unlocked by user %s", user.id, actor_id)
    return user


def get_user(session: Session, user_id: int) -> User:
    """The user with this id; raise UnknownUser if there is none."""
    user = session.get(User, user_id)
    if user is None:
        raise UnknownUser(f"no user with id {user_id}")
    return user


def list_users(session: Session) -> list[User]:
    """Every user, active first, then by name."""
    return list(session.scalars(select(User).order_by(User.active.desc(), User.name, User.id)))


def rep_names(session: Session) -> list[str]:
    """Names of the active reps a user may be linked to, alphabetically."""
    return list(session.scalars(select(Rep.name).where(Rep.active.is_(True)).order_by(Rep.name)))


def set_role(session: Session, user_id: int, role: Role | str, actor_id: int | None = None) -> User:
    """Give a user another role; the last active admin keeps theirs."""
    role = _role(role)
    user = get_user(session, user_id)
    if user.role == Role.ADMIN and role != Role.ADMIN and user.active:
        _keep_an_admin(session, user)
    user.role = role
    log.info("user %s given role %s by user %s", user.id, role, actor_id)
    return user


def deactivate(session: Session, user_id: int, actor_id: int | None = None) -> User:
    """Stop a user from logging in; their open sessions end on their next request."""
    user = get_user(session, user_id)
    if user.role == Role.ADMIN and user.active:
        _keep_an_admin(session, user)
    user.active = False
    end_all_sessions(session, user.id)
    log.info("user %s deactivated by user %s", user.id, actor_id)
    return user


def activate(session: Session, user_id: int, actor_id: int | None = None) -> User:
    """Let a deactivated user log in again (any lock is lifted too)."""
    user = get_user(session, user_id)
    user.active = True
    _lift_locks(session, user)
    log.info("user %s reactivated by user %s", user.id, actor_id)
    return user


def reset_password(session: Session, user_id: int, password: str, actor_id: int | None = None,
                   keep_session: str | None = None) -> User:
    """Set a new password, lift any lock, and end every session the user has open (but ``keep_session``)."""
    user = get_user(session, user_id)
    user.password_hash = hash_password(password, user.email, user.name)
    _lift_locks(session, user)
    end_all_sessions(session, user.id, keep=keep_session)
    log.info("password of user %s reset by user %s", user.id, actor_id)
    return user


def _lift_locks(session: Session, user: User) -> None:
    # Every lock, the account-wide ceiling too: its failures are the account's attempt rows.
    user.failed_logins = 0
    user.locked_until = None
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email))


def _role(role: Role | str) -> Role:
    try:
        return Role(str(role).strip().lower())
    except ValueError:
        raise InvalidUser(f"role must be one of {', '.join(Role)}") from None


def _rep_id(session: Session, rep_name: str | None) -> int | None:
    rep_name = (rep_name or "").strip()
    if not rep_name:
        return None
    rep_id = session.scalar(select(Rep.id).where(Rep.name == rep_name))
    if rep_id is None:
        raise InvalidUser(f"no on-call rep is named {rep_name!r}")
    return rep_id


def _keep_an_admin(session: Session, user: User) -> None:
    others = session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    )
    if not others:
        raise LastAdmin("this is the last active admin; make someone else an admin first")
