"""Outbound SMS and calls behind a small Protocol: Twilio in production, simulated elsewhere."""

from __future__ import annotations

from app.settings import Settings
from app.telephony.protocol import OutcomeUnknown, Rejected, Sent, Telephony, TelephonyError, Throttled

__all__ = ["OutcomeUnknown", "Rejected", "Sent", "Telephony", "TelephonyError", "Throttled", "telephony_for"]


def telephony_for(settings: Settings) -> Telephony:
    """Twilio when an account is configured, else the simulated network of the dev package."""
    if not settings.simulated_telephony:
        from app.telephony.twilio import TwilioTelephony

        return TwilioTelephony(settings)
    from hotline_sim.telephony import SimulatedTelephony  # the dev package: only on embedded defaults

    return SimulatedTelephony()
