"""One e-mail over SMTP, with the host, port, TLS mode, login and sender from settings.

``smtplib`` is imported when a message is sent: the web and worker processes import this module
(customer updates may go by e-mail) but most of them never send one.
"""

from __future__ import annotations

import ssl
import time
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

    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain=_domain(settings))
    # quoted-printable keeps the message 7-bit: smtplib never declares BODY=8BITMIME, so 8-bit German text
    # would reach a server that did not agree to it
    message.set_content(body, cte="quoted-printable")
    try:
        smtp = open_session(settings)
    except SessionFailed as exc:
        raise _mail_error(exc.cause) from exc.cause
    try:
        smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise _mail_error(exc) from exc
    finally:
        _quit(smtp)
    return str(message["Message-ID"])


def _quit(smtp: smtplib.SMTP) -> None:
    """Say QUIT and close. Once the server took the message, a failed QUIT (a 421, a time-out, a dropped
    line) changes nothing: the message is sent, and counting it failed would send it again."""
    try:
        smtp.quit()
    except OSError:  # smtplib's errors are OSErrors, as are the socket's
        pass
    finally:
        smtp.close()


def _domain(settings: Settings) -> str:
    return parseaddr(settings.mail_from)[1].partition("@")[2] or "localhost"


def message_id_for(settings: Settings, key: str) -> str:
    """The Message-ID of the message ``key`` names, the same on every try: a copy that a try whose reply
    was lost (the server took it) and its retry both delivered is recognised as one message."""
    return f"<{key}@{_domain(settings)}>"


def _mail_error(exc: OSError) -> MailError:
    """The MailError for a failure of smtplib or of the connection."""
    import smtplib

    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return MailError(f"recipient refused ({codes})", permanent=all(c >= 500 for c in codes))
    reason = f"SMTP {exc.smtp_code}" if isinstance(exc, smtplib.SMTPResponseException) else f"{type(exc).__name__}: {exc}"
    return MailError(reason[:200], permanent=not can_pass(exc))


def can_pass(exc: OSError) -> bool:
    """True for a failure that may be gone on the next try: a 4xx reply, a time-out, a dropped connection.

    False for one that stays until SMTP_TLS, the login or the server change: a 5xx reply, a TLS
    failure, a server without the STARTTLS or AUTH the settings need. The one rule for both the
    start-up check (an error, not a warning) and a message (given up at once, not retried).
    """
    import smtplib

    if isinstance(exc, ssl.SSLError):
        return False  # a certificate or protocol mismatch stays until SMTP_TLS or the server changes
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code < 500
    return isinstance(exc, smtplib.SMTPServerDisconnected) or not isinstance(exc, smtplib.SMTPException)


class SessionFailed(Exception):
    """Opening the SMTP session failed at ``step`` ("connect", "tls" or "login"); ``cause`` is smtplib's error."""

    def __init__(self, step: str, cause: OSError) -> None:
        super().__init__(f"{step}: {type(cause).__name__}: {cause}")
        self.step = step
        self.cause = cause


def open_session(settings: Settings, timeout: float = TIMEOUT_SECONDS) -> smtplib.SMTP:
    """An SMTP session ready for a message: connected, EHLO said, secured as SMTP_TLS says, logged in.

    The one way this application talks to its SMTP server: ``send_mail`` sends through it and
    ``hotline check`` opens it (with a shorter ``timeout``) and quits. ``timeout`` bounds the whole
    opening, not each reply: a server that answers every command slowly cannot hold the start-up
    checks for a time-out per step; each step gets what is left (a step of several replies, such
    as an AUTH LOGIN, may use it once per reply). The message itself then has ``timeout`` per reply.
    Logs in only when SMTP_USERNAME is set. Raises SessionFailed naming the step that failed;
    the connection is closed then.
    """
    import smtplib

    deadline = time.monotonic() + timeout
    mode = settings.smtp_tls
    try:
        if mode == "ssl":
            smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    except OSError as exc:  # SSL's handshake happens while connecting
        raise SessionFailed("tls" if isinstance(exc, ssl.SSLError) else "connect", exc) from exc
    step = "connect"
    try:
        _time_left(smtp, deadline, timeout)
        smtp.ehlo_or_helo_if_needed()
        if mode == "starttls":
            step = "tls"
            _time_left(smtp, deadline, timeout)
            smtp.starttls(context=ssl.create_default_context())
            _time_left(smtp, deadline, timeout)
            smtp.ehlo_or_helo_if_needed()  # EHLO again over TLS: AUTH is often offered only there
        if settings.smtp_username:
            step = "login"
            _time_left(smtp, deadline, timeout)
            _log_in(smtp, settings.smtp_username, settings.smtp_password, secured=mode != "none")
        smtp.sock.settimeout(timeout)
    except OSError as exc:  # smtplib's errors are OSErrors, as are ssl's and the socket's
        smtp.close()
        raise SessionFailed(step, exc) from exc
    return smtp


def _time_left(smtp: smtplib.SMTP, deadline: float, timeout: float) -> None:
    """Give the next step what is left of the opening's time, or fail it (TimeoutError) when nothing is."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError(f"the SMTP server took over {timeout:g} s to get the session ready")
    smtp.sock.settimeout(left)


def _log_in(smtp: smtplib.SMTP, username: str, password: str, secured: bool) -> None:
    """Log in with one attempt: a wrong password costs the account one failed login, not one per mechanism.

    ``smtplib.SMTP.login`` tries every mechanism the server offers in turn, so each start-up probe
    and each message with a wrong password counted two or three failed logins, enough for a
    provider's lock-out after a restart or two. Over TLS PLAIN comes first (TLS protects it and
    every server can check it, hashed passwords included); without TLS CRAM-MD5 does, as in
    smtplib, so the password itself is not sent. Only a mechanism the server then turns down
    (504) moves on to the next one.
    """
    import smtplib

    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    offered = smtp.esmtp_features["auth"].upper().split()
    preference = ("PLAIN", "LOGIN", "CRAM-MD5") if secured else ("CRAM-MD5", "PLAIN", "LOGIN")
    smtp.user, smtp.password = username, password  # what smtplib's auth_* callbacks read
    for mechanism in (m for m in preference if m in offered):
        try:
            smtp.auth(mechanism, getattr(smtp, "auth_" + mechanism.lower().replace("-", "_")))
            return
        except smtplib.SMTPAuthenticationError as exc:
            if exc.smtp_code != 504:
                raise
    raise smtplib.SMTPException("No suitable authentication method found.")
