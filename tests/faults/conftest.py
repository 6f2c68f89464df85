"""The paging harness (simulated Twilio over HTTP, scripted phones, fake clock) for the fault tests."""

from tests.paging.conftest import desk, hotline, network, twilio  # noqa: F401 - fixtures shared with tests/paging
