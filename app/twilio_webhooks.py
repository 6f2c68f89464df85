"""The hotline number's webhooks as Twilio holds them, against what README *Pointing a Twilio number at it* says.

``hotline check`` (and the start of ``serve`` and ``worker``) read the number's IncomingPhoneNumber record; an
outside probe found a number whose "A call comes in" named another host and whose "A message comes in" was
empty passing ``check`` with 0 errors: callers would never have reached the hotline, nor reps' ACK/CALL
replies. Pure: the probe (``app.probes``) fetches, ``app.config_check`` reports.

It also holds which spellings of a URL a webhook's signature is checked for (``signature_forms``, used by
``app.voice.signature``): an outside probe's PUBLIC_BASE_URL=https://LOCALHOST:8611 beside a number holding
https://localhost:8611/... passed ``check`` ("host in any case") while every webhook was refused (403), Twilio
signing the URL as the number holds it and the check comparing PUBLIC_BASE_URL as written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Webhook:
    """One of the number's webhooks: its field in Twilio's record, its name in the console, where we answer it."""

    field: str  # IncomingPhoneNumber's (and Application's) field
    method_field: str
    label: str  # as the Twilio console names it
    section: str  # the console's section of the number's page
    path: str  # the hotline's route
    required: bool  # wrong or empty loses callers or replies (an error), else something degrades (a warning)
    lost: str  # what goes wrong while it points elsewhere


WEBHOOKS = (
    Webhook("voice_url", "voice_method", "A call comes in", "Voice configuration", "/twilio/voice", True,
            "callers would never reach the hotline"),
    Webhook("voice_fallback_url", "voice_fallback_method", "Primary handler fails", "Voice configuration",
            "/twilio/voice/fallback", False,
            "a caller whose intake webhook fails or takes over 15 s would hear Twilio's error, not be recorded"),
    Webhook("status_callback", "status_callback_method", "Call status changes", "Voice configuration",
            "/twilio/voice/status", False, "a caller who hangs up mid-intake would not be saved as an incident"),
    Webhook("sms_url", "sms_method", "A message comes in", "Messaging configuration", "/twilio/sms", True,
            "reps' ACK/CALL replies and customers' texts to the hotline would be lost"),
)
# the number's webhook settings that must say POST (the hotline answers POST only; a GET is refused with 405)
WEBHOOK_METHODS = ("voice_method", "voice_fallback_method", "status_callback_method", "sms_method",
                   "sms_fallback_method")
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Finding:
    """One webhook of the number that is not this hotline's: ``required`` ones lose callers or replies."""

    required: bool
    message: str
    fix: str


def expected_urls(base_url: str) -> dict[str, str]:
    """Each webhook field and the URL it must hold for the hotline served at ``base_url`` (PUBLIC_BASE_URL)."""
    return {hook.field: f"{base_url.rstrip('/')}{hook.path}" for hook in WEBHOOKS}


def signature_forms(url: str) -> tuple[str, ...]:
    """``url`` as written, then (when it differs) with its scheme and host in lower case: the URLs a webhook's
    signature may be for. Twilio signs the URL exactly as the number (or the hotline's own absolute URLs) hold it;
    the scheme and the host are case-insensitive, so a signature for either spelling is Twilio's for this address,
    and lower case is how the console is nearly always written. The path and query keep their case."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return (url,)
    netloc, slash, tail = rest.partition("/")
    userinfo, at, host = netloc.rpartition("@")  # a user name keeps its case: only the host is case-insensitive
    lowered = f"{scheme.lower()}://{userinfo}{at}{host.lower()}{slash}{tail}"
    return (url,) if lowered == url else (url, lowered)


def _spelled(url: str) -> tuple[str, str, int | None]:
    """``url``'s scheme and host as written (a signature covers them so) and its port, a default one filled in."""
    parts = urlsplit(url.strip())
    host = parts.netloc.rpartition("@")[2]
    if parts.port is not None:
        host = host[:host.rfind(":")]
    return parts.scheme, host, parts.port or DEFAULT_PORTS.get(parts.scheme.lower())


def same_url(actual: str, expected: str) -> bool:
    """The same endpoint: scheme, host (any case), port (a default one may be left out) and path (exactly: the
    routes answer ``/twilio/voice/`` with 404, which check passed as "a trailing slash aside"); a query, a fragment
    or the user name of a URL with credentials do not change where Twilio posts. Whether a signature for it is
    accepted is ``signature_forms``'s to say: Twilio signs the scheme and host as written."""
    try:
        got, want = urlsplit(actual.strip()), urlsplit(expected)
        got_port, want_port = got.port, want.port
    except ValueError:  # an unreadable port or host
        return False
    return (got.scheme.lower() == want.scheme.lower()
            and (got.hostname or "").rstrip(".") == (want.hostname or "").rstrip(".")  # hostname is lower case
            and (got_port or DEFAULT_PORTS.get(got.scheme.lower())) == (want_port or DEFAULT_PORTS.get(want.scheme))
            and got.path == want.path)


