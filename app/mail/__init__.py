"""Outbound e-mail over SMTP (customer updates and resolution proposals)."""

from app.mail.smtp import MailError, send_mail

__all__ = ["MailError", "send_mail"]
