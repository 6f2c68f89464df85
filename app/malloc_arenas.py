"""One glibc malloc arena for all of a process's threads (issue 12: a web worker's and a worker's memory).

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
