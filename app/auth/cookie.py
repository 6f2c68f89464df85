"""The session cookie's Secure flag follows the request's scheme (behind a trusted proxy too)."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface


class SchemeAwareSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with Secure set whenever the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured so, or when this request is https (X-Forwarded-Proto via ProxyFix)."""
        configured = bool(app.config["SESSION_COOKIE_SECURE"])
        return configured or (has_request_context() and request.is_secure)
