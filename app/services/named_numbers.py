"""What staff are told of a phone number a customer's words name, by the IVR's rule for callback numbers.

A customer's text (or what a caller adds) is forwarded to the reps in their own words, numbers included: a new
callback number is exactly what a rep must read. But the sender of a text is not proven (a caller ID can be spoofed),
and the IVR refuses premium-rate and other special numbers, numbers outside ``ALLOWED_CALLBACK_REGIONS`` and the
hotline's own as callback numbers (``ivr_flows.validate.callback_refusal``, the one rule): words naming such a number
say so after them, so a rep never dials by hand a number the hotline itself would not call (an outside probe's
spoofed text "please call me back on +1 900 555 0000 instead" reached the reps as the customer's, with no warning).
"""

from __future__ import annotations

import phonenumbers
from sqlalchemy.orm import object_session

from app.db import database_of
from app.models import Incident
from ivr_flows.model import FlowPolicy
from ivr_flows.validate import callback_refusal, region_of

# How a refused number is named to staff, by ``callback_refusal``'s reason
_REFUSED = {
    "premium": "a premium-rate or other special number",
    "region": "in a country we do not call back",
    "own": "the hotline's own number",
}
NUMBERS_NAMED_AT_MOST = 3  # the refused numbers one note names (the words are cut at ``QUOTE_LIMIT`` anyway)


def refused_numbers(words: str, region: str | None, policy: FlowPolicy) -> list[tuple[str, str]]:
    """The numbers ``words`` name (read as in ``region``, the incident's; None: only those with their +) that the
    IVR would refuse as a callback number: (E.164, the reason in words), in the order named."""
    found: list[tuple[str, str]] = []
    for match in phonenumbers.PhoneNumberMatcher(words, region or "ZZ"):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        why = callback_refusal(e164, policy.default_region, policy.allowed_regions,
                               hotline_number=policy.hotline_number)
        if why in _REFUSED and all(e164 != seen for seen, _ in found):
            found.append((e164, _REFUSED[why]))
    return found[:NUMBERS_NAMED_AT_MOST]


def refused_numbers_note(words: str, region: str | None, policy: FlowPolicy | None) -> str:
    """The note (leading space) staff read after a customer's forwarded words naming numbers the hotline would not
    call back: "[HOTLINE: +19005550000 is a premium-rate or other special number; we never call such a number back,
    and the sender is not proven]"; "" for none (or no policy: settings unknown)."""
    if policy is None:
        return ""
    named = refused_numbers(words, region, policy)
    if not named:
        return ""
    said = "; ".join(f"{number} is {why}" for number, why in named)
    return f" [HOTLINE: {said}; we never call such a number back, and the sender is not proven]"


def note_for(incident: Incident, words: str) -> str:
    """``refused_numbers_note`` for a customer's words on ``incident``: numbers read as in its region (its callback
    number's, else its caller ID's, as ``customer_words.names_contact`` reads them), by the running hotline's
    settings (the wiring's, on the incident's database; "" when they are unknown)."""
    session = object_session(incident)
    db = database_of(session) if session is not None else None
    settings = getattr(db, "settings", None) if db is not None else None
    if settings is None:
        return ""
    from app.services.intake import policy_from  # intake -> incidents -> pages -> page_text: loaded on use

    region = region_of(incident.callback_phone) or region_of(incident.caller_id)
    return refused_numbers_note(words, region, policy_from(settings))
