"""The customer's e-mails (updates, resolution proposals) as a mail administrator reads them.

Captured at a real local SMTP server (aiosmtpd): the raw bytes and envelope as well as the parsed message.
"""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from sqlalchemy import select, update

from app.models import Delivery, Incident, ProposalKind, UpdateDeliveryStatus
from app.services.acks import lock_incident
from app.services.resolution import propose
from app.services.updates import write_update
from tests.conftest import PUBLIC_BASE_URL
from tests.updates.backoffice import settle
from tests.updates.smtp_support import Inbox, SmtpServer
from tests.updates.test_update_channels import _incident

NAME = 'Jörg "JM" Müller-Weiß, Straße\r\nBcc: evil@attacker.example'


class RawInbox(Inbox):
    """Keeps the raw bytes and MAIL FROM options of each message too."""

    def __init__(self, quit_reply: str | None = None) -> None:
        super().__init__()
        self.raw: list[bytes] = []
        self.mail_options: list[list[str]] = []
        self.quit_reply = quit_reply
        self.drop_after_data = 0  # this many messages are kept, then the line drops before the 250 reply

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.raw.append(envelope.original_content or envelope.content)
        self.mail_options.append(list(envelope.mail_options))
        answer = await super().handle_DATA(server, session, envelope)
        if self.drop_after_data:
            self.drop_after_data -= 1
            server.transport.close()
        return answer

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        return self.quit_reply or "221 Bye"


@pytest.fixture
def smtp():
    server = SmtpServer(RawInbox())
    server.start()
    yield server
    server.stop()


def _german(hotline, incident) -> Incident:
    with hotline.db.transaction() as s:
        s.execute(update(Incident).where(Incident.id == incident.id).values(language="de-DE", contact_name=NAME))
    return incident


def _write(hotline, incident, text="Zustellung über SMTP gestört; Größe ändert nichts"):
    with hotline.db.transaction() as s:
        return write_update(s, lock_incident(s, incident.reference), what_is_wrong=text, expected_resolution="1 Std.",
                            by="Alice", via="dashboard", now=hotline.clock.now())


def _emails(hotline, incident):
    with hotline.db.session() as s:
        return list(s.scalars(select(Delivery).where(Delivery.incident_id == incident.id,
                                                     Delivery.channel == "email").order_by(Delivery.id)))


def test_a_german_update_is_7bit_clean_and_reads_back_with_umlauts(hotline, client, smtp):
    incident = _german(hotline, _incident(client, hotline))
    _write(hotline, incident)
    settle(hotline)
    [raw] = smtp.inbox.raw
    # 8-bit data may only go to a server as BODY=8BITMIME; smtplib never declares it, so the message must be 7-bit
    assert raw.isascii() or "BODY=8BITMIME" in smtp.inbox.mail_options[0]
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == f"Sev-1-Vorfall {incident.reference}: Update"
    assert message["To"] == "dana@acme.example" and message["MIME-Version"] == "1.0"
    assert message["Message-ID"] and message["Date"] and message["From"]
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    assert message["Bcc"] is None and "evil@attacker.example" not in str(message["To"])
    body = message.get_content()
    assert "Zustellung über SMTP gestört; Größe ändert nichts" in body
    assert 'Guten Tag Jörg "JM" Müller-Weiß, Straße' in body and "Das nächste Update erhalten Sie bis" in body
    assert "Das nächste Update erhalten Sie bis 20:00 Uhr (PST)." in body  # the customer's zone (+1 415), named
    [row] = _emails(hotline, incident)
    assert row.status == UpdateDeliveryStatus.SENT and row.attempts == 1


def test_a_proposal_email_carries_the_absolute_https_link_and_umlauts_in_the_subject(hotline, client, smtp):
    incident = _german(hotline, _incident(client, hotline))
    with hotline.db.transaction() as s:
        assert propose(s, lock_incident(s, incident.reference), ProposalKind.RESOLVED, summary="Größe geändert",
                       by="Alice", now=hotline.clock.now(), settings=hotline.settings).ok
    settle(hotline)
    [raw] = smtp.inbox.raw
    assert raw.isascii() or "BODY=8BITMIME" in smtp.inbox.mail_options[0]
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == f"Sev-1-Vorfall {incident.reference}: Bitte bestätigen Sie die Lösung"
    body = message.get_content()
    assert f"{PUBLIC_BASE_URL}/resolution/" in body and PUBLIC_BASE_URL.startswith("https://")
    assert "Wir halten Ihr Problem für gelöst: Größe geändert" in body


