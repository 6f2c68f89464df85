"""A TCP relay in front of PostgreSQL that can stop relaying: a server that stops answering without closing anything.

What a stopped (SIGSTOP), swapping or partitioned database looks like to its clients: the TCP
connections stay open and the kernel takes what is sent, but no answer ever comes back.
``sever()`` is the lasting kind (a failover, a restarted host, a path that lost its state): the
connections open now never answer again, while new ones reach the server.
"""

from __future__ import annotations

import select
import socket
import threading


class FreezableProxy:
    """Relays loopback TCP connections to ``upstream``; ``freeze()`` stops relaying, ``thaw()`` resumes it."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._relaying = threading.Event()
        self._relaying.set()
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        self._generation = 0  # connections accepted before the last sever() are never relayed again
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        """Stop relaying in both directions; connections stay open, new ones are accepted and left unanswered."""
        self._relaying.clear()

    def thaw(self) -> None:
        """Relay again (what waited is delivered)."""
        self._relaying.set()

    def sever(self) -> None:
        """The connections open now stay open and never answer again; new connections are relayed."""
        self._generation += 1

    def close(self) -> None:
        """Close the listener and every relayed connection."""
        self._stopped.set()
        self._relaying.set()
        self._listener.close()
        for sock in list(self._sockets):
            sock.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target, self._generation), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, generation: int) -> None:
        try:
            while not self._stopped.is_set():
                self._relaying.wait()
                if generation != self._generation:  # severed: whatever is sent here stays unread for ever
                    self._stopped.wait(0.05)
                    continue
                readable, _, _ = select.select([source], [], [], 0.05)
                if not readable or not self._relaying.is_set():
                    continue  # frozen between the wait and the read: leave the bytes where they are
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except (OSError, ValueError):  # closed by the other direction's pump or by close()
            pass
        finally:
            target.close()
            source.close()
