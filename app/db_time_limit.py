"""A time limit on each web request's database work: a PostgreSQL that stops answering must not hold a webhook.

libpq waits on its socket without a limit once it is connected. A server that stops answering
(stopped, frozen, swapping, a network path that drops packets) held a webhook's thread until it
came back: long after Twilio gave up (15 s) and played its own error to the caller, and with
every thread of a web worker held the same way, nothing else was answered either.

Within a request (``install``: every request of the app),
each pooled connection the thread checks out is watched. When the request's time is up, one
thread per process shuts that connection's socket down: libpq's wait ends with "server closed
the connection unexpectedly", SQLAlchemy drops the connection from the pool, and the request's own
error path answers (a voice webhook saves the caller to the spool and takes a voicemail; /healthz, whose
limit is HEALTH_SECONDS, says the database does not answer). A connection opened within the limit gets
what is left of it as its ``connect_timeout``, and none once it is spent.

``hotline worker`` (``limit_background``): outside a request, each connection a thread checks out
must be handed back within WORKER_SECONDS. Without it a job, the watchdog or a page thread waited
for ever on a connection whose server never answers again (a failover, a restarted host, a network
path that lost its state: the socket stays open and nothing comes), and that thread never ran
another step; a worker's transactions take milliseconds, and its sends to Twilio and the mail
server happen between transactions, not inside one. The CLI sets no limit (a full ``hotline db
rebuild-facts`` may run for minutes). PostgreSQL only: SQLite is a file and waits on nothing but its
own lock (``busy_timeout``).
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Iterator

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

log = logging.getLogger(__name__)
# Twilio waits 15 s for a webhook; what is left after 8 s covers the spool's write and the network.
WEBHOOK_SECONDS = 8.0
# Pages and the API: a person waits, and the thread serves webhooks too.
REQUEST_SECONDS = 30.0
# /healthz's database work as a whole. A server that answers is bounded statement by statement
# (``db_wait_bound.BOUND_SECONDS``, 2 s: "slow"); this is for one that does not answer at all (frozen, a network
# path that drops packets): a load balancer's check (2 to 5 s) gets "not answering" in time instead of a time-out,
# and the poll holds no thread for REQUEST_SECONDS. Not cut to SUSPECT_SECONDS: a lock's 2 s wait must end first.
HEALTH_SECONDS = 3.0
HEALTH_PATH = "/healthz"
# Once a connection had to be shut and none has answered since, a request gets this long: callers queued
# behind the first ones must not each wait the full limit for a server that is known not to answer.
# (libpq's shortest connect_timeout: a request that has to open a connection waits that long anyway.)
SUSPECT_SECONDS = 2.0
# hotline worker, outside a request: each checkout's limit (a transaction there takes milliseconds)
WORKER_SECONDS = 30.0
# hotline worker: the server ends a session of the worker's left idle inside a transaction this long (PostgreSQL's
# idle_in_transaction_session_timeout). The limit above is kept by a thread of the worker itself, so a worker frozen
# mid-transaction (SIGSTOP, a VM paused, swapped out) kept its row locks, and every other worker's step on that
# incident, and a rep's ACK by SMS, waited behind it for as long as it stayed frozen.
WORKER_IDLE_IN_TRANSACTION_SECONDS = 15.0
IDLE_GUARDED = "hotline_idle_guarded"  # set in a connection's ``info`` once its session has the server's limit
# The longest a transaction of the app's can stay open and still commit: a log line it wrote (stamped
# ``written_at`` when written) can appear that long after its stamp (``reports.params``: a provisional as_of)
LONGEST_TRANSACTION_SECONDS = max(WEBHOOK_SECONDS, REQUEST_SECONDS, WORKER_SECONDS)
TWILIO_PREFIX = "/twilio/"
TICK_SECONDS = 0.25  # how late past its limit a connection may be shut (the watcher looks this often)
LIBPQ_MIN_CONNECT_TIMEOUT = 2  # libpq takes a connect_timeout of 1 as 2

_local = threading.local()


def begin(seconds: float, shorten_when_suspect: bool = True) -> None:
    """Start this thread's limit: its database work must end within ``seconds`` (SUSPECT_SECONDS at most
    while the server is suspect, unless ``shorten_when_suspect`` is False)."""
    _local.deadline = _from_now(seconds) if shorten_when_suspect else time.monotonic() + seconds


def spent() -> bool:
    """Whether this thread's limit has passed: database work that failed now was cut off at it (no answer in time)."""
    deadline = _deadline()
    return deadline is not None and time.monotonic() >= deadline


