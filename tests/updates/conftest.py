"""Issue 11 tests: the paging harness (simulated Twilio, scripted phones, fake clock) plus a real SMTP server."""

from __future__ import annotations

import pytest

from tests.paging.conftest import Desk, desk, hotline, network, twilio  # noqa: F401 - fixtures reused as they are
from tests.updates.smtp_support import SmtpServer


@pytest.fixture
def smtp():
    """A real local SMTP server, stopped at the end."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings, smtp):
    """The test settings, sending e-mail to the local SMTP server (no TLS: it is local)."""
    return settings.with_overrides(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_tls="none",
                                   mail_from="Sev-1 Hotline <hotline@hotline.example>")
