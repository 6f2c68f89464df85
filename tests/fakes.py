"""The tests' fakes: a clock moved by hand and an in-memory phone network."""

from hotline_sim.clock import FakeClock
from hotline_sim.telephony import PlacedCall, SentSms, SimulatedTelephony

__all__ = ["FakeClock", "PlacedCall", "SentSms", "SimulatedTelephony"]
