"""A ticket as the helpdesk sends it (API body or CSV row), validated field by field."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import phonenumbers

from app.instants import parse_instant
from app.models import TicketStatus
from app.oncall.business_hours import parse_business_hours
from app.oncall.errors import OnCallConfigError
from app.oncall.fields import time_zone_field
from app.plain_text import is_plain
from app.services.support_pin import InvalidPin, validate_pin
from ivr_flows.number_kinds import CALLABLE_ONLY, refused_kind

TICKET_FIELDS = (
    "number",
    "company",
    "status",
    "subject",
    "opened_at",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_phone_alt",
    "tam_name",
    "tam_email",
    "tam_phone",
    "tam_time_zone",  # the TAM's IANA zone, in which tam_business_hours are read
    "tam_business_hours",  # when the TAM is paged by phone (else e-mailed), e.g. "mon-fri 09:00-17:00"
    "support_pin",  # issue 9: the account's support PIN (4-8 digits; stored hashed; "-" removes it)
)
REQUIRED_FIELDS = ("number", "company")
# The account's settings, not the ticket's: its TAM is paged about every Sev-1 of the account (SMS and call, to
# tam_phone, in their business hours; by e-mail to tam_email outside them) and its PIN proves a caller on the IVR.
# The API changes them only for a token with accounts:admin.
ACCOUNT_FIELDS = ("tam_name", "tam_email", "tam_phone", "tam_time_zone", "tam_business_hours", "support_pin")
NUMBER_MAX = 20

_NUMBER = re.compile(rf"[0-9]{{1,{NUMBER_MAX}}}")
_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)


class InvalidTicket(ValueError):
    """One field of a ticket is missing or malformed."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TicketInput:
    """A validated ticket; None means "not given" (keep on update, default on create)."""

    number: str
    company: str
    status: TicketStatus | None = None
    subject: str | None = None
    opened_at: datetime | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    contact_phone_alt: str | None = None
    tam_name: str | None = None
    tam_email: str | None = None
    tam_phone: str | None = None
    tam_time_zone: str | None = None
    tam_business_hours: str | None = None
    support_pin: str | None = None  # digits to set, "" to remove, None to keep


def parse_ticket_input(data: Mapping[str, object], default_region: str = "US", hotline_number: str = "") -> TicketInput:
    """Validate a ticket mapping; raise InvalidTicket naming the first bad field. ``hotline_number``: the hotline's
    own (TWILIO_NUMBER), which no ticket phone may be."""
    if not isinstance(data, Mapping):
        raise InvalidTicket(None, "a ticket must be an object")
    unknown = sorted(str(k) for k in data if k not in TICKET_FIELDS)
    if unknown:
        raise InvalidTicket(unknown[0], "unknown field")
    for name in REQUIRED_FIELDS:
        if _text(data, name, 1000) is None:
            raise InvalidTicket(name, "is required")
    return TicketInput(
        number=_ticket_number(data.get("number")),
        company=_name(data, "company", 200),  # type: ignore[arg-type]
        status=_status(_text(data, "status", 16)),
        subject=_text(data, "subject", 500, multiline=True),
        opened_at=_timestamp(_text(data, "opened_at", 64), "opened_at"),
        contact_name=_name(data, "contact_name", 200),
        contact_email=_email(_text(data, "contact_email", 254), "contact_email"),
        contact_phone=_phone(_text(data, "contact_phone", 40), "contact_phone", default_region, hotline_number),
        contact_phone_alt=_phone(_text(data, "contact_phone_alt", 40), "contact_phone_alt", default_region,
                                 hotline_number),
        tam_name=_name(data, "tam_name", 200),
        tam_email=_email(_text(data, "tam_email", 254), "tam_email"),
        tam_phone=_phone(_text(data, "tam_phone", 40), "tam_phone", default_region, hotline_number),
        tam_time_zone=_time_zone(_text(data, "tam_time_zone", 64), "tam_time_zone"),
        tam_business_hours=_business_hours(_text(data, "tam_business_hours", 100), "tam_business_hours"),
        support_pin=_support_pin(_text(data, "support_pin", 20)),
    )


