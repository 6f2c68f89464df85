"""Someone a page can reach: a rep, a manager or an account's TAM."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Contactable:
    """Who to page, on which number and channels, and why (``role``: e.g. "oncall:primary", "manager", "tam").

    An account's TAM told in writing (outside their business hours, or with no TAM phone) has no ``phone``, their
    ``email`` and the one channel ``EMAIL`` (``oncall.tam_target``). One texted outside their business hours because no
    e-mail address is on file has ``why`` ``TEXTED_NO_EMAIL`` and the one channel SMS, whatever the target names."""

    rep_id: int | None
    name: str
    phone: str
    channels: tuple[str, ...]
    role: str
    phone_alt: str | None = None
    email: str = ""
    why: str = ""  # how a TAM came to be reached other than the target says (``TEXTED_NO_EMAIL``), for the log

    @property
    def address(self) -> str:
        """Where they are reached: their number, else (a TAM told in writing) their e-mail address."""
        return self.phone or self.email


TEXTED_NO_EMAIL = "after_hours_no_email"  # a TAM outside their business hours with a phone but no e-mail: one SMS
EMAIL = "email"  # a TAM's channel outside their business hours: a delivery row, never a page (services/tam_mail.py)
