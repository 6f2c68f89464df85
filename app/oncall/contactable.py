"""Someone a page can reach: a rep, a manager or an account's TAM."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Contactable:
    """Who to page, on which number and channels, and why (``role``: e.g. "oncall:primary", "manager", "tam").

    An account's TAM told in writing (outside their business hours, or with no TAM phone) has no ``phone``, their
    ``email`` and the one channel ``EMAIL`` (``oncall.tam_target``)."""

    rep_id: int | None
    name: str
    phone: str
    channels: tuple[str, ...]
    role: str
    phone_alt: str | None = None
    email: str = ""

    @property
    def address(self) -> str:
        """Where they are reached: their number, else (a TAM told in writing) their e-mail address."""
        return self.phone or self.email


EMAIL = "email"  # a TAM's channel outside their business hours: a delivery row, never a page (services/tam_mail.py)
