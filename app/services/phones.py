"""Small facts about phone numbers the services need."""

from __future__ import annotations

import phonenumbers


def is_textable(e164: str) -> bool:
    """True for numbers that can take an SMS (mobile, or a mobile-or-fixed-line range)."""
    if not e164:
        return False
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return False
    return kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
