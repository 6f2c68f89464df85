"""Telephony through Twilio's REST API, with every vendor error translated at this boundary.

The Twilio SDK and ``requests`` (~12 MB together) are imported at the first REST call, not
when the seam is built: the web process builds it too, but only workers send pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from app.settings import TWILIO_API_BASE, Settings
from app.telephony.protocol import OutcomeUnknown, Rejected, Sent, TelephonyError, Throttled

CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
LOOKUP_LIMIT = 50  # newest first; a retry looks back minutes, not days
# Twilio answers a create in well under a second; a send still waiting after this is treated as
# unknown, and a "sending" claim twice this old belongs to a dead run (pages.STALE_SENDING).
DEFAULT_TIMEOUT_SECONDS = 5.0

T = TypeVar("T")

if TYPE_CHECKING:
    from twilio.base.exceptions import TwilioException
    from twilio.rest import Client


class TwilioTelephony:
    """The :class:`~app.telephony.protocol.Telephony` seam backed by the ``twilio`` client."""

    def __init__(self, settings: Settings, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._settings = settings
        self._timeout_seconds = timeout_seconds
        self._from = settings.twilio_number

    @cached_property
    def _client(self) -> Client:
        """The SDK's client, built (and the SDK imported) at the first REST call."""
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        settings = self._settings
        client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                        http_client=TwilioHttpClient(timeout=self._timeout_seconds))
        base_url = (settings.twilio_api_base_url or TWILIO_API_BASE).rstrip("/")
        if base_url != TWILIO_API_BASE:
            # TWILIO_EDGE/TWILIO_REGION in the environment would rewrite the host name.
            client.edge = None
            client.region = None
        client.api.base_url = base_url
        return client

    def send_sms(self, *, to: str, body: str, status_callback: str, validity_seconds: int | None = None) -> Sent:
        """Send an SMS from the hotline number; raises a TelephonyError subclass."""
        from twilio.base import values

        message = _translated(lambda: self._client.messages.create(
            to=to, from_=self._from, body=body, status_callback=status_callback,
            validity_period=values.unset if validity_seconds is None else validity_seconds,
        ))
        return Sent(sid=message.sid, status=str(message.status))

    def place_call(
        self, *, to: str, url: str, status_callback: str, machine_detection: bool = False, timeout_seconds: int = 30
    ) -> Sent:
        """Call ``to`` from the hotline number; Twilio fetches TwiML from ``url`` (POST) on answer."""
        from twilio.base import values

        call = _translated(lambda: self._client.calls.create(
            to=to, from_=self._from, url=url, method="POST",
            status_callback=status_callback, status_callback_event=CALL_EVENTS, status_callback_method="POST",
            machine_detection="Enable" if machine_detection else values.unset, timeout=timeout_seconds,
        ))
        return Sent(sid=call.sid, status=str(call.status))

    def find_sms(self, *, to: str, since: datetime, marker: str) -> Sent | None:
        """An SMS to ``to`` created since ``since`` whose body contains ``marker``, if any.

        Filtered on ``date_created`` here, not with Twilio's ``DateSent`` filter: an
        accepted but still queued message has no ``date_sent`` yet, and that is exactly
        the message a retry must not duplicate.
        """
        found = _translated(lambda: self._client.messages.list(to=to, from_=self._from, limit=LOOKUP_LIMIT))
        since = _utc(since)
        for message in found:
            if (message.direction == "outbound-api" and marker in (message.body or "")
                    and message.date_created is not None and _utc(message.date_created) >= since):
                return Sent(sid=message.sid, status=str(message.status))
        return None

    def find_call(self, *, to: str, since: datetime) -> Sent | None:
        """A call to ``to`` placed (via the API) since ``since``, if any.

        Filtered on ``date_created``: ``start_time`` stays empty while a call is queued. A call
        resource carries nothing of ours (not even its TwiML URL), so a call found here is only
        *a* call to that number: never proof that it is a given page's or callback's.
        """
        found = _translated(lambda: self._client.calls.list(to=to, from_=self._from, limit=LOOKUP_LIMIT))
        since = _utc(since)
        for call in found:
            if (call.direction == "outbound-api" and call.date_created is not None
                    and _utc(call.date_created) >= since):
                return Sent(sid=call.sid, status=str(call.status))
        return None


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _translated(request: Callable[[], T]) -> T:
    with _vendor_errors():
        return request()


@contextmanager
def _vendor_errors() -> Iterator[None]:
    """Turn whatever the client or the network raises into a TelephonyError."""
    import requests
    from twilio.base.exceptions import TwilioException

    try:
        yield
    except TwilioException as exc:
        raise _from_twilio(exc) from exc
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise OutcomeUnknown(f"Twilio did not answer: {type(exc).__name__}") from exc
    except requests.RequestException as exc:
        raise OutcomeUnknown(f"HTTP request to Twilio failed: {type(exc).__name__}: {exc}") from exc
    except ValueError as exc:  # an unreadable answer (e.g. a proxy's HTML page): it may have been accepted
        raise OutcomeUnknown(f"unreadable answer from Twilio: {exc}") from exc


def _from_twilio(exc: TwilioException) -> TelephonyError:
    status: Any = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    message = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", None) or ""
    text = f"Twilio answered HTTP {status} (code {code}): {message}".strip()
    if not isinstance(status, int):
        return OutcomeUnknown(f"Twilio client error: {exc!r}")
    if status == 429:
        return Throttled(text)
    if 400 <= status < 500:
        return Rejected(text)
    return OutcomeUnknown(text)
