"""One e-mail over SMTP, with the host, port, TLS mode, login and sender from settings.

``smtplib`` is imported when a message is sent: the web and worker processes import this module
(customer updates may go by e-mail) but most of them never send one.
"""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import TYPE_CHECKING

from app.settings import Settings

if TYPE_CHECKING:
    import smtplib

TIMEOUT_SECONDS = 15


class MailError(Exception):
    """The message was not accepted; ``permanent`` when trying again cannot help (a 5xx reply)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def send_mail(settings: Settings, *, to: str, subject: str, body: str, message_id: str = "") -> str:
    """Send one plain-text e-mail; returns its Message-ID, raises MailError."""
    if not settings.smtp_host:
        raise MailError("SMTP is not configured (SMTP_HOST)", permanent=True)
    import smtplib

    sender = settings.mail_from
    domain = parseaddr(sender)[1].partition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain=domain)
    message.set_content(body)
    try:
        with _connect(settings) as smtp:
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise MailError(f"recipient refused ({codes})", permanent=all(c >= 500 for c in codes)) from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"SMTP {exc.smtp_code}", permanent=exc.smtp_code >= 500) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}"[:200]) from exc
    return str(message["Message-ID"])


def _connect(settings: Settings) -> smtplib.SMTP:
    import smtplib

    mode = settings.smtp_tls
    if mode == "ssl":
        return smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS,
                                context=ssl.create_default_context())
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
    if mode == "starttls":
        smtp.starttls(context=ssl.create_default_context())
    return smtp