def _from_now(seconds: float) -> float:
    if WATCHER.suspect():
        seconds = min(seconds, SUSPECT_SECONDS)
    return time.monotonic() + seconds


_background_seconds: float | None = None  # what each checkout outside a request gets (None: no limit)


def limit_background(seconds: float | None = WORKER_SECONDS) -> None:
    """Every process-wide checkout outside a request must be handed back within ``seconds`` (``hotline
    worker``; None lifts it). A request's own limit still applies within the request."""
    global _background_seconds
    _background_seconds = seconds


def background_seconds() -> float | None:
    """The limit each checkout outside a request gets now (None: none)."""
    return _background_seconds


def end() -> None:
    """Lift this thread's limit (connections still checked out stay watched until they are returned)."""
    _local.deadline = None


def _deadline() -> float | None:
    return getattr(_local, "deadline", None)


def each_piece(pieces: Iterator[bytes], seconds: float | None = None) -> Iterator[bytes]:
    """``pieces`` read from the database while they are sent (a streamed export): each must come from the
    database within ``seconds`` (REQUEST_SECONDS). The body is sent after its request's limit has ended, so
    without this a server that stopped answering held the thread for ever; the time a slow client takes to
    read a piece does not count (the connection the stream holds is not watched meanwhile). Inside a
    request, its own limit still applies."""
    outer = _deadline()
    seconds = REQUEST_SECONDS if seconds is None else seconds
    try:
        while True:
            deadline = _from_now(seconds)
            _local.deadline = deadline if outer is None else min(deadline, outer)
            _rewatch_mine(_local.deadline)  # the connection the stream holds since an earlier piece
            try:
                piece = next(pieces)
            except StopIteration:
                return
            finally:
                _local.deadline = outer
                _rewatch_mine(outer)
            yield piece
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


def _mine() -> dict:
    """The connections this thread has checked out and not returned (id of their pool entry -> connection)."""
    try:
        return _local.mine
    except AttributeError:
        _local.mine = {}
        return _local.mine


def _rewatch_mine(deadline: float | None) -> None:
    for conn in _mine().values():
        if deadline is None:
            WATCHER.pause(conn)
        else:
            WATCHER.watch(conn, deadline)


def install(app) -> None:
    """Limit every request of ``app``: Twilio's webhooks to WEBHOOK_SECONDS, /healthz to HEALTH_SECONDS, the rest
    to REQUEST_SECONDS."""
    from flask import request

    @app.before_request
    def _begin_limit() -> None:
        if request.path == HEALTH_PATH:
            begin(HEALTH_SECONDS, shorten_when_suspect=False)
        else:
            begin(WEBHOOK_SECONDS if request.path.startswith(TWILIO_PREFIX) else REQUEST_SECONDS)

    @app.teardown_request
    def _end_limit(_exc: BaseException | None) -> None:
        end()


def watch(engine: Engine) -> None:
    """Watch ``engine``'s connections while a limit is in force (PostgreSQL engines)."""
    event.listen(engine, "checkout", _on_checkout)
    event.listen(engine, "checkin", _on_checkin)
    event.listen(engine, "do_connect", _on_connect)


def _on_connect(dialect, _record, _cargs, cparams: dict) -> None:
    deadline = _deadline()
    if deadline is None:
        return
    left = deadline - time.monotonic()
    if left <= 0:
        raise dialect.loaded_dbapi.OperationalError("this request's time for the database is spent")
    current = cparams.get("connect_timeout")
    bound = max(LIBPQ_MIN_CONNECT_TIMEOUT, math.ceil(left))
    cparams["connect_timeout"] = bound if current is None else min(int(float(current)), bound)


