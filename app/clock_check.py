"""``hotline check``: this machine's clock against the deployment's reference clock (``app.reference_clock``)."""

from __future__ import annotations

from app.clock import SKEW_BOUND_SECONDS, Clock, Reading, SystemClock
from app.config_report import CheckReport
from app.settings import Settings


def clock_problems(settings: Settings, report: CheckReport, own: Clock | None = None) -> Reading | None:
    """This host's clock (``own``) against PostgreSQL's (on SQLite, a REDIS_URL's server's): a warning over the
    bound. The reading, or None when there is nothing to read."""
    from redis import Redis

    from app.db import Database
    from app.queue import REDIS_TIMEOUT_SECONDS
    from app.reference_clock import ReferenceClock

    db = Database(settings.resolved_database_url)
    redis = (Redis.from_url(settings.redis_url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                            socket_connect_timeout=REDIS_TIMEOUT_SECONDS) if settings.redis_url else None)
    try:
        reference = ReferenceClock.of(db, redis)
        if reference is None:
            report.passed.append("clock: no reference clock to compare with (SQLite and the embedded Redis run on this "
                                 "host's clock)")
            return None
        try:
            reading = reference.read(own or SystemClock())
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            report.warn("clock", f"could not read {reference.name}'s clock ({type(exc).__name__}).")
            return None
    finally:
        db.dispose()
        if redis is not None:
            redis.close()
    if reading is None:
        report.warn("clock", f"{reference.name}'s clock answered too slowly to compare this host's clock with it.")
    elif abs(reading.offset) > SKEW_BOUND_SECONDS:
        report.warn("clock", f"this host's clock is {reading.describe()} (over {SKEW_BOUND_SECONDS:g} s; round trip "
                    f"{reading.round_trip * 1000:.1f} ms). serve and worker keep {reference.name}'s time, so steps "
                    "and pages stay on time, but the host's own logs and anything else on it are off.",
                    "fix NTP on this host (chronyc tracking / timedatectl status)")
    else:
        report.passed.append(f"clock: this host is {reading.describe()} (round trip {reading.round_trip * 1000:.1f} ms)")
    return reading
