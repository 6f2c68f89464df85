"""A logging filter that takes phone numbers, e-mails, tokens and passwords out of every log line.

Installed by ``create_app`` and the CLI on the root logger's handlers (so it sees every record
that propagates: ours, werkzeug's access log, the Twilio client's request log, urllib3's) and
directly on the third-party loggers that may get handlers of their own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# Loggers that may log request lines or bodies, and may be given their own handlers.
THIRD_PARTY_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "twilio.http_client",
                       "urllib3.connectionpool", "rq.worker")

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Bearer credentials and our API tokens.
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    (re.compile(r"\b(Basic)\s+[A-Za-z0-9+/=]{8,}"), r"\1 [redacted]"),
    (re.compile(r"\bhl_[A-Za-z0-9_-]{8,}"), "hl_[redacted]"),
    # Signed acknowledgement and resolution links carry their token in the path, however the path is written
    # ("/ACK/", "/ack//": a rep's mangled link is logged before it is redirected or refused) ...
    (re.compile(r"(?i)(/(?:ack|resolution)/+)[^\s/?#\"'<>]+"), r"\1[redacted]"),
    # ... and any path segment shaped as one of our signed tokens (itsdangerous: base64 JSON, a dot, a signature)
    (re.compile(r"(?<=/)eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}"), "[redacted]"),
    # key=value and "key": "value" pairs whose value is a secret (query strings, forms, dict reprs).
    (re.compile(r"(?i)((?:password|passwd|token|secret|signature|auth|api[_-]?key|csrf)[\w-]*"
                r"['\"]?\s*(?:=|:|%3D)\s*['\"]?)[^\s&'\",;}]+"), r"\1[redacted]"),
    # E-mail addresses, also URL-encoded (%40); an apostrophe may stand inside the local part (o'brien@).
    (re.compile(r"[\w.+%-](?:[\w.+%'-]*[\w.+%-])?(?:@|%40)[\w-]+(?:\.[\w-]+)+"), "[email]"),
    # Phone numbers: E.164 (+, %2B when URL-encoded, or the international prefix 00), possibly spaced (a query's "+"
    # is a space) in groups of any length ("+1 415 5550186"), North American numbers written in groups, with or
    # without their 1 ("(415) 555-0177", "1-415-555-0177", "415/555-0177"), national numbers with a trunk 0 ("0151
    # 12345678", "030 901820"), and bare runs of 10-15 digits.
    (re.compile(r"(?:\+|%2B)\d{5,13}(\d\d)(?!\d)", re.IGNORECASE), r"[phone …\1]"),
    (re.compile(r"(?:\+|(?<![\w.:+-])00(?=[1-9]))\d{1,3}(?:(?:[ .+-]|%20)\(?\d{1,8}\)?){2,6}(?!\d)"), "[phone]"),
    (re.compile(r"(?<![\w.+-])(?:1(?:[ .-]|%20))?\(?\d{3}\)?(?:[ ./-]|%20)?\d{3}(?:[ .-]|%20)\d{4}(?![\w-])"),
     "[phone]"),
    (re.compile(r"(?<![\w.:+/-])0[1-9]\d{1,4}(?:[ /-]|%20)\d{5,8}(?![\w.:-])"), "[phone]"),
    (re.compile(r"(?<![\w.])\d{8,13}(\d\d)(?![\w])"), r"[number …\1]"),
]
# Percent-encodings of what the patterns above read (letters, digits, "+", brackets, "-", ".", "@"), decoded
# first so that "%2B1%20415%20555%200177" or "/%61ck/<token>" is seen as written (a space, %20, stays encoded:
# the patterns read it). Nothing else is decoded: a space, a quote or a line break (%0A) cannot forge a field or
# a line of the access log.
_ENCODED = re.compile(r"%([2-7][0-9A-Fa-f])")
_DECODED = {f"{n:02X}": chr(n) for n in range(0x20, 0x7F)
            if chr(n).isalnum() or chr(n) in "+()-.@"}


def _decode(match: re.Match[str]) -> str:
    return _DECODED.get(match.group(1).upper(), match.group(0))


# "%25" (an encoded "%") before one of those encodings: a value encoded twice ("%2540", "%252B") is read as once
_TWICE = re.compile(r"%25(?=([2-7][0-9A-Fa-f]))", re.IGNORECASE)


def _once(match: re.Match[str]) -> str:
    return "%" if match.group(1).upper() in _DECODED else match.group(0)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without phone numbers, e-mail addresses, tokens, passwords or the given secrets."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    if "%" in text:
        text = _ENCODED.sub(_decode, _TWICE.sub(_once, text))
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback) with ``redact``; never drops a record."""

    def __init__(self) -> None:
        super().__init__("redact")
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place, once; other handlers then see the redacted record too."""
        if getattr(record, "redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: log what we have, still redacted
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message, self.secrets), ()
        if record.exc_info and not record.exc_text:
            # Exceptions quote SQL parameters and request bodies: format now, then redact.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
            record.exc_info = None  # formatters use exc_text; the raw exception would be formatted again
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        record.redacted = True
        return True


_FILTER = RedactingFilter()


def install(secrets: Iterable[str] = ()) -> RedactingFilter:
    """Put the redacting filter on the root logger's handlers and the third-party loggers (idempotent)."""
    _FILTER.secrets.update(s for s in secrets if s and len(s) >= 8)
    for name in ("", *THIRD_PARTY_LOGGERS):
        logger = logging.getLogger(name)
        if name and _FILTER not in logger.filters:
            logger.addFilter(_FILTER)  # records created on this logger, whichever handler gets them
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
    return _FILTER
