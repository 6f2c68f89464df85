"""gunicorn's threaded worker, reading each request whole before a thread takes it (slow clients).

gunicorn's ``gthread`` worker hands a connection to one of its threads as soon as its first bytes
arrive, and the thread then reads the headers and the body with no deadline: a dozen clients
trickling their requests held every thread of ``hotline serve`` (2 workers x 4 threads) and
Twilio's webhooks timed out. Here the worker's own event loop reads a request's bytes as they come,
without a thread, up to its end (the blank line after the headers, then ``Content-Length`` bytes or
a chunked body's last chunk), and only then hands the connection, with the bytes read, to a thread.
A request not whole ``REQUEST_SECONDS`` after the connection opened (or after a kept-alive one showed
its first byte) is answered ``408`` and closed; one larger than ``MAX_REQUEST_BYTES`` ``413`` (headers longer
than ``MAX_HEAD_BYTES`` ``431``; past ``MAX_BUFFERED_BYTES`` in all, ``503``). Slow
clients then cost a socket each, never a thread; at gunicorn's ``worker_connections`` the oldest request
still being read makes room for a new connection, so a flood of them does not stop the worker accepting.

Bytes a client sent beyond the request (pipelining) wait in the same way for the next one. TLS and
HTTP/2 with prior knowledge (not used by ``hotline serve``, which speaks HTTP/1.1 behind the TLS
terminator) keep gunicorn's own path.
"""

from __future__ import annotations

import errno
import re
import selectors
import time
from dataclasses import dataclass, field
from functools import partial

from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

REQUEST_SECONDS = 10.0  # Twilio waits 15 s for a webhook's answer: the request must be in well before
MAX_REQUEST_BYTES = 1024 * 1024 + 64 * 1024  # the app's 1 MiB body (app/factory.py) and its headers
MAX_HEAD_BYTES = 64 * 1024  # headers that have not ended by then never will (Twilio's are under 4 KiB)
MAX_BUFFERED_BYTES = 64 * 1024 * 1024  # all requests being read by one worker: beyond it, 503
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d+)[ \t]*(?=\r\n|$)", re.IGNORECASE)
_HEX = re.compile(rb"[0-9a-fA-F]+")  # a chunk's size as gunicorn reads it (no sign, "0x" or "_")
_CHUNKED = re.compile(rb"\r\ntransfer-encoding[ \t]*:[^\r\n]*chunked", re.IGNORECASE)
_EXPECT_CONTINUE = re.compile(rb"\r\nexpect[ \t]*:[ \t]*100-continue[ \t]*(?=\r\n|$)", re.IGNORECASE)
_CLOSING = {408: b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            413: b"HTTP/1.1 413 Content Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            431: b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            503: b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"}
TOO_LARGE, HEAD_TOO_LARGE, INCOMPLETE = -1, -2, None


def request_end(data: bytes | bytearray) -> int | None:
    """Where the first request in ``data`` ends; None while it is not whole, TOO_LARGE past MAX_REQUEST_BYTES,
    HEAD_TOO_LARGE for headers not ended within MAX_HEAD_BYTES."""
    return RequestEnd().find(data)


