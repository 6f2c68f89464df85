"""Outbound SMS and calls behind a small Protocol: Twilio in production, simulated elsewhere."""

from __future__ import annotations

from app.settings import Settings
from app.telephony.protocol import OutcomeUnknown, Rejected, Sent, Telephony, TelephonyError, Throttled

__all__ = ["OutcomeUnknown", "Rejected", "Sent", "Telephony", "TelephonyError", "Throttled", "telephony_for"]


def telephony_for(settings: Settings) -> Telephony:
    """Twilio when an account is configured, else the shared simulated outbox of the dev package."""
    if not settings.simulated_telephony:
        from app.telephony.twilio import TwilioTelephony

        return TwilioTelephony(settings)
    # the dev package, only without a Twilio account: an outbox in the data dir that the
    # worker (which sends pages) and the web app (whose admin page shows them) share
    from hotline_sim.outbox import FILE_NAME, SharedOutboxTelephony

    return SharedOutboxTelephony(settings.data_dir / FILE_NAME)
