"""An in-memory phone network for ``hotline demo``/``serve`` without a Twilio account: nothing dials out."""

from __future__ import annotations

import secrets
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from app.clock import Clock, SystemClock
from app.telephony.protocol import Rejected, Reported, Sent, TelephonyError


@dataclass(frozen=True)
class SentSms:
    """An SMS the simulated network accepted."""

    sid: str
    to: str
    body: str
    status_callback: str
    at: datetime
    validity_seconds: int | None = None


@dataclass(frozen=True)
class PlacedCall:
    """A call the simulated network accepted."""

    sid: str
    to: str
    url: str
    status_callback: str
    at: datetime
    machine_detection: str = ""  # Twilio's MachineDetection mode asked for ("": none)
    timeout_seconds: int = 30


class SimulatedTelephony:
    """Implements the Telephony protocol with an outbox instead of a network (thread-safe)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._outbox: list[SentSms | PlacedCall] = []
        self._failures: deque[TelephonyError] = deque()

    @property
    def outbox(self) -> list[SentSms | PlacedCall]:
        """Everything accepted so far, oldest first."""
        with self._lock:
            return list(self._outbox)

    @property
    def sms(self) -> list[SentSms]:
        """The SMS accepted so far."""
        return [item for item in self.outbox if isinstance(item, SentSms)]

    @property
    def calls(self) -> list[PlacedCall]:
        """The calls accepted so far."""
        return [item for item in self.outbox if isinstance(item, PlacedCall)]

    def fail_next(self, error: TelephonyError, n: int = 1) -> None:
        """The next ``n`` send_sms/place_call raise ``error`` and accept nothing."""
        with self._lock:
            self._failures.extend([error] * n)

    def send_sms(self, *, to: str, body: str, status_callback: str, validity_seconds: int | None = None) -> Sent:
        """Accept an SMS into the outbox."""
        with self._lock:
            self._raise_injected()
            sms = SentSms("SM" + secrets.token_hex(16), to, body, status_callback, self._clock.now(), validity_seconds)
            self._outbox.append(sms)
        return Sent(sid=sms.sid, status="queued")

    def place_call(
        self, *, to: str, url: str, status_callback: str, machine_detection: str = "", timeout_seconds: int = 30
    ) -> Sent:
        """Accept a call into the outbox."""
        with self._lock:
            self._raise_injected()
            call = PlacedCall("CA" + secrets.token_hex(16), to, url, status_callback, self._clock.now(),
                              machine_detection, timeout_seconds)
            self._outbox.append(call)
        return Sent(sid=call.sid, status="queued")

    def find_sms(self, *, to: str, since: datetime, marker: str) -> Sent | None:
        """The newest SMS to ``to`` since ``since`` containing ``marker``, if any."""
        since = _utc(since)
        for sms in reversed(self.sms):
            if sms.to == to and marker in sms.body and _utc(sms.at) >= since:
                return Sent(sid=sms.sid, status="queued")
        return None

    def find_call(self, *, to: str, since: datetime) -> Sent | None:
        """The newest call to ``to`` since ``since``, if any."""
        since = _utc(since)
        for call in reversed(self.calls):
            if call.to == to and _utc(call.at) >= since:
                return Sent(sid=call.sid, status="queued")
        return None

    def fetch_sms(self, sid: str) -> Reported:
        """An accepted SMS: "sent" (nothing here delivers it, so nothing final is claimed)."""
        if not any(sms.sid == sid for sms in self.sms):
            raise Rejected(f"no message {sid}")
        return Reported(sid=sid, status="sent")

    def fetch_call(self, sid: str) -> Reported:
        """An accepted call: "queued" (nothing here rings it)."""
        if not any(call.sid == sid for call in self.calls):
            raise Rejected(f"no call {sid}")
        return Reported(sid=sid, status="queued")

    def child_calls(self, parent_sid: str) -> list[Reported]:
        """None: nothing here plays a ``<Dial>``."""
        return []

    def _raise_injected(self) -> None:
        if self._failures:
            raise self._failures.popleft()


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
