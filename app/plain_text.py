"""Which characters stored names and texts may hold (pure): those that print, and spaces; and SMS in ASCII forms.

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


def printable(text: str, allowed: str = "\n") -> str:
    """``text`` without the characters ``is_plain`` refuses, apart from those in ``allowed``; line breaks as "\n".
    For words the hotline must keep whatever they hold (an SMS: Twilio never posts it again, and an outside probe's
    "still broken\\0" failed on PostgreSQL with a 500 and was lost; a bidi override reached the reps' SMS)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isprintable():
        return text
    return "".join(c for c in text if c.isprintable() or c in allowed or unicodedata.category(c) == "Zs")


_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}  # "ＡＣＫ　１２３" -> "ACK 123"


def halfwidth(text: str) -> str:
    """``text`` with full-width ASCII forms (an East Asian keyboard's "ＡＣＫ　１２３４５６") and other scripts'
    digits ("١٢٣٤٥٦") in ASCII: the same words and numbers, which commands and references are read in."""
    if text.isascii():
        return text
    text = text.translate(_FULL_WIDTH)
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in text)
