"""glibc's malloc, tuned for a long-running process (issue 12: a web worker's and a worker's memory).

One arena for all of a process's threads, and the heap's free pages given back after a page.

glibc gives each thread that allocates its own arena (up to eight per core), and each arena keeps
freed memory of its own: a gunicorn worker with four request threads ended its load about 1 MB
larger than with one arena, and `hotline worker` 1.5 MB, measured side by side (README, "Where
issue 12 stands"). Python allocates under the
GIL, so the threads seldom contend for one arena. An operator's ``MALLOC_ARENA_MAX`` is left alone,
and a C library other than glibc (no ``mallopt``) is left as it is.
"""

from __future__ import annotations

import os

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def share_one_arena() -> bool:
    """Limit this process (and the processes it forks) to one malloc arena; whether the limit is set."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False  # glibc read the operator's own limit at start
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, 1))


class HeapTrim:
    """``malloc_trim(0)``: give the heap's free pages back to the system (glibc keeps them otherwise).

    A manager's page (a year's report, an export, the board) builds large responses; glibc keeps the
    freed memory in the process, and RSS stays at its peak. A web worker that served the manager's
    pages of bench/memory.py held 1.4 MB less with the trim (77.5 against 78.9 MB; 1.2 MB with
    docstrings kept). Not after webhooks: they leave little behind, and a trim costs time on the
    call's path.
    """

    def __init__(self) -> None:
        try:
            import ctypes

            self._trim = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError):  # not glibc
            self._trim = None

    def __call__(self) -> bool:
        """Trim now; whether anything was given back (False too where there is no glibc)."""
        return bool(self._trim(0)) if self._trim is not None else False
