"""Named errors of on-call configuration and lookups."""

from __future__ import annotations


class OnCallConfigError(ValueError):
    """On-call configuration is invalid; ``path`` names the offending field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


class NameTaken(OnCallConfigError):
    """Another rep, schedule or policy already has this name."""


class UnknownSchedule(LookupError):
    """No schedule has this name."""


class UnknownRep(LookupError):
    """No rep has this id or name."""
