"""Someone a page can reach: a rep, a manager or an account's TAM."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Contactable:
    """Who to page, on which number and channels, and why (``role``: e.g. "oncall:primary", "manager", "tam")."""

    rep_id: int | None
    name: str
    phone: str
    channels: tuple[str, ...]
    role: str
    phone_alt: str | None = None