def test_a_message_the_server_accepted_is_sent_once_even_when_its_quit_fails(hotline, client, clock, smtp):
    """A 421 (or a dropped line) to QUIT after the server took the message: it was sent, not failed."""
    smtp.inbox.quit_reply = "421 4.3.2 Service shutting down"
    incident = _incident(client, hotline)
    _write(hotline, incident, "DNS for the API is broken")
    settle(hotline)
    for _ in range(6):  # any retry the failure scheduled comes due
        clock.advance(minutes=31)
        settle(hotline)
    # (the hours passing make the next update late: its apology is a message of its own)
    assert len([m for m in smtp.inbox.to("dana@acme.example") if "your update is late" not in m["Subject"]]) == 1
    [row] = [d for d in _emails(hotline, incident) if d.purpose == "update"]
    assert row.status == UpdateDeliveryStatus.SENT and row.attempts == 1 and row.last_error == ""


@pytest.mark.parametrize(("reply", "status", "attempts"), [
    ("550 5.1.1 No such user", UpdateDeliveryStatus.FAILED, 1),
    ("450 4.2.0 Mailbox busy", UpdateDeliveryStatus.FAILED, 6),
])
def test_a_refused_recipient_fails_at_once_when_permanent_and_after_backoff_when_temporary(
        hotline, client, clock, smtp, reply, status, attempts):
    async def refuse(server, session, envelope, address, rcpt_options):
        return reply

    smtp.inbox.handle_RCPT = refuse
    incident = _incident(client, hotline)
    _write(hotline, incident, "DNS for the API is broken")
    settle(hotline)
    waits = []
    for _ in range(8):
        [row] = _emails(hotline, incident)
        if row.status != UpdateDeliveryStatus.QUEUED:
            break
        waits.append(round((row.next_attempt_at - clock.now()).total_seconds() / 60))
        clock.set(row.next_attempt_at)
        settle(hotline)
    [row] = _emails(hotline, incident)
    assert (row.status, row.attempts) == (status, attempts)
    assert reply[:3] in row.last_error and smtp.inbox.messages == []
    assert waits == ([] if attempts == 1 else [1, 2, 4, 8, 16])


def test_a_retry_after_a_lost_reply_keeps_the_message_id_so_the_copy_is_recognised(hotline, client, clock, smtp):
    """The line dropped after the server took the message: the retry is the same message (same Message-ID)."""
    smtp.inbox.drop_after_data = 1
    incident = _incident(client, hotline)
    _write(hotline, incident, "DNS for the API is broken")
    settle(hotline)
    [row] = _emails(hotline, incident)
    assert row.status == UpdateDeliveryStatus.QUEUED and row.attempts == 1
    clock.set(row.next_attempt_at)
    settle(hotline)
    first, second = smtp.inbox.to("dana@acme.example")
    assert first["Message-ID"] == second["Message-ID"]
    [row] = _emails(hotline, incident)
    assert row.status == UpdateDeliveryStatus.SENT and row.attempts == 2 and row.provider_id == first["Message-ID"]


def test_a_german_customer_who_answered_by_sms_reads_the_link_page_in_german(hotline, client, smtp):
    """They replied JA by SMS, then opened the e-mail's link (and pressed its button): the page and its answer are in
    their language, not "This proposal was already answered (confirmed)."."""
    import re

    from tests.updates.test_outage import _sms_reply
    from tests.updates.test_update_channels import CUSTOMER

    incident = _german(hotline, _incident(client, hotline))
    with hotline.db.transaction() as s:
        assert propose(s, lock_incident(s, incident.reference), ProposalKind.RESOLVED, summary="Größe geändert",
                       by="Alice", now=hotline.clock.now(), settings=hotline.settings).ok
    settle(hotline)
    [message] = [message_from_bytes(raw, policy=policy.default) for raw in smtp.inbox.raw]
    link = re.search(r"https://hotline\.example\.com(/resolution/\S+)", message.get_content()).group(1)
    assert "geschlossen" in _sms_reply(client, CUSTOMER, f"JA {incident.reference}")

    shown = client.get(link)
    assert shown.status_code == 410 and '<html lang="de">' in shown.get_data(as_text=True)
    assert f"Dieser Vorschlag zu Vorfall {incident.reference} ist bereits beantwortet (bestätigt)." in \
        shown.get_data(as_text=True)
    pressed = client.post(link, data={"answer": "reject"})
    assert pressed.status_code == 409
    assert f"Dieser Vorschlag zu Vorfall {incident.reference} ist bereits beantwortet (bestätigt)." in \
        pressed.get_data(as_text=True)
    assert "already" not in pressed.get_data(as_text=True)
