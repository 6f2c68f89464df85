"""Response headers every page and API answer carries: CSP, framing, sniffing, referrer, caching, HSTS."""

from __future__ import annotations

from flask import Flask, Response, request

# Scripts and styles come only from our own files; nothing inline, nothing framed.
# Recordings play from Twilio (https); forms post only to this site.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' https:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
))
HSTS = "max-age=31536000; includeSubDomains"
STATIC_CACHE = "public, max-age=3600"


def add_security_headers(response: Response) -> Response:
    """Set the security headers on ``response`` (a view's own Cache-Control on non-page data is kept)."""
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"  # ack links carry a token in their path
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint and (request.endpoint == "static" or request.endpoint.endswith(".static")):
        headers["Cache-Control"] = STATIC_CACHE  # our CSS and JS (app or blueprint): no personal data
    else:
        # Pages, API answers and exports carry names, phone numbers and e-mails: never stored
        # by a browser or a shared cache (a phone's back button must not show them after logout).
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    if request.is_secure:  # behind a trusted proxy this follows X-Forwarded-Proto
        headers["Strict-Transport-Security"] = HSTS
    return response


def install(app: Flask) -> None:
    """Add the security headers to every response of ``app``."""
    app.after_request(add_security_headers)
