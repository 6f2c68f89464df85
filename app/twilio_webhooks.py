"""The hotline number's webhooks as Twilio holds them, against what README *Pointing a Twilio number at it* says.

``hotline check`` (and the start of ``serve`` and ``worker``) read the number's IncomingPhoneNumber record; an
outside probe found a number whose "A call comes in" named another host and whose "A message comes in" was
empty passing ``check`` with 0 errors: callers would never have reached the hotline, nor reps' ACK/CALL
replies. Pure: the probe (``app.probes``) fetches, ``app.config_check`` reports.
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


def same_url(actual: str, expected: str) -> bool:
    """The same endpoint: scheme, host (any case), port (a default one may be left out) and path (a trailing slash
    aside); a query, a fragment or the user name of a URL with credentials do not change where Twilio posts."""
    try:
        got, want = urlsplit(actual.strip()), urlsplit(expected)
        got_port, want_port = got.port, want.port
    except ValueError:  # an unreadable port or host
        return False
    return (got.scheme.lower() == want.scheme.lower()
            and (got.hostname or "").rstrip(".") == (want.hostname or "").rstrip(".")  # hostname is lower case
            and (got_port or DEFAULT_PORTS.get(got.scheme.lower())) == (want_port or DEFAULT_PORTS.get(want.scheme))
            and (got.path.rstrip("/") or "/") == (want.path.rstrip("/") or "/"))


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
    every call, so callers never reach a webhook at all.
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
    for hook in WEBHOOKS:
        holder, source = sources[hook.section]
        if not holder or (trunk and hook.section == "Voice configuration"):
            continue
        actual = str(source.get(hook.field) or "").strip()
        if actual and same_url(actual, expected[hook.field]):
            continue
        now = f"is {shown(actual)}" if actual else "is empty"
        console = where if holder.startswith(number) else f"Voice > TwiML > TwiML Apps > {holder.split()[2]}"
        findings.append(Finding(
            hook.required,
            f"{holder} \"{hook.label}\" ({hook.field}) {now}, not this hotline's {expected[hook.field]}: {hook.lost}.",
            f"in Twilio's console ({console}), {hook.section}, set \"{hook.label}\" to HTTP POST "
            f"{expected[hook.field]}"))
    return findings
