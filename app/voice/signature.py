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
from app.twilio_webhooks import signature_forms
from app.webhook_refusals import BAD_SIGNATURE, OTHER_URL, note_refusal

log = logging.getLogger(__name__)


def public_url(req: Request, settings: Settings) -> str:
    """The URL Twilio called: PUBLIC_BASE_URL + path, else the (proxy-fixed) request URL."""
    if settings.public_base_url:
        query = req.query_string.decode()
        return settings.public_base_url + req.path + (f"?{query}" if query else "")
    return req.url


def public_urls(req: Request, settings: Settings) -> tuple[str, ...]:
    """The URLs a signature is checked for: the public URL, then (when it differs) with its scheme and host in lower
    case (``signature_forms``). Twilio signs the URL the number holds, as written: with PUBLIC_BASE_URL in
    capitals (``https://Hotline.Example.com``) and the console in lower case, an outside probe's every webhook was
    refused (403) and the log blamed the auth token."""
    return signature_forms(public_url(req, settings))


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
    """True when the signature matches the public URL (either of ``public_urls``) and form under any auth token."""
    signature = req.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    urls = public_urls(req, settings)
    validators = [_validator(token) for token in settings.auth_tokens]
    # One HMAC for the URL as called (nearly always the match; its lower-case form only if it has capitals);
    # RequestValidator.validate then tries each with and without its port under every token, as Twilio's library does.
    given = signature.encode()
    if any(hmac.compare_digest(v.compute_signature(url, req.form).encode(), given) for url in urls for v in validators):
        return True
    return any(v.validate(url, req.form, signature) for url in urls for v in validators)


@functools.lru_cache(maxsize=8)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def twilio_webhook(view: Callable) -> Callable:
    """Refuse (403, nothing stored) any request not signed by Twilio."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        hotline = current_app.extensions["hotline"]
        watch = current_app.extensions.get("webhook_refusals")  # this process's: ``app.webhook_refusals``
        if not is_signed(request, hotline.settings):
            kind = _log_refusal(request, hotline.settings)
            if kind is not None:  # counted for /healthz, which every web process answers
                note_refusal(hotline.jobs.redis, hotline.jobs.name, kind, hotline.clock.now(), watch)
            abort(403)
        if watch is not None:  # no Redis round trip unless a refusal is on record (or a recheck is due)
            watch.accepted(hotline.jobs, hotline.clock.now())
        return view(*args, **kwargs)

    return wrapper


def signed_for_another_url(req: Request, settings: Settings) -> str | None:
    """The URL a refused request's signature is valid for when it is the request's own host or PUBLIC_BASE_URL's
    (as written or in lower case), by https or http, and not one of ``public_urls``: Twilio then calls another
    address than PUBLIC_BASE_URL names (or, unset, than the request URL says: a TLS proxy without
    TRUST_PROXY_HEADERS). Only a holder of the auth token makes such a signature, and the request stays refused:
    this only names the setting to fix, where the log would otherwise blame the auth token."""
    signature = req.headers.get("X-Twilio-Signature", "")
    if not signature:
        return None
    query = req.query_string.decode()
    tail = req.path + (f"?{query}" if query else "")
    checked = public_urls(req, settings)
    bases = signature_forms(settings.public_base_url) if settings.public_base_url else ()
    # the Host Twilio sent (as its URL writes it, unless a proxy rewrote it), then PUBLIC_BASE_URL's own host (and
    # port; a user name and password in it stay out of the log)
    hosts = dict.fromkeys(host for host in (req.host, *(urlsplit(b).netloc.rpartition("@")[2] for b in bases)) if host)
    for host in hosts:
        for scheme in ("https", "http"):
            url = f"{scheme}://{host}{tail}"
            if url not in checked and any(_validator(token).validate(url, req.form, signature)
                                          for token in settings.auth_tokens):
                return url
    return None


def _log_refusal(req: Request, settings: Settings) -> str | None:
    """Log why ``req`` was refused; the kind ``/healthz`` counts (``app.webhook_refusals``), None for an unsigned one."""
    found = signed_for_another_url(req, settings)
    if found is None:
        if req.headers.get("X-Twilio-Signature"):  # signed, but not with this token for any URL it could be
            log.warning("refused webhook %s from %s: its X-Twilio-Signature does not match. Fix: if Twilio sent it, "
                        "TWILIO_AUTH_TOKEN is not the account's current auth token (rotated?), or the number's "
                        "webhook URLs are not PUBLIC_BASE_URL + the path (`hotline check` compares them)", req.path,
                        req.remote_addr)
            return BAD_SIGNATURE
        log.warning("refused unsigned webhook %s from %s", req.path, req.remote_addr)
        return None
    parts = urlsplit(found)
    base = f"{parts.scheme}://{parts.netloc}"
    configured = settings.public_base_url or f"unset: the request URL, {req.host_url.rstrip('/')}"
    if base.lower() == configured.lower():  # the same address, its host written otherwise than both forms checked
        fix = ("write the host alike in PUBLIC_BASE_URL and the number's webhook URLs in the Twilio console, best in "
               "lower case: Twilio signs the URL as written")
    else:
        fix = "make PUBLIC_BASE_URL and the number's webhook URLs in the Twilio console the same https address"
    log.warning("refused webhook %s: its signature is valid for %s, not for PUBLIC_BASE_URL (%s) + the path, so Twilio "
                "calls %s. Fix: %s", req.path, found, configured, base, fix)
    return OTHER_URL
