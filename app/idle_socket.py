"""Whether a kept-alive connection's socket was closed by the other side while it sat idle."""

from __future__ import annotations

import select


def closed_while_idle(sock) -> bool:
    """True when an idle socket (or file descriptor) is readable, or unusable: a healthy idle connection has
    nothing to read, so the server closed it (restart, idle time-out) and said so. Costs no round trip."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):  # already closed on our side
        return True
    return bool(readable)
