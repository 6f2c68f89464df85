"""What the hotline says or texts to reps and customers outside the intake call, in en-US and de-DE.

The intake call's own prompts live in ``ivr_flows/prompts``; this sibling catalog holds
pages, acknowledgements, callbacks and SMS answers, with the same keys in both languages.
"""

from __future__ import annotations

from app.prompts import de_de, en_us

CATALOGS: dict[str, dict[str, str]] = {"en-US": en_us.PROMPTS, "de-DE": de_de.PROMPTS}
REP_LANG = "en-US"  # reps are paged in English


def text(key: str, lang: str = REP_LANG, **params: object) -> str:
    """The message ``key`` in ``lang`` (English when the language is unknown) with ``params`` filled in."""
    return CATALOGS.get(lang, en_us.PROMPTS)[key].format(**params)
