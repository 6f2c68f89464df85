"""The resources of the simulated Twilio REST API (Messages, Calls) and Twilio's list filters."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

API_VERSION = "2010-04-01"


def rfc2822(when: datetime | None) -> str | None:
    """A datetime the way Twilio writes it: ``Thu, 26 Nov 2026 03:00:00 +0000``."""
    return format_datetime(when.astimezone(UTC)) if when else None


def new_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


@dataclass
class ApiMessage:
    """A message Twilio accepted (or, with direction ``inbound``, received)."""

    sid: str
    to: str
    from_: str
    body: str
    date_created: datetime
    direction: str = "outbound-api"  # outbound-api, outbound-reply, inbound
    status: str = "queued"
    status_callback: str = ""
    validity_period: int | None = None
    date_sent: datetime | None = None
    error_code: int | None = None
    params: dict[str, list[str]] = field(default_factory=dict)
    seq: int = 0  # creation order (the store numbers records as they arrive)

    def to_json(self, account_sid: str) -> dict[str, Any]:
        """The resource as Twilio's JSON represents it."""
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{self.sid}.json"
        return {
            "account_sid": account_sid, "api_version": API_VERSION, "body": self.body,
            "date_created": rfc2822(self.date_created), "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_sent or self.date_created), "direction": self.direction,
            "error_code": self.error_code, "error_message": None, "from": self.from_,
            "messaging_service_sid": None, "num_media": "0", "num_segments": "1", "price": None,
            "price_unit": "USD", "sid": self.sid, "status": self.status,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")}, "to": self.to, "uri": uri,
        }


@dataclass
class ApiCall:
    """A call Twilio accepted (``outbound-api``) or dialled for a ``<Dial>`` (``outbound-dial``)."""

    sid: str
    to: str
    from_: str
    date_created: datetime
    direction: str = "outbound-api"
    status: str = "queued"
    url: str = ""
    twiml: str = ""
    method: str = "POST"
    status_callback: str = ""
    status_callback_events: tuple[str, ...] = ()
    machine_detection: str = ""
    timeout: int = 60
    parent_call_sid: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None
    answered_by: str | None = None
    params: dict[str, list[str]] = field(default_factory=dict)
    seq: int = 0  # creation order (the store numbers records as they arrive)

    def to_json(self, account_sid: str) -> dict[str, Any]:
        """The resource as Twilio's JSON represents it."""
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Calls/{self.sid}.json"
        return {
            "account_sid": account_sid, "answered_by": self.answered_by, "api_version": API_VERSION,
            "caller_name": None, "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.end_time or self.start_time or self.date_created),
            "direction": self.direction, "duration": None if self.duration is None else str(self.duration),
            "end_time": rfc2822(self.end_time), "forwarded_from": None, "from": self.from_,
            "from_formatted": self.from_, "group_sid": None, "parent_call_sid": self.parent_call_sid,
            "phone_number_sid": None, "price": None, "price_unit": "USD", "queue_time": "0",
            "sid": self.sid, "start_time": rfc2822(self.start_time), "status": self.status,
            "subresource_uris": {"recordings": uri.replace(".json", "/Recordings.json")},
            "to": self.to, "to_formatted": self.to, "trunk_sid": None, "uri": uri,
        }


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request the simulated API received (faulted ones included)."""

    method: str
    path: str
    params: dict[str, list[str]]


def _parse_when(value: str) -> datetime:
    if len(value) == 10:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def matches_filters(record: ApiMessage | ApiCall, args: Any, date_name: str, when: datetime | None) -> bool:
    """Twilio's list filters: To, From, Status, ParentCallSid and ``<Date>``, ``<Date><``, ``<Date>>``."""
    for name, attr in (("To", "to"), ("From", "from_"), ("Status", "status"), ("ParentCallSid", "parent_call_sid")):
        if name in args and getattr(record, attr, None) != args[name]:
            return False
    for suffix in ("", "<", ">"):
        value = args.get(date_name + suffix)
        if not value:
            continue
        if when is None:  # not sent / not started yet: Twilio's date filters do not match it
            return False
        bound = _parse_when(value)
        day_only = len(value) == 10
        left, right = (when.date(), bound.date()) if day_only else (when, bound)
        if (suffix == "" and left != right) or (suffix == "<" and left > right) or (suffix == ">" and left < right):
            return False
    return True


def newest_first(records: list[Any]) -> list[Any]:
    """Newest first, as Twilio lists them (creation order breaks ties)."""
    return sorted(records, key=lambda r: (r.date_created, r.seq), reverse=True)
