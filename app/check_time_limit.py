"""``hotline check`` within a time limit, naming the server it still waits for when the limit ends (probe T4).

Each probe gives up on its own first connection after a few seconds (``probes.CONNECT_TIMEOUT_SECONDS``), but a
server that answers that probe and then stops answering (frozen, swapping, a firewall that drops the packets of an
established connection) held a later step's connection for ever: the deployment's acceptance step never ended and
said nothing. The checks run in a thread of their own; when the limit ends first, the report says what was found so
far and an error naming the server the check was waiting for (``CheckReport.asking``). The thread is left waiting
(a daemon: the command exits with it); nothing it adds afterwards is printed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.config_report import CheckReport
from app.probes import first_line


def within(seconds: float, run: Callable[[CheckReport], object]) -> CheckReport:
    """``run(report)`` given at most ``seconds``: its report, or what it found by then with an error naming the server
    it waits for. A server that failed a step within the limit (a time-out or a dropped connection of a step with no
    answer of its own for it) is such an error too, naming it; any other exception of ``run`` is raised here, as if it
    had run in this thread."""
    report = CheckReport()
    failed: list[BaseException] = []

    def checks() -> None:
        try:
            run(report)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, raised there
            failed.append(exc)

    thread = threading.Thread(target=checks, name="hotline-check", daemon=True)
    thread.start()
    thread.join(seconds)
    if failed and not _server_failed(failed[0]):
        raise failed[0]
    if not failed and not thread.is_alive():
        return report
    found = report.so_far()
    waited = found.asking or "a step of the check"
    said = (f"stopped: {waited} failed it ({first_line(failed[0])})" if failed else
            f"did not finish within {seconds:g} s: it was still waiting for {waited}, which did not answer")
    found.error("hotline check", f"{said}; the checks after that one did not run.",
                f"find out why {waited} does not answer (a frozen or overloaded server, a firewall dropping the "
                "connection's packets), then run hotline check again; --time-limit sets the limit")
    return found


def _server_failed(exc: BaseException) -> bool:
    """A server's time-out or dropped connection (the socket's, Redis's, the database driver's), not a bug."""
    from redis.exceptions import RedisError
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, (OSError, RedisError, DBAPIError))
