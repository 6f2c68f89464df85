"""The kinds of phone number we dial: one allow-list for callback, ticket and on-call numbers."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType

# An allow-list, not a deny-list (toll fraud): premium-rate, shared-cost, personal (UK 070,
# DE 0700), UAN (UK 055, NL 084/087), pager and voicemail-access numbers, and any kind
# libphonenumber adds later, can earn their owner money per minute or reach no person.
CALLABLE_TYPES = frozenset({
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.VOIP,
})
# What an error message tells the person who gave a refused number.
CALLABLE_ONLY = "we call only fixed-line, mobile, toll-free and VoIP numbers"

_KIND_WORDS = {
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.PERSONAL_NUMBER: "a personal number",
    PhoneNumberType.UAN: "a UAN (universal access) number",
    PhoneNumberType.PAGER: "a pager number",
    PhoneNumberType.VOICEMAIL: "a voicemail access number",
}


def refused_kind(number: PhoneNumber) -> str:
    """"" when we may dial a number of this kind; else the kind in words, e.g. "a personal number"."""
    kind = phonenumbers.number_type(number)
    if kind in CALLABLE_TYPES:
        return ""
    return _KIND_WORDS.get(kind, "a number of a kind we do not dial")


def is_textable(e164: str) -> bool:
    """True for numbers that can take an SMS (mobile, or a mobile-or-fixed-line range)."""
    if not e164:
        return False
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return False
    return kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
