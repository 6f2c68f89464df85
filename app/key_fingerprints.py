"""Each worker's SECRET_KEY, announced in Redis as a fingerprint, so a host signing with another key is seen.

SECRET_KEY signs the acknowledgement links of page SMS and the resolution links of customers' e-mails (workers make
them, web processes check them) and the dashboard's session cookies. An outside probe's second web host with another
SECRET_KEY passed `hotline check` (0 errors) and answered /healthz "ok" with no warning, and refused as "not valid"
every acknowledgement link the deployment's workers had texted. Each worker's watchdog pass now announces, beside
its queues, a fingerprint of its key (an HMAC under the key: it reveals nothing of it) with the time;
``secret_key_problems`` (check and the start of serve and worker) and /healthz compare the live ones with their own.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from redis import Redis

from app.config_report import CheckReport, Role
from app.settings import Settings

# QUEUE_NAME -> a hash: each SECRET_KEY fingerprint the workers on its queues sign with -> "<unix time> <holder>" of
# the last worker that announced it (a hash by key, not by worker: it does not grow with each restart)
FINGERPRINTS_KEY = "hotline:key-fingerprints:{}"
FINGERPRINTS_TTL_SECONDS = 3600
FINGERPRINT_INFO = b"hotline secret key fingerprint"

# what breaks, and why one may see it for a moment: shared by `hotline check` and /healthz
BREAKS = ("the acknowledgement links in the page SMS such a worker sends (and the resolution links in the customers' "
          "e-mails) are refused as not valid by web processes with another key, and a dashboard session made on one "
          "host is logged out on another")
ROLLING = "a rolling change of SECRET_KEY shows this until every worker has restarted with the new key"
FIX = "one SECRET_KEY on every host (every `hotline serve` and `hotline worker`) of the deployment"


def fingerprint(key: str) -> str:
    """What a worker announces of its signing key: 12 hex digits of an HMAC under it, which reveal nothing of it."""
    return hmac.new(key.encode(), FINGERPRINT_INFO, hashlib.sha256).hexdigest()[:12]


def announce_key(redis: Redis, queue_name: str, holder: str, key: str, at: float) -> None:
    """Worker ``holder`` on the queues of ``queue_name`` signs with ``key``, as of ``at`` (its watchdog's pass)."""
    name = FINGERPRINTS_KEY.format(queue_name)
    with redis.pipeline(transaction=False) as pipe:
        pipe.hset(name, fingerprint(key), f"{at:.0f} {holder}")
        pipe.expire(name, FINGERPRINTS_TTL_SECONDS)
        pipe.execute()


def other_keys(redis: Redis, queue_name: str, key: str, since: float) -> dict[str, str]:
    """The fingerprints other than ``key``'s that workers announced at ``since`` or later, each with the last worker
    that did (one read; raises as Redis does: the caller's to catch)."""
    mine, found = fingerprint(key), {}
    for name, value in redis.hgetall(FINGERPRINTS_KEY.format(queue_name)).items():
        at, _, holder = value.decode().partition(" ")
        if name.decode() != mine and at.isdecimal() and int(at) >= since:
            found[name.decode()] = holder
    return found


def secret_key_problems(settings: Settings, report: CheckReport, now: datetime, role: Role) -> None:
    """A live worker signs with another SECRET_KEY than this host's settings: an error of ``hotline check``, a
    warning at the start of ``serve`` and ``worker`` (a process refused start would take no caller, page nobody)."""
    if not settings.redis_url:
        return  # an embedded Redis serves this host's processes alone, which share its data dir's key
    from redis import Redis

    from app import probes
    from app.queue import ANNOUNCED_LIVE_SECONDS

    key = _this_hosts_key(settings, role)
    if key is None:
        return  # no key made on this host yet (check only looks): SECRET_KEY's own warning asks for one
    conn = Redis.from_url(settings.redis_url, socket_connect_timeout=probes.CONNECT_TIMEOUT_SECONDS)
    try:
        others = other_keys(conn, settings.queue_name, key, now.timestamp() - ANNOUNCED_LIVE_SECONDS)
    finally:
        conn.close()
    if not others:
        return
    own = ("" if settings.secret_key else " (unset here: this host signs with a random key of its own "
           "HOTLINE_DATA_DIR)")
    (report.error if role == Role.CHECK else report.warn)(
        "SECRET_KEY", f"a hotline worker running now ({', '.join(sorted(others.values()))}) signs with another "
        f"SECRET_KEY than this host's settings{own}: {BREAKS}. ({ROLLING}.)",
        f"set {FIX}, and restart the processes whose key differs")


def _this_hosts_key(settings: Settings, role: Role) -> str | None:
    """The key this host's processes sign with; None for ``hotline check`` when there is none yet (it makes none)."""
    if settings.secret_key or role != Role.CHECK:
        return settings.signing_key()
    try:
        return (settings.data_dir / "secret_key").read_text().strip() or None
    except OSError:
        return None