class RequestEnd:
    """``request_end`` of a buffer that grows, resuming where the last look stopped: a request trickled a byte at a
    time is scanned once in all, not once per byte."""

    def __init__(self) -> None:
        self.searched = 0  # where the blank line after the headers is looked for next
        self.body = -1  # where the body starts, once the headers are whole
        self.length_end = 0  # a Content-Length body: where it ends
        self.chunk_at = -1  # a chunked body: the next chunk's size line (or, after the last chunk, its trailers)
        self.trailers = False

    def find(self, data: bytes | bytearray) -> int | None:
        if self.body < 0:
            head_end = data.find(b"\r\n\r\n", max(self.searched - 3, 0), MAX_HEAD_BYTES + 4)
            if head_end < 0:
                self.searched = len(data)
                return HEAD_TOO_LARGE if len(data) > MAX_HEAD_BYTES else INCOMPLETE
            head, self.body = bytes(data[:head_end]), head_end + 4
            if _CHUNKED.search(head):
                self.chunk_at = self.body
            else:
                length = _CONTENT_LENGTH.search(head)
                self.length_end = self.body + (int(length.group(1)) if length else 0)
        if self.chunk_at < 0:
            if self.length_end > MAX_REQUEST_BYTES:
                return TOO_LARGE
            return self.length_end if len(data) >= self.length_end else INCOMPLETE
        end = self._chunks(data)
        return TOO_LARGE if end is INCOMPLETE and len(data) > MAX_REQUEST_BYTES else end

    def _chunks(self, data: bytes | bytearray) -> int | None:
        """Walk the chunks' sizes as gunicorn's parser will, so no chunk's data is taken for the end. A size that is
        no number ends the request where it stands: the parser then refuses it without reading further."""
        while not self.trailers:
            line_end = data.find(b"\r\n", self.chunk_at)
            if line_end < 0:
                return INCOMPLETE
            size_text, *extension = bytes(data[self.chunk_at:line_end]).split(b";", 1)
            size_text = size_text.rstrip(b" \t") if extension else size_text  # gunicorn's reading, digits alone
            if not _HEX.fullmatch(size_text):
                return line_end + 2
            size = int(size_text, 16)
            if size == 0:  # the last chunk, then trailer lines up to an empty one
                self.trailers, self.chunk_at = True, line_end
                break
            if line_end + 2 + size + 2 > len(data):
                return INCOMPLETE
            self.chunk_at = line_end + 2 + size + 2
        end = data.find(b"\r\n\r\n", self.chunk_at)
        if end < 0:
            self.chunk_at = max(self.chunk_at, len(data) - 3)
            return INCOMPLETE
        return end + 4


@dataclass
class _Reading:
    deadline: float
    data: bytearray = field(default_factory=bytearray)
    looked: bool = False  # for "Expect: 100-continue", once the headers were whole
    continued: bool = False  # "100 Continue" sent
    end: RequestEnd = field(default_factory=RequestEnd)


