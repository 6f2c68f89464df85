"""CSRF protection: a per-session token every dashboard POST must echo back."""

from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session
from markupsafe import Markup, escape

FIELD = "csrf_token"


def csrf_token() -> str:
    """This session's CSRF token (created on first use)."""
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return session[FIELD]


def csrf_field() -> Markup:
    """A hidden form field carrying the CSRF token."""
    return Markup(f'<input type="hidden" name="{FIELD}" value="{escape(csrf_token())}">')


def check_csrf() -> None:
    """Refuse (400) any state-changing request whose token does not match the session's."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get(FIELD) or request.headers.get("X-CSRF-Token", "")
    expected = session.get(FIELD, "")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="The form has expired or did not come from this site. Reload the page and try again.")