def _checked_phone(raw: str, default_region: str, field: str, hotline_number: str = "") -> str:
    """The E.164 form of ``raw``; InvalidTicket saying why it is not a number we may dial."""
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise InvalidTicket(field, "must be a valid phone number (E.164, or national format)")
    if parsed.extension:
        # the hotline dials it (the TAM's page; the contact's phone offered to a verified caller as the callback
        # number) and cannot dial an extension: the number kept without it would ring the switchboard
        raise InvalidTicket(field, f"has an extension ({parsed.extension}): the hotline dials this number and "
                                   "cannot dial an extension, give a direct number")
    kind = refused_kind(parsed)
    if kind:
        raise InvalidTicket(field, f"is {kind}: {CALLABLE_ONLY}")
    number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if hotline_number and number == hotline_number:
        # a TAM's page would text and call the hotline itself (Twilio refuses an SMS to its sender, so the TAM never
        # heard), and the contact's would be offered as the callback number: as a rep's, it is refused
        raise InvalidTicket(field, "is TWILIO_NUMBER, the hotline's own number: give the person's own phone")
    return number


def _text(data: Mapping[str, object], field: str, max_len: int, *, multiline: bool = False) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidTicket(field, "must be a string")
    text = unicodedata.normalize("NFC", str(value)).strip()
    if not text:
        return None
    if not is_plain(text, "\n\t" if multiline else ""):
        raise InvalidTicket(field, "contains control or invisible formatting characters (e.g. bidi, zero-width)")
    if len(text) > max_len:
        raise InvalidTicket(field, f"must be at most {max_len} characters")
    return text


def _name(data: Mapping[str, object], field: str, max_len: int) -> str | None:
    text = _text(data, field, max_len)
    return None if text is None else " ".join(text.split())


def _ticket_number(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        raise InvalidTicket("number", "must contain digits only")
    text = _text({"number": value}, "number", 1000) or ""
    if not _NUMBER.fullmatch(text):
        if text.isascii() and text.isdigit():
            raise InvalidTicket("number", f"must be at most {NUMBER_MAX} digits")
        raise InvalidTicket("number", "must contain digits only (it is typed on a phone keypad)")
    return text


def _status(text: str | None) -> TicketStatus | None:
    if text is None:
        return None
    try:
        return TicketStatus(text.lower())
    except ValueError:
        allowed = ", ".join(s.value for s in TicketStatus)
        raise InvalidTicket("status", f"must be one of {allowed}") from None


def _timestamp(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise InvalidTicket(field, str(exc)) from None


def _support_pin(text: str | None) -> str | None:
    if text is None:
        return None
    if text == "-":
        return ""  # remove the PIN
    try:
        return validate_pin(text)
    except InvalidPin as exc:
        raise InvalidTicket("support_pin", str(exc)) from None


def _time_zone(text: str | None, field: str) -> str | None:
    """An IANA zone name, checked as a rep's ``time_zone`` is (``fields.time_zone_field``)."""
    if text is None:
        return None
    try:
        return time_zone_field(text, field)
    except OnCallConfigError as exc:
        raise InvalidTicket(field, exc.message) from None


def _business_hours(text: str | None, field: str) -> str | None:
    """Business hours such as "mon-fri 09:00-17:00, sat 10:00-14:00", read as ``parse_business_hours`` reads them."""
    if text is None:
        return None
    try:
        parse_business_hours(text, field)
    except OnCallConfigError as exc:
        raise InvalidTicket(field, exc.message) from None
    return text


def _email(text: str | None, field: str) -> str | None:
    if text is None:
        return None
    match = _EMAIL.fullmatch(text)
    if match is None or len(match["local"]) > 64:
        raise InvalidTicket(field, "must be an e-mail address")
    return f"{match['local']}@{match['domain'].lower()}"


def _phone(text: str | None, field: str, default_region: str, hotline_number: str) -> str | None:
    if text is None:
        return None
    return _checked_phone(text, default_region, field, hotline_number)
