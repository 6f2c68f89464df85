"""Text no column can hold (NUL) gets a clear 400 before any view, never a 500 from the database.

PostgreSQL refuses NUL in text ("A string literal cannot contain NUL"), so a path, query or form carrying one
(``/incidents/%00``, a login name ending in ``\\x00``) failed inside the view with a 500 and an ERROR traceback
per request, which anyone could fire at will. A JSON body's text fields are each checked as plain text by
their parsers (a 422 naming the field). Twilio's webhooks (``/twilio/``) are left to their views: a caller's
answer is never refused there (the flow keeps only plain text, and a view that fails still saves the caller).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, request
from werkzeug.exceptions import BadRequest

NUL = "\x00"
REFUSED = "NUL characters (\\0, %00) are not accepted in a path, a query or a form."


class NulRefused(BadRequest):
    """A 400 for a request holding a NUL (the dashboard's login page says so instead of "the form expired")."""

    description = REFUSED
_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def carries_nul(pairs: Iterable[tuple[str, str]]) -> bool:
    """True when any name or value holds a NUL."""
    return any(NUL in name or NUL in value for name, value in pairs)


def _refuse_nul() -> None:
    if request.path.startswith("/twilio/"):
        return
    if (NUL in request.path or carries_nul(request.args.items(multi=True))
            or (request.mimetype in _FORMS and carries_nul(request.form.items(multi=True)))):
        raise NulRefused()


def install(app: Flask) -> None:
    """Refuse NUL in every request's path, query and form but Twilio's webhooks'."""
    app.before_request(_refuse_nul)
