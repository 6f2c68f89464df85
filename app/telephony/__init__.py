"""Outbound SMS and calls behind a small Protocol: Twilio in production, simulated elsewhere."""

from __future__ import annotations

import threading

from app.settings import Settings
from app.telephony.protocol import OutcomeUnknown, Rejected, Sent, Telephony, TelephonyError, Throttled
from app.telephony.simulated import SimulatedTelephony

__all__ = [
    "OutcomeUnknown", "Rejected", "Sent", "SimulatedTelephony", "Telephony", "TelephonyError", "Throttled",
    "telephony_for",
]

_simulated: SimulatedTelephony | None = None
_simulated_lock = threading.Lock()


def telephony_for(settings: Settings) -> Telephony:
    """Twilio when an account is configured, else the process-wide simulated network."""
    global _simulated
    if not settings.simulated_telephony:
        from app.telephony.twilio import TwilioTelephony

        return TwilioTelephony(settings)
    with _simulated_lock:
        if _simulated is None:
            _simulated = SimulatedTelephony()
        return _simulated