def _on_checkout(dbapi_conn, record, _proxy) -> None:
    _mine()[id(record)] = dbapi_conn  # by its pool entry: an invalidated connection is checked in as None
    deadline = _deadline()
    if deadline is None and _background_seconds is not None:
        deadline = _from_now(_background_seconds)  # each checkout its own: a watchdog pass takes many
    if deadline is not None:
        WATCHER.watch(dbapi_conn, deadline)
    if _background_seconds is not None and not record.info.get(IDLE_GUARDED):  # watched: the SET waits no longer
        _guard_idle_transactions(dbapi_conn)
        record.info[IDLE_GUARDED] = True


def _guard_idle_transactions(dbapi_conn) -> None:
    """Have the server end this session once it sits idle inside a transaction for
    WORKER_IDLE_IN_TRANSACTION_SECONDS (once per connection of ``hotline worker``, at its first checkout there).
    Committed at once: a SET inside a transaction that is rolled back is undone. A connection that fails it is
    dropped, and the pool opens another (``DisconnectionError``)."""
    try:
        with dbapi_conn.cursor() as cursor:
            cursor.execute("SET idle_in_transaction_session_timeout = %s",
                           (f"{round(WORKER_IDLE_IN_TRANSACTION_SECONDS * 1000)}ms",))
        dbapi_conn.commit()
    except Exception as exc:  # noqa: BLE001 - the driver's error, whichever: this connection is not to be used
        raise DisconnectionError(f"could not limit the session's idle transactions: {exc}") from exc


def _on_checkin(dbapi_conn, record) -> None:
    mine = _mine().pop(id(record), None)
    # An invalidated connection (a dropped one) is checked in as None: forget the one this thread checked out, or it
    # stayed watched until its deadline (a request retried after a drop, probe D1, left it counted in ``watching``).
    conn = dbapi_conn if dbapi_conn is not None else mine
    if conn is not None:
        WATCHER.forget(conn)


class Watcher:
    """Shuts down the socket of each watched connection still checked out at its deadline (one thread per process)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._watched: dict[int, tuple[float, object]] = {}  # id(connection) -> (deadline, connection)
        self._pid = 0
        self.shut = 0  # connections shut down so far (for logs and tests)
        self.shut_at = 0.0  # when the last one was (monotonic)
        self.answered_at = 0.0  # when a connection was last handed back open: the server answered

    def watch(self, conn: object, deadline: float) -> None:
        """Shut ``conn`` down at ``deadline`` unless it is forgotten first."""
        with self._cond:
            if self._pid != os.getpid():  # a forked child: the parent's thread is not here
                self._pid, self._watched = os.getpid(), {}
                threading.Thread(target=self._run, name="db-time-limit", daemon=True).start()
            self._watched[id(conn)] = (deadline, conn)  # no wake-up: a thread switch per request would cost more

    def forget(self, conn: object) -> None:
        """``conn`` was returned to the pool: no longer watched."""
        with self._cond:
            self._watched.pop(id(conn), None)
            if not getattr(conn, "closed", True):
                self.answered_at = time.monotonic()

    def pause(self, conn: object) -> None:
        """Stop watching ``conn`` while it stays checked out (a streamed body waits for its client)."""
        with self._cond:
            self._watched.pop(id(conn), None)

    def suspect(self) -> bool:
        """True when a connection was shut at its limit and none has come back open since."""
        return self.shut_at > self.answered_at

    def watching(self) -> int:
        """How many connections are watched now."""
        with self._cond:
            return len(self._watched)

    def _run(self) -> None:
        pid = os.getpid()
        with self._cond:
            while self._pid == pid:
                now = time.monotonic()
                for key, (deadline, conn) in list(self._watched.items()):
                    if deadline <= now:
                        del self._watched[key]
                        if _shut_down(conn):
                            self.shut, self.shut_at = self.shut + 1, now
                            log.warning("a database connection was shut at its time limit: "
                                        "the server did not answer in time")
                self._cond.wait(TICK_SECONDS)


def _shut_down(conn) -> bool:
    """Shut the connection's socket down (both ways) so that libpq's wait on it ends; True if it was open."""
    if getattr(conn, "closed", True):
        return False
    try:
        with socket.socket(fileno=os.dup(conn.fileno())) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except Exception:  # noqa: BLE001 - closed meanwhile; this thread must outlive any one connection
        return False
    return True


WATCHER = Watcher()
