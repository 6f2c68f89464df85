"""A real local SMTP server (aiosmtpd) that keeps every message it accepts."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Inbox:
    """aiosmtpd handler: stores each accepted message, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        """Accept and keep the message."""
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """Messages addressed to ``address``, oldest first."""
        return [m for m in self.messages if address in str(m["To"])]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """Start and stop a local SMTP server on a fixed port (stopping it makes sends fail).

    ``options`` go to aiosmtpd's SMTP server, e.g. ``authenticator`` and ``auth_require_tls``.
    """

    def __init__(self, inbox: Inbox | None = None, **options: object) -> None:
        self.inbox = inbox if inbox is not None else Inbox()
        self.port = free_port()
        self.options = options
        self.controller: Controller | None = None

    def start(self) -> None:
        """Listen on 127.0.0.1:port."""
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until started again."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
