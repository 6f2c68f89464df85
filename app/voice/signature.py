"""``X-Twilio-Signature`` checking for every Twilio webhook."""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Request, abort, current_app, request
from twilio.request_validator import RequestValidator

from app.settings import Settings
from app.webhook_refusals import BAD_SIGNATURE, OTHER_URL, note_refusal

log = logging.getLogger(__name__)


def public_url(req: Request, settings: Settings) -> str:
    """The URL Twilio called: PUBLIC_BASE_URL + path, else the (proxy-fixed) request URL."""
    if settings.public_base_url:
        query = req.query_string.decode()
        return settings.public_base_url + req.path + (f"?{query}" if query else "")
    return req.url


def signed_content(req: Request, settings: Settings) -> str:
    """What the signature covers but the host: the public URL's path and query, then each form name and value run
    together in name order (a value repeated once), as Twilio joins them.

    Two requests with the same content validate under one signature, however their form is split:
    ``MessageSid=SM1To+1415`` is ``MessageSid=SM1&To=+1415`` to the signature, and so is a query that took in
    the form's first name (``?page=12AccountSid`` against ``?page=12`` and ``AccountSid``).
    """
    url = urlsplit(public_url(req, settings))
    form = req.form
    return (url.path + (f"?{url.query}" if url.query else "")
            + "".join(name + value for name in sorted(form) for value in sorted(set(form.getlist(name)))))


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
        hotline = current_app.extensions["hotline"]
        if not is_signed(request, hotline.settings):
            kind = _log_refusal(request, hotline.settings)
            if kind is not None:  # counted for /healthz, which every web process answers
                note_refusal(hotline.jobs.redis, hotline.jobs.name, kind, hotline.clock.now())
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def signed_for_another_url(req: Request, settings: Settings) -> str | None:
    """The URL a refused request's signature is valid for when it is the request's own host, by https or http, and
    not the public URL: Twilio then calls another address than PUBLIC_BASE_URL names (or, unset, than the request
    URL says: a TLS proxy without TRUST_PROXY_HEADERS). Only a holder of the auth token makes such a signature, and
    the request stays refused: this only names the setting to fix."""
    signature = req.headers.get("X-Twilio-Signature", "")
    if not signature or not req.host:
        return None
    query = req.query_string.decode()
    tail = req.path + (f"?{query}" if query else "")
    checked = public_url(req, settings)
    for scheme in ("https", "http"):
        url = f"{scheme}://{req.host}{tail}"
        if url != checked and any(_validator(token).validate(url, req.form, signature) for token in settings.auth_tokens):
            return url
    return None


def _log_refusal(req: Request, settings: Settings) -> str | None:
    """Log why ``req`` was refused; the kind ``/healthz`` counts (``app.webhook_refusals``), None for an unsigned one."""
    found = signed_for_another_url(req, settings)
    if found is None:
        if req.headers.get("X-Twilio-Signature"):  # signed, but not with this token for any URL it could be
            log.warning("refused webhook %s from %s: its X-Twilio-Signature does not match. Fix: if Twilio sent it, "
                        "TWILIO_AUTH_TOKEN is not the account's current auth token (rotated?)", req.path,
                        req.remote_addr)
            return BAD_SIGNATURE
        log.warning("refused unsigned webhook %s from %s", req.path, req.remote_addr)
        return None
    base = found.split("://", 1)[0] + "://" + req.host
    configured = settings.public_base_url or f"unset: the request URL, {req.host_url.rstrip('/')}"
    log.warning("refused webhook %s: its signature is valid for %s, not for PUBLIC_BASE_URL (%s) + the path, so Twilio "
                "calls %s. Fix: make PUBLIC_BASE_URL and the number's webhook URLs in the Twilio console the same "
                "https address", req.path, found, configured, base)
    return OTHER_URL