class BufferingThreadWorker(ThreadWorker):
    """``gthread`` whose threads only ever see a request already read whole (``worker_class`` of ``hotline serve``)."""

    def init_process(self) -> None:
        self.reading: dict[TConn, _Reading] = {}
        self.buffered = 0  # bytes held by ``reading``
        super().init_process()

    def _buffers(self, conn: TConn) -> bool:
        return not self.cfg.is_ssl and not negotiation.prior_knowledge_allowed(self.cfg, conn.client)

    def accept(self, listener) -> None:
        """A new connection: read its request on the event loop (gunicorn's own path for TLS and HTTP/2)."""
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())  # non-blocking
        if self._buffers(conn):
            self._make_room()
            self._read(conn, b"")
        else:
            self.enqueue_req(conn)

    def _make_room(self) -> None:
        """At gunicorn's ``worker_connections`` the worker would stop accepting: a flood of slow connections would
        keep Twilio out until their deadlines. The oldest request still being read goes instead (503): a request
        that comes whole at once never waits long enough to be the oldest."""
        if self.nr_conns < self.worker_connections or not self.reading:
            return
        oldest = min(self.reading, key=lambda conn: self.reading[conn].deadline)
        if self.reading[oldest].data:
            self._refuse(oldest, 503)
        else:
            self._drop(oldest)

    def on_client_socket_readable(self, conn: TConn, client) -> None:
        """A kept-alive connection sends its next request: read it whole first, as a new one's."""
        if not self._buffers(conn):
            super().on_client_socket_readable(conn, client)
            return
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read(conn, b"")

    def _read(self, conn: TConn, data: bytes) -> None:
        """Read ``conn``'s request (``data``: its first bytes, if any), at once as far as the socket holds it."""
        reading = self.reading[conn] = _Reading(time.monotonic() + REQUEST_SECONDS, bytearray(data))
        self.buffered += len(data)
        if self._receive(conn, reading, registered=False):  # a request often is all there: no wait on the poller
            self._advance(conn, reading, registered=False)

    def _on_bytes(self, conn: TConn, _client) -> None:
        reading = self.reading[conn]
        if self._receive(conn, reading, registered=True):
            self._advance(conn, reading, registered=True)

    def _receive(self, conn: TConn, reading: _Reading, registered: bool) -> bool:
        """Add what the socket holds now; False when the connection was given up (the client left, or the bytes
        being read by this worker passed MAX_BUFFERED_BYTES)."""
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            data = b""
        if not data:  # the client went away before its request was whole
            self._drop(conn, registered)
            return False
        reading.data += data
        self.buffered += len(data)
        if self.buffered > MAX_BUFFERED_BYTES:  # many large requests read slowly at once: this one waits no more
            self._refuse(conn, 503, registered)
            return False
        return True

    def _advance(self, conn: TConn, reading: _Reading, registered: bool) -> None:
        """Hand the connection to a thread once its request is whole; until then, wait on the event loop."""
        end = reading.end.find(reading.data)
        if end is INCOMPLETE:
            self._continue(conn, reading)
            if not registered:
                self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_bytes, conn))
            return
        if registered:
            self.poller.unregister(conn.sock)
        if end in (TOO_LARGE, HEAD_TOO_LARGE):
            self._refuse(conn, 413 if end == TOO_LARGE else 431, registered=False)
            return
        del self.reading[conn]
        self.buffered -= len(reading.data)
        request, conn.leftover = bytes(reading.data[:end]), bytes(reading.data[end:])
        if reading.continued:  # answered here: gunicorn must not send a second "100 Continue"
            head_end = request.find(b"\r\n\r\n")
            request = _EXPECT_CONTINUE.sub(b"", request[:head_end], count=1) + request[head_end:]
        conn.request_bytes = request
        conn.data_ready = True  # gunicorn's thread must not wait for the socket to be readable
        self.enqueue_req(conn)

    def _continue(self, conn: TConn, reading: _Reading) -> None:
        """A client that waits for ``100 Continue`` before its body (curl, above 1 KiB) is told to go on (looked at
        once, when the headers are whole)."""
        if reading.looked or reading.end.body < 0:
            return
        reading.looked = True
        if not _EXPECT_CONTINUE.search(bytes(reading.data[:reading.end.body - 4])):
            return
        reading.continued = True
        try:
            conn.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        except OSError:
            pass

    def handle(self, conn: TConn):
        """In the thread: the request read on the event loop goes to gunicorn's parser before the socket."""
        request = getattr(conn, "request_bytes", b"")
        if request:
            conn.request_bytes = b""
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(request)
        return super().handle(conn)

    def finish_request(self, conn: TConn, fs) -> None:
        """After the answer: bytes the client sent beyond the request wait on the event loop for the rest."""
        leftover = getattr(conn, "leftover", b"")
        conn.leftover = b""
        kept = False
        if leftover and self.alive and not fs.cancelled() and fs.exception() is None:
            kept = fs.result() is True and not conn.parser.unreader.buf.getvalue()
        if not kept:
            super().finish_request(conn, fs)
            return
        conn.sock.setblocking(False)
        self._read(conn, leftover)

    def murder_pending(self) -> None:
        """gunicorn's expiry of idle connections, and ours: a request not whole in time is answered 408 (a
        connection that sent nothing at all, as a browser's speculative one, is closed without a word)."""
        super().murder_pending()
        now = time.monotonic()
        for conn, reading in list(self.reading.items()):
            if not self.alive:  # stopping: a request on its way gets gunicorn's linger, a silent connection nothing
                reading.deadline = min(reading.deadline, now + STOP_KEEPALIVE_LINGER) if reading.data else now
            if reading.deadline <= now:
                if reading.data:
                    self._refuse(conn, 408)
                else:
                    self._drop(conn)

    def _refuse(self, conn: TConn, status: int, registered: bool = True) -> None:
        try:
            conn.sock.send(_CLOSING[status])
        except OSError:
            pass
        self._drop(conn, registered)

    def _drop(self, conn: TConn, registered: bool = True) -> None:
        reading = self.reading.pop(conn, None)
        self.buffered -= len(reading.data) if reading is not None else 0
        if registered:
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass
        self.nr_conns -= 1
        conn.close()
