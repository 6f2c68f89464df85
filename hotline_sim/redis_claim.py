"""A database of the local Redis that no other test run or benchmark on this machine uses.

The test runs (``tests/conftest.py``) and the benchmarks (``bench/common.py``) each flush or sweep the Redis
database they use, and register RQ workers there. CI runs the benchmark smoke check beside the tests, and a
developer may run a targeted test next to a full run: each claims its database with a key in database 0
(``SET NX``, expiring after CLAIM_SECONDS so a killed run's claim lapses, deleted at exit), so none ever sees
another's jobs or workers.
"""

from __future__ import annotations

import atexit
import contextlib
import os

from redis import Redis
from redis.exceptions import RedisError, WatchError

CLAIM_SECONDS = 2 * 3600  # a claim left by a killed run lapses after this
DATABASES = range(1, 16)  # database 0 holds the claims


def claim(first: int, host: str = "127.0.0.1", port: int = 6379) -> int:
    """The first database from ``first`` on (1 to 15, wrapping) that no live process claimed; ``first`` without a
    server (the tests then use the embedded one) or with every database claimed by a live process.

    A claim whose process is gone is taken over: pytest-xdist ends its workers without running their exit
    handlers, so every parallel run left its workers' claims behind for CLAIM_SECONDS, and after a few runs every
    database was claimed and each new run fell back to ``first``, sharing (and flushing) another's database."""
    try:
        conn = Redis(host=host, port=port, socket_connect_timeout=1, socket_timeout=1)
        for i in range(len(DATABASES)):
            db = 1 + (first - 1 + i) % len(DATABASES)
            if conn.set(_key(db), os.getpid(), nx=True, ex=CLAIM_SECONDS) or _take_over(conn, db):
                atexit.register(_release, conn, db)
                return db
    except RedisError:
        pass
    return first


def _take_over(conn: Redis, db: int) -> bool:
    """Claim ``db`` if the process that claimed it on this machine no longer runs (checked and set atomically)."""
    with conn.pipeline() as pipe:
        try:
            pipe.watch(_key(db))
            holder = pipe.get(_key(db))
            if holder is None or not holder.isdigit() or _alive(int(holder)):
                return False
            pipe.multi()
            pipe.set(_key(db), os.getpid(), ex=CLAIM_SECONDS)
            pipe.execute()
            return True
        except WatchError:  # another process took it over first
            return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _key(db: int) -> str:
    return f"hotline-test-db:{db}"


def _release(conn: Redis, db: int) -> None:
    with contextlib.suppress(RedisError):
        if conn.get(_key(db)) == str(os.getpid()).encode():
            conn.delete(_key(db))
