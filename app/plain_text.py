"""Which characters stored names and texts may hold (pure): those that print, and spaces.

Refused: control characters (PostgreSQL refuses NUL; ESC sequences reach terminals and logs),
format characters (bidi overrides and isolates, zero-width spaces and joiners, tags: a name
could display as something else), surrogates, private-use and unassigned code points.
"""

from __future__ import annotations

import unicodedata


def is_plain(text: str, allowed: str = "") -> bool:
    """True when every character of ``text`` prints or is a space, apart from those in ``allowed`` (e.g. "\\n")."""
    if text.isprintable():  # the common case, in C
        return True
    return all(c.isprintable() or c in allowed or unicodedata.category(c) == "Zs" for c in text)
