"""One settings object, read from the environment (and ``.env``)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

TWILIO_API_BASE = "https://api.twilio.com"


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _regions(value: str) -> tuple[str, ...]:
    return tuple(r.strip().upper() for r in value.split(",") if r.strip())


@dataclass(frozen=True)
class Settings:
    """Every setting of the service; see ``.env.example`` for what each means."""

    data_dir: Path = Path(".hotline")
    database_url: str = ""
    redis_url: str = ""
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_auth_token_secondary: str = ""
    twilio_number: str = ""
    twilio_api_base_url: str = TWILIO_API_BASE
    public_base_url: str = ""
    trust_proxy_headers: bool = False
    callback_sla_minutes: int = 15
    default_region: str = "US"
    allowed_callback_regions: tuple[str, ...] = ("US", "CA", "GB", "IE", "DE", "AT", "CH", "FR", "NL")
    secret_key: str = ""
    queue_name: str = "hotline"
    # issue 11: customer updates by e-mail, and how long a resolution proposal waits for an answer
    smtp_host: str = ""  # unset: e-mail deliveries are skipped (and shown so)
    smtp_port: int = 587
    smtp_tls: str = "starttls"  # starttls, ssl or none
    smtp_username: str = ""
    smtp_password: str = ""
    mail_from: str = "Sev-1 Hotline <hotline@localhost>"
    resolution_silence_hours: int = 72
    ticket_howto: str = "To open a support ticket, write to support@example.com or use the customer dashboard."

    @property
    def simulated_telephony(self) -> bool:
        """True when no Twilio account is configured: nothing dials out."""
        return not (self.twilio_account_sid and self.twilio_auth_token)

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or a SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'hotline.db').resolve()}"

    @property
    def auth_tokens(self) -> tuple[str, ...]:
        """Tokens a webhook signature may be made with (primary, secondary)."""
        if self.simulated_telephony:
            return (self.simulated_auth_token(),)
        return tuple(t for t in (self.twilio_auth_token, self.twilio_auth_token_secondary) if t)

    def simulated_auth_token(self) -> str:
        """The local signing token shared by ``hotline serve`` and ``hotline simulate``."""
        return self._local_secret("simulated_auth_token")

    def signing_key(self) -> str:
        """SECRET_KEY, or a random key kept in the data dir (signs acknowledgement links)."""
        return self.secret_key or self._local_secret("secret_key")

    def _local_secret(self, name: str) -> str:
        path = self.data_dir / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(16))
        return path.read_text().strip()

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some settings replaced (used by tests)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default: the process environment plus ``.env``)."""
        if env is None:
            _load_dotenv()
            env = dict(os.environ)
        get = env.get
        data_dir = Path(get("HOTLINE_DATA_DIR", ".hotline"))
        return cls(
            data_dir=data_dir,
            database_url=get("DATABASE_URL", ""),
            redis_url=get("REDIS_URL", ""),
            twilio_account_sid=get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=get("TWILIO_AUTH_TOKEN", ""),
            twilio_auth_token_secondary=get("TWILIO_AUTH_TOKEN_SECONDARY", ""),
            twilio_number=get("TWILIO_NUMBER", ""),
            twilio_api_base_url=get("TWILIO_API_BASE_URL", "") or TWILIO_API_BASE,
            public_base_url=get("PUBLIC_BASE_URL", "").rstrip("/"),
            trust_proxy_headers=_bool(get("TRUST_PROXY_HEADERS", "false")),
            callback_sla_minutes=int(get("CALLBACK_SLA_MINUTES", "15")),
            default_region=get("DEFAULT_REGION", "US").upper(),
            allowed_callback_regions=_regions(
                get("ALLOWED_CALLBACK_REGIONS", ",".join(cls.allowed_callback_regions))
            ),
            secret_key=get("SECRET_KEY", ""),
            queue_name=get("QUEUE_NAME", "hotline"),
            smtp_host=get("SMTP_HOST", ""),
            smtp_port=int(get("SMTP_PORT", "587")),
            smtp_tls=get("SMTP_TLS", "starttls").strip().lower(),
            smtp_username=get("SMTP_USERNAME", ""),
            smtp_password=get("SMTP_PASSWORD", ""),
            mail_from=get("MAIL_FROM", "") or cls.mail_from,
            resolution_silence_hours=int(get("RESOLUTION_SILENCE_HOURS", "72")),
            ticket_howto=get("TICKET_HOWTO", "") or cls.ticket_howto,
        )


def _load_dotenv() -> None:
    try:
        from dotenv import load_dotenv
    except ImportError:  # python-dotenv is optional
        return
    load_dotenv(override=False)
