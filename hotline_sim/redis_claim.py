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
from redis.exceptions import RedisError

CLAIM_SECONDS = 2 * 3600  # a claim left by a killed run lapses after this
DATABASES = range(1, 16)  # database 0 holds the claims


def claim(first: int, host: str = "127.0.0.1", port: int = 6379) -> int:
    """The first database from ``first`` on (1 to 15, wrapping) that no other process claimed; ``first`` without a
    server (the tests then use the embedded one) or with every database claimed."""
    try:
        conn = Redis(host=host, port=port, socket_connect_timeout=1, socket_timeout=1)
        for i in range(len(DATABASES)):
            db = 1 + (first - 1 + i) % len(DATABASES)
            if conn.set(_key(db), os.getpid(), nx=True, ex=CLAIM_SECONDS):
                atexit.register(_release, conn, db)
                return db
    except RedisError:
        pass
    return first


def _key(db: int) -> str:
    return f"hotline-test-db:{db}"


def _release(conn: Redis, db: int) -> None:
    with contextlib.suppress(RedisError):
        if conn.get(_key(db)) == str(os.getpid()).encode():
            conn.delete(_key(db))
