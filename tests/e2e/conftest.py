"""A simulated Twilio that signs its webhooks and drives the real Flask app."""

from __future__ import annotations

import pytest

from hotline_sim.phone import SimulatedCall, flask_transport
from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN


@pytest.fixture
def phone(client):
    """Make a call from a caller ID: ``phone("+14155550100")``."""

    def make(caller: str = "+14155550100", **kwargs) -> SimulatedCall:
        return SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_BASE_URL,
                             auth_token=kwargs.pop("auth_token", TEST_AUTH_TOKEN), caller=caller, **kwargs)

    return make
