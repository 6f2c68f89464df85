"""A lease row in SQL elects one active watchdog; its heartbeat shows on /healthz.

A lease is live while ``now < expires_at``: at its expiry instant (and at once after a
release, which sets ``expires_at`` to now) it is free, for ``hold`` and ``status`` alike.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Lease

WATCHDOG = "watchdog"
TELEPHONY = "telephony:"  # + "simulated" or a Twilio account SID: held by each `hotline worker` running that way
SIMULATED = "simulated"
# A row that never lapses: its holder names the deployment this database belongs to (random, made once), which each
# worker announces in Redis beside its queues, bound to its PUBLIC_BASE_URL (``announced_deployment``), so workers of
# two databases sharing one Redis and QUEUE_NAME are seen, a copy restored from the other's dump too.
DEPLOYMENT = "deployment"
NEVER = datetime(2099, 12, 31, tzinfo=UTC)


def telephony_lease(simulated: bool, account_sid: str) -> str:
    """The name of the lease a worker of this telephony holds (a deployment runs one: see ``live_telephony``)."""
    return TELEPHONY + (SIMULATED if simulated else account_sid)


def hold(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew lease ``name`` for ``holder``; False while another holder's lease is live."""
    result = session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
        .values(holder=holder, expires_at=now + ttl, heartbeat_at=now)
    )
    if result.rowcount == 1:
        return True
    if session.get(Lease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, expires_at=now + ttl, heartbeat_at=now))
        return True
    except IntegrityError:  # another instance created it first
        return False


def release(session: Session, name: str, holder: str, now: datetime) -> None:
    """Give the lease up at once (a clean shutdown), so a standby takes over without waiting."""
    session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=now))


# a watchdog lease that lapsed is taken by another worker's next pass (every worker sweeps), at most one watchdog
# interval later (``workers.watchdog.MAX_INTERVAL_SECONDS``): until then it is changing hands, not gone
HANDOVER = 15.0


def status(session: Session, name: str, now: datetime) -> dict:
    """Holder, heartbeat age and liveness of a lease, for /healthz."""
    lease = session.get(Lease, name)
    if lease is None:
        return {"holder": None, "heartbeat_age_seconds": None, "alive": False}
    return {"holder": lease.holder, "heartbeat_at": lease.heartbeat_at.isoformat(),
            "heartbeat_age_seconds": round((now - lease.heartbeat_at).total_seconds(), 1),
            "alive": lease.expires_at > now, "lapsed_seconds": max(0.0, round((now - lease.expires_at).total_seconds(), 1))}


def live_telephony(session: Session, now: datetime) -> dict[str, str]:
    """The telephony ("simulated" or an account SID) of each live worker lease, with its holder."""
    rows = session.execute(select(Lease.name, Lease.holder).where(Lease.name.startswith(TELEPHONY, autoescape=True),
                                                                  Lease.expires_at > now))
    return {name.removeprefix(TELEPHONY): holder for name, holder in rows}


def deployment(session: Session) -> str | None:
    """This database's deployment id, or None before any worker ran on it (``hotline check`` only looks)."""
    lease = session.get(Lease, DEPLOYMENT)
    return lease.holder if lease is not None else None


def claim_deployment(session: Session, now: datetime) -> str:
    """This database's deployment id, made at the first call: the same for every host and process on it."""
    found = deployment(session)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            session.add(Lease(name=DEPLOYMENT, holder=secrets.token_hex(8), expires_at=NEVER, heartbeat_at=now))
    except IntegrityError:  # another process made it first
        pass
    return session.get(Lease, DEPLOYMENT, populate_existing=True).holder


def announced_deployment(stored: str, public_base_url: str) -> str:
    """The id a worker announces in Redis: the database's stored id bound to the deployment's public base URL.

    A copy of the database restored from a dump (a staging copy of production) holds production's stored id; bound
    to the copy's own URL (its webhooks and links need one) it announces another id, so `hotline check` sees it
    beside production's workers. Every host of one deployment has its one URL; case and a trailing slash aside."""
    parts = urlsplit(public_base_url.strip())
    url = f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"
    return f"{stored}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"
