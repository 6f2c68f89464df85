"""Telephony through Twilio's REST API (``twilio_rest``), with every vendor error translated at that boundary."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from app.settings import TWILIO_API_BASE, Settings
from app.telephony.protocol import (
    UNSUBSCRIBED_RECIPIENT,
    OptedOut,
    OutcomeUnknown,
    Rejected,
    Reported,
    Sent,
    Throttled,
)
from app.telephony.twilio_errors import REFUSED_FOR_NOW, error_code

if TYPE_CHECKING:
    from app.telephony.twilio_rest import TwilioRest

CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
LOOKUP_LIMIT = 50  # newest first; a retry looks back minutes, not days
# Twilio answers a create in well under a second; a send still waiting after this is treated as
# unknown, and a "sending" claim twice this old belongs to a dead run (pages.STALE_SENDING).
DEFAULT_TIMEOUT_SECONDS = 5.0
NOT_SENT = frozenset({"failed", "canceled", "undelivered"})  # a message's or call's status that nothing follows


class TwilioTelephony:
    """The :class:`~app.telephony.protocol.Telephony` seam backed by Twilio's REST API."""

    def __init__(self, settings: Settings, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._settings = settings
        self._timeout_seconds = timeout_seconds
        self._from = settings.twilio_number

    @cached_property
    def _rest(self) -> TwilioRest:
        # imported at the first send: the web process builds this seam but never sends, and so loads
        # neither the client nor urllib.request
        from app.telephony.twilio_rest import TwilioRest

        settings = self._settings
        return TwilioRest(settings.twilio_api_base_url or TWILIO_API_BASE, settings.twilio_account_sid,
                          settings.twilio_auth_token, self._timeout_seconds)

    def send_sms(self, *, to: str, body: str, status_callback: str, validity_seconds: int | None = None) -> Sent:
        """Send an SMS from the hotline number; raises a TelephonyError subclass."""
        fields = [("To", to), ("From", self._from), ("Body", body), ("StatusCallback", status_callback)]
        if validity_seconds is not None:
            fields.append(("ValidityPeriod", validity_seconds))
        return _sent(self._rest.create("Messages", fields))

    def place_call(
        self, *, to: str, url: str, status_callback: str, machine_detection: str = "", timeout_seconds: int = 30
    ) -> Sent:
        """Call ``to`` from the hotline number; Twilio fetches TwiML from ``url`` (POST) on answer."""
        fields = [("To", to), ("From", self._from), ("Url", url), ("Method", "POST"),
                  ("StatusCallback", status_callback), *(("StatusCallbackEvent", e) for e in CALL_EVENTS),
                  ("StatusCallbackMethod", "POST"), ("Timeout", timeout_seconds)]
        if machine_detection:
            fields.append(("MachineDetection", machine_detection))
        return _sent(self._rest.create("Calls", fields))

    def find_sms(self, *, to: str, since: datetime, marker: str) -> Sent | None:
        """An SMS to ``to`` created since ``since`` whose body contains ``marker``, if any.

        Filtered on ``date_created`` here, not with Twilio's ``DateSent`` filter: an
        accepted but still queued message has no ``date_sent`` yet, and that is exactly
        the message a retry must not duplicate.
        """
        since = _utc(since)
        for message in self._rest.list("Messages", To=to, From=self._from, PageSize=LOOKUP_LIMIT):
            if (message.get("direction") == "outbound-api" and marker in (message.get("body") or "")
                    and _created_since(message, since)):
                return _sent(message)
        return None

    def find_call(self, *, to: str, since: datetime) -> Sent | None:
        """A call to ``to`` placed (via the API) since ``since``, if any.

        Filtered on ``date_created``: ``start_time`` stays empty while a call is queued. A call
        resource carries nothing of ours (not even its TwiML URL), so a call found here is only
        *a* call to that number: never proof that it is a given page's or callback's.
        """
        since = _utc(since)
        for call in self._rest.list("Calls", To=to, From=self._from, PageSize=LOOKUP_LIMIT):
            if call.get("direction") == "outbound-api" and _created_since(call, since):
                return _sent(call)
        return None

    def fetch_sms(self, sid: str) -> Reported:
        """Twilio's record of the message ``sid`` now (its status and error code)."""
        return _reported(self._rest.fetch("Messages", sid), sid)

    def fetch_call(self, sid: str) -> Reported:
        """Twilio's record of the call ``sid`` now (its status, AnsweredBy and end time)."""
        return _reported(self._rest.fetch("Calls", sid), sid)

    def child_calls(self, parent_sid: str) -> list[Reported]:
        """The calls a ``<Dial>`` on ``parent_sid`` placed (Twilio's ``ParentCallSid`` filter), newest first."""
        return [_reported(call, call.get("sid") or "")
                for call in self._rest.list("Calls", ParentCallSid=parent_sid, PageSize=LOOKUP_LIMIT)
                if call.get("parent_call_sid") == parent_sid and call.get("sid")]


def _reported(resource: dict[str, Any], sid: str) -> Reported:
    """A message's or call's resource as the seam reports it; an answer without a status is unreadable."""
    status = resource.get("status")
    if not isinstance(status, str) or not status or resource.get("sid") != sid:
        raise OutcomeUnknown("unreadable answer from Twilio: no status of the resource asked for")
    code = resource.get("error_code")
    try:
        ended = parsedate_to_datetime(resource.get("end_time") or "")
    except (TypeError, ValueError):
        ended = None
    return Reported(sid=sid, status=status, error_code="" if code in (None, "", 0) else str(code),
                    answered_by=str(resource.get("answered_by") or ""), ended_at=_utc(ended) if ended else None)


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _sent(resource: dict[str, Any]) -> Sent:
    """The accepted message or call; one Twilio created already failed or canceled was not sent: Rejected
    (OptedOut for 21610, Throttled for a code that passes), its SID in the text. The 201 is Twilio's record of the
    request, not a send."""
    sid = resource.get("sid")
    if not isinstance(sid, str) or not sid:
        raise OutcomeUnknown("unreadable answer from Twilio: no sid")
    status = str(resource.get("status"))
    if status in NOT_SENT:
        code = resource.get("error_code")
        text = f"Twilio created {sid} with status {status} (error_code {code}): {resource.get('error_message') or ''}"
        if error_code(code) in REFUSED_FOR_NOW:  # 14107: Twilio fails messages to a number for 30 s, then takes them
            raise Throttled(text.strip())
        raise (OptedOut if str(code) == str(UNSUBSCRIBED_RECIPIENT) else Rejected)(text.strip())
    return Sent(sid=sid, status=status)


def _created_since(resource: dict[str, Any], since: datetime) -> bool:
    """Its ``date_created`` (RFC 2822, as Twilio writes it) is at or after ``since``; False when absent or unreadable."""
    try:
        created = parsedate_to_datetime(resource.get("date_created") or "")
    except (TypeError, ValueError):
        return False
    return _utc(created) >= since
