"""``X-Twilio-Signature`` checking for every Twilio webhook."""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable

from flask import Request, abort, current_app, request
from twilio.request_validator import RequestValidator

from app.settings import Settings

log = logging.getLogger(__name__)


def public_url(req: Request, settings: Settings) -> str:
    """The URL Twilio called: PUBLIC_BASE_URL + path, else the (proxy-fixed) request URL."""
    if settings.public_base_url:
        query = req.query_string.decode()
        return settings.public_base_url + req.path + (f"?{query}" if query else "")
    return req.url


def is_signed(req: Request, settings: Settings) -> bool:
    """True when the signature matches the public URL and form under any auth token."""
    signature = req.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    url = public_url(req, settings)
    validators = [_validator(token) for token in settings.auth_tokens]
    # One HMAC for the URL as called (nearly always the match); RequestValidator.validate then
    # tries the URL with and without its port under every token, as Twilio's own library does.
    given = signature.encode()
    if any(hmac.compare_digest(v.compute_signature(url, req.form).encode(), given) for v in validators):
        return True
    return any(v.validate(url, req.form, signature) for v in validators)


@functools.lru_cache(maxsize=8)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def twilio_webhook(view: Callable) -> Callable:
    """Refuse (403, nothing stored) any request not signed by Twilio."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        settings = current_app.extensions["hotline"].settings
        if not is_signed(request, settings):
            log.warning("refused unsigned webhook %s from %s", request.path, request.remote_addr)
            abort(403)
        return view(*args, **kwargs)

    return wrapper
