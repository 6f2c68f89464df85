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


def verified_callback(session, incident, now, rep_id=None) -> None:
    """A bridged callback the customer answered and confirmed by a key (h1's verified contact)."""
    from email.utils import format_datetime

    from app.services.callbacks import confirm_person, customer_leg_status, open_callback

    callback = open_callback(session, incident, rep_id, now, rep_call_sid=f"CA{incident.id:032d}")
    customer_leg_status(session, callback.id, "answered", format_datetime(now), f"CA{incident.id + 10**6:032d}", now)
    confirm_person(session, callback.id, now)


def callback_over(session, incident, now) -> None:
    """The customer hung up the incident's latest answered callback (Twilio's "completed" for their leg): the engineer
    is no longer on the phone with them."""
    from email.utils import format_datetime

    from sqlalchemy import select

    from app.models import Callback
    from app.services.callbacks import customer_leg_status

    callback = session.scalars(select(Callback).where(Callback.incident_id == incident.id,
                                                      Callback.answered_at.is_not(None))
                               .order_by(Callback.id.desc())).first()
    customer_leg_status(session, callback.id, "completed", format_datetime(now), callback.customer_call_sid, now)