def shown(url: str) -> str:
    """``url`` as a message may print it: a password in it hidden."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def methods_by_get(record: Mapping[str, Any]) -> list[str]:
    """The record's webhook method fields set to GET."""
    return [field for field in WEBHOOK_METHODS if str(record.get(field) or "").upper() == "GET"]


def webhook_findings(number: str, record: Mapping[str, Any], base_url: str,
                     application: Callable[[str], Mapping[str, Any] | str]) -> list[Finding]:
    """What in ``number``'s record (Twilio's IncomingPhoneNumber) does not send Twilio's requests to the hotline at
    ``base_url``. ``application(sid)`` is the TwiML App's record, or why it could not be read (a string).

    A TwiML App set on the number (``voice_application_sid``, ``sms_application_sid``) replaces the number's own
    URLs of that kind (Twilio ignores them then), so the app's are compared; a SIP trunk (``trunk_sid``) takes
    every call, so callers never reach a webhook at all. A URL that is the hotline's but spelled otherwise than
    PUBLIC_BASE_URL is refused on its signature unless it is one of ``signature_forms``: lower case is only noted.
    """
    expected = expected_urls(base_url)
    where = f"Phone Numbers > Manage > Active numbers > {number}"
    findings: list[Finding] = []
    trunk = str(record.get("trunk_sid") or "")
    sources: dict[str, tuple[str, Mapping[str, Any]]] = {}  # section -> (what holds its URLs, its record)
    for section, sid_field in (("Voice configuration", "voice_application_sid"),
                               ("Messaging configuration", "sms_application_sid")):
        sid = str(record.get(sid_field) or "")
        if not sid or (trunk and section == "Voice configuration"):
            sources[section] = (f"{number}'s", record)
            continue
        found = application(sid)
        if isinstance(found, str):
            hooks = [h for h in WEBHOOKS if h.section == section]
            findings.append(Finding(False, f"{number}'s {section.split()[0].lower()} webhooks are those of TwiML App "
                                    f"{sid} ({sid_field}), which could not be read: {found}; check cannot tell "
                                    "whether " + ", ".join(f'"{h.label}"' for h in hooks) + " reach the hotline.",
                                    f"in Twilio's console (Voice > TwiML > TwiML Apps > {sid}) set "
                                    + "; ".join(f"{h.label} to POST {expected[h.field]}" for h in hooks)))
            sources[section] = ("", {})
        else:
            sources[section] = (f"TwiML App {sid} ({sid_field} of {number})", found)
    if trunk:
        findings.append(Finding(True, f"{number} sends its calls to the SIP trunk {trunk} (trunk_sid): Twilio ignores "
                                "its voice URLs, and callers would never reach the hotline.",
                                f"remove the number from the trunk ({where}, Voice configuration: Configure with "
                                f"Webhook), then set \"A call comes in\" to POST {expected['voice_url']}"))
    accepted = [_spelled(form) for form in signature_forms(base_url)]
    lowered: dict[str, list[tuple[str, str]]] = {}  # holder -> (label, URL) of its webhooks held in lower case
    for hook in WEBHOOKS:
        holder, source = sources[hook.section]
        if not holder or (trunk and hook.section == "Voice configuration"):
            continue
        actual = str(source.get(hook.field) or "").strip()
        console = where if holder.startswith(number) else f"Voice > TwiML > TwiML Apps > {holder.split()[2]}"
        fix = (f"in Twilio's console ({console}), {hook.section}, set \"{hook.label}\" to HTTP POST "
               f"{expected[hook.field]}")
        if actual and same_url(actual, expected[hook.field]):
            spelled = _spelled(actual)
            if spelled == accepted[0]:
                continue
            if spelled in accepted:  # Twilio signs it for PUBLIC_BASE_URL in lower case: accepted
                lowered.setdefault(holder, []).append((f'"{hook.label}"', actual))
                continue
            findings.append(Finding(
                hook.required,
                f"{holder} \"{hook.label}\" ({hook.field}) is {shown(actual)}: this hotline's {expected[hook.field]} "
                "written otherwise, and Twilio signs its requests for the URL as held while the hotline checks the "
                "signature for PUBLIC_BASE_URL as written or with its scheme and host in lower case only, so every "
                f"request there would be refused (403): {hook.lost}.", fix))
            continue
        now = f"is {shown(actual)}" if actual else "is empty"
        findings.append(Finding(
            hook.required,
            f"{holder} \"{hook.label}\" ({hook.field}) {now}, not this hotline's {expected[hook.field]}: {hook.lost}.",
            fix))
    for holder, hooks in lowered.items():  # one warning: the same spelling throughout, as a rule
        findings.append(Finding(
            False,
            f"{holder} {', '.join(label for label, _ in hooks)} write the host of PUBLIC_BASE_URL ({base_url}) in "
            f"lower case (e.g. {shown(hooks[0][1])}): Twilio signs those requests for the URLs as held, and the "
            "hotline accepts a signature for PUBLIC_BASE_URL with its host in lower case as well as for it as written.",
            f"nothing is refused; to write the address alike everywhere, set PUBLIC_BASE_URL="
            f"{signature_forms(base_url)[1]}"))
    return findings
