"""The ``Hotline`` a worker process runs jobs against (built lazily, never at import)."""

from __future__ import annotations

from app.wiring import Hotline

_current: Hotline | None = None


def use(hotline: Hotline | None) -> None:
    """Make jobs in this process use ``hotline`` (the worker entry and tests call this)."""
    global _current
    _current = hotline


def peek() -> Hotline | None:
    """The process's hotline if one was set or built, without building one."""
    return _current


def current() -> Hotline:
    """The process's hotline, built from the environment on first use."""
    global _current
    if _current is None:
        _current = Hotline.build()
    return _current
