"""One settings object, read from the environment (and ``.env``)."""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

TWILIO_API_BASE = "https://api.twilio.com"
LOCAL_BASE_URL = "http://localhost:8000"  # links' base without PUBLIC_BASE_URL (`hotline serve`'s default port)
PROMISED_CALLBACK_MINUTES = 15  # the support policy's promise (docs/policy.md): CALLBACK_SLA_MINUTES's default
# Files the hotline keeps in its data dir (SQLite adds -wal/-shm/-journal; the spool a .replaying copy).
DATA_FILE_PREFIXES = ("secret_key", "simulated_auth_token", "hotline.db", "spool.", "redis.", "simulated_phones.db",
                      "migrate.lock")


YES_WORDS = frozenset({"1", "true", "yes", "on"})  # what a yes/no setting takes as yes
NO_WORDS = frozenset({"", "0", "false", "no", "off"})  # ... and as no (empty: the default, no)


def _yes_no(variable: str, raw: str) -> bool:
    """A yes/no setting; a word that is neither (``ture``) is refused rather than read as no."""
    word = raw.strip().lower()
    if word not in YES_WORDS | NO_WORDS:
        raise SettingsError(variable, f"{raw!r} is neither yes nor no.",
                            f"write {variable}=true or {variable}=false (1/0, yes/no and on/off work too)")
    return word in YES_WORDS


def _regions(value: str) -> tuple[str, ...]:
    return tuple(r.strip().upper() for r in value.split(",") if r.strip())


class SettingsError(ValueError):
    """A setting that cannot be used: names the variable, what is wrong and the fix."""

    def __init__(self, variable: str, problem: str, fix: str = "") -> None:
        super().__init__(f"{variable}: {problem}" + (f" Fix: {fix}" if fix else ""))
        self.variable = variable
        self.problem = problem
        self.fix = fix

    def __reduce__(self):
        """Pickled with its three parts (the start-up checks hand it from a forked child)."""
        return type(self), (self.variable, self.problem, self.fix)


def _minutes(variable: str, raw: str, low: int, high: int, example: int = 15) -> int:
    """A whole number of minutes in [low, high]; a unit such as "15m" is refused with the fix (``example``: the default)."""
    text = raw.strip()
    if not text.isdecimal() or not low <= int(text) <= high:
        raise SettingsError(variable, f"must be a whole number of minutes from {low} to {high}, not {raw!r}.",
                            f"write the number alone, e.g. {variable}={example}")
    return int(text)


def _seconds(variable: str, raw: str, low: int, high: int) -> int:
    """A whole number of seconds in [low, high]; a unit such as "60s" is refused with the fix."""
    text = raw.strip()
    if not text.isdecimal() or not low <= int(text) <= high:
        raise SettingsError(variable, f"must be a whole number of seconds from {low} to {high}, not {raw!r}.",
                            f"write the number alone, e.g. {variable}=60")
    return int(text)


def _count(variable: str, raw: str, example: int, high: int | None = None) -> int:
    """A whole number, zero or more (at most ``high``): 0 switches the limit off (each user of a count setting
    honours that)."""
    text = raw.strip()
    if not text.isdecimal() or (high is not None and int(text) > high):
        span = f" from 0 to {high}" if high is not None else ""
        raise SettingsError(variable, f"must be a whole number{span}, not {raw!r}.",
                            f"write the number alone, e.g. {variable}={example} (the default; 0 switches it off)")
    return int(text)


HOURS_IN_A_YEAR = 8760  # MISSED_CALL_SMS_HOURS at most: far more is a time before the year 1 when subtracted from now


def url_problem(text: str, *, base: bool = False) -> str | None:
    """Why ``text`` is not an absolute http(s) URL with a host, or None; a ``base`` URL has no query or fragment either.

    Whitespace anywhere is refused: a comment after the value stays part of it (systemd's
    EnvironmentFile keeps it), and a URL with a space in it reaches nobody.
    """
    from urllib.parse import urlsplit

    if any(char.isspace() for char in text):
        return "contains whitespace (a comment after the value, or a space inside it, is part of the value)"
    try:
        url = urlsplit(text)
        url.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        return "is not a URL (its host or port cannot be read)"
    if url.scheme not in ("http", "https") or not text.startswith(f"{url.scheme}://"):
        return "is not an http(s) URL (it must start with https:// or http://)"
    if not url.hostname:
        return "names no host"
    if base and ("?" in text or "#" in text):
        return "has a query or a fragment (? or #), which a base URL cannot have"
    return None


def base_url_text(raw: str) -> str:
    """``raw`` without surrounding whitespace and trailing slashes (those of ``https://`` itself stay), its scheme in
    lower case (schemes are case-insensitive: ``HTTPS://`` was refused as "not an http(s) URL")."""
    scheme, separator, rest = raw.strip().partition("://")
    return scheme.lower() + separator + rest.rstrip("/") if separator else scheme.rstrip("/")


def _http_url(variable: str, raw: str) -> str:
    """An absolute http(s) URL with a host (Twilio's API base, whose requests the worker builds itself)."""
    text = base_url_text(raw)
    problem = url_problem(text, base=True)
    if problem:
        raise SettingsError(variable, f"must be an absolute http(s) URL, not {raw!r}: it {problem}.",
                            f"leave it unset for Twilio itself, or e.g. {variable}=http://127.0.0.1:8099")
    return text


def _redis_url(variable: str, raw: str) -> str:
    """A Redis URL redis-py reads as meant: redis-py takes ``/abc`` (or ``/0x``) silently as database 0."""
    text = raw.strip()
    if not text:
        return ""
    parts = urlparse(text)
    database = parts.path.lstrip("/")
    if parts.scheme not in ("redis", "rediss", "unix") or (parts.scheme != "unix" and not parts.hostname):
        problem = "is not a redis://, rediss:// or unix:// URL with a host"
    elif parts.scheme != "unix" and database and not database.isdecimal():
        problem = f"names the database {database!r}: a whole number (0, 1, ...) after the port"
    else:
        return text
    raise SettingsError(variable, f"{problem}, not {raw!r}.",
                        f"leave it unset for the embedded Redis, or e.g. {variable}=redis://127.0.0.1:6379/0")


def _queue_name(variable: str, raw: str) -> str:
    """An RQ queue name: no whitespace (a host whose name differs shares no work with the others)."""
    if any(char.isspace() for char in raw):
        raise SettingsError(variable, f"must be one word without spaces, not {raw!r}: web and worker must name the "
                            "same queue.", f"leave it empty for 'hotline', or e.g. {variable}=hotline")
    return raw


def _port(variable: str, raw: str) -> int:
    """A TCP port, 1 to 65535 (issue 11: the SMTP server's)."""
    text = raw.strip()
    if not text.isdecimal() or not 1 <= int(text) <= 65535:
        raise SettingsError(variable, f"must be a port number from 1 to 65535, not {raw!r}.",
                            f"write the number alone, e.g. {variable}=587")
    return int(text)


def _smtp_tls(variable: str, raw: str) -> str:
    """How to secure SMTP: starttls, ssl or none (issue 11)."""
    mode = raw.strip().lower()
    if mode not in ("starttls", "ssl", "none"):
        raise SettingsError(variable, f"must be starttls, ssl or none, not {raw!r}.",
                            f"{variable}=starttls for port 587, ssl for port 465")
    return mode


def _per_second(variable: str, raw: str, default: str) -> float:
    """A send rate per second, more than 0 and at most 1000 (issue 12: Twilio's account rates)."""
    try:
        value = float(raw.strip())
    except ValueError:
        value = -1.0
    if not 0 < value <= 1000:
        raise SettingsError(variable, f"must be a number of sends per second, more than 0 and at most 1000, not {raw!r}.",
                            f"write the number alone, e.g. {variable}={default} (the default)")
    return value


def _hours(variable: str, raw: str) -> int:
    """A whole number of hours, 1 to 720 (issue 11: how long a proposal waits for the customer)."""
    text = raw.strip()
    if not text.isdecimal() or not 1 <= int(text) <= 720:
        raise SettingsError(variable, f"must be a whole number of hours from 1 to 720, not {raw!r}.",
                            f"write the number alone, e.g. {variable}=72")
    return int(text)


def _days(variable: str, raw: str) -> int:
    """A whole number of days, 0 to 90 (how long after a close the customer's NO reopens it; 0: never)."""
    text = raw.strip()
    if not text.isdecimal() or not 0 <= int(text) <= 90:
        raise SettingsError(variable, f"must be a whole number of days from 0 to 90, not {raw!r}.",
                            f"write the number alone, e.g. {variable}=7")
    return int(text)


def _region(variable: str, raw: str) -> str:
    """One ISO 3166 alpha-2 region that phone numbers can be read in."""
    import phonenumbers

    code = raw.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError(variable, f"{raw.strip()!r} is not a country code phone numbers know.",
                            "use two-letter ISO 3166 codes such as US, GB, DE")
    return code


def _region_list(variable: str, raw: str) -> tuple[str, ...]:
    """Comma-separated regions; another separator ("US;GB", "US GB") is refused with the fix."""
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    for part in parts:
        for separator in (";", " ", "|", "/", ":"):
            if separator in part:
                raise SettingsError(variable, f"{raw!r} separates the regions with {separator!r}.",
                                    f"separate them with commas, e.g. {variable}=US,CA,GB")
    regions = tuple(_region(variable, part) for part in parts)
    if not regions:
        raise SettingsError(variable, "names no region, so no caller could be called back.",
                            f"list at least one, e.g. {variable}=US")
    return regions


def with_driver(url: str) -> str:
    """``url`` with ``postgres://`` and ``postgresql://`` naming the installed driver, psycopg2.

    SQLAlchemy 2.1 takes psycopg 3 for a bare ``postgresql://``; the hotline installs psycopg2, which
    costs each process 4.6 MB less (issue 12, README "Where issue 12 stands").
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def normalize_database_url(raw: str) -> str:
    """DATABASE_URL with the driver named (``with_driver``), refused if SQLAlchemy cannot read it."""
    url = with_driver(raw.strip())
    if url:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = make_url(url)
        except ArgumentError:
            raise SettingsError("DATABASE_URL", "is not a database URL SQLAlchemy can read.",
                                "use postgresql://user:password@host:5432/hotline "
                                "(or leave it empty for SQLite in HOTLINE_DATA_DIR)") from None
        backend = parsed.get_backend_name()
        if backend not in ("postgresql", "sqlite"):
            raise SettingsError("DATABASE_URL", f"names {backend}; the hotline runs on PostgreSQL or SQLite only.",
                                "use postgresql://user:password@host:5432/hotline "
                                "(or leave it empty for SQLite in HOTLINE_DATA_DIR)")
        if backend == "sqlite" and (parsed.database in (None, "", ":memory:")
                                    or parsed.query.get("mode") == "memory"):
            raise SettingsError("DATABASE_URL", "is an in-memory SQLite database: each process (every web worker, "
                                "the worker, each command) would have its own empty one, and nothing would be kept.",
                                "leave it empty for SQLite in HOTLINE_DATA_DIR, or name a file: "
                                "sqlite:////var/lib/hotline/hotline.db")
    return url


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
    callback_sla_minutes: int = PROMISED_CALLBACK_MINUTES
    default_region: str = "US"
    allowed_callback_regions: tuple[str, ...] = ("US", "CA", "GB", "IE", "DE", "AT", "CH", "FR", "NL")
    secret_key: str = ""
    queue_name: str = "hotline"
    # issue 12: Twilio's account rates, kept by all workers together (Twilio's defaults: 1 call per second)
    twilio_calls_per_second: float = 1.0
    twilio_sms_per_second: float = 10.0
    # issue 9: floods and toll fraud
    # new incidents per caller ID per window; more join the newest open one (0: no limit)
    max_incidents_per_caller: int = 3
    # beyond that, new incidents per caller ID per window for callers whose contact is none of the number's open
    # incidents' (a spoofed number's real customer: their callback tracked); more join as a contact (0: no bound)
    max_other_contact_incidents_per_caller: int = 3
    caller_incident_window_minutes: int = 60
    outbound_alert_per_hour: int = 120  # outbound SMS + calls per hour above which managers are alerted (0: no alert)
    missed_call_sms_hours: int = 24  # at most one missed-call SMS per number in this many hours (0: no limit)
    helpdesk_webhook_url: str = ""  # unset: no outbound webhooks
    helpdesk_webhook_secret: str = ""  # HMAC-SHA256 key of X-Hotline-Signature
    # issue 11: customer updates by e-mail, and how long a resolution proposal waits for an answer
    smtp_host: str = ""  # unset: e-mail deliveries are skipped (and shown so)
    smtp_port: int = 587
    smtp_tls: str = "starttls"  # starttls, ssl or none
    smtp_username: str = ""
    smtp_password: str = ""
    mail_from: str = "Sev-1 Hotline <hotline@localhost>"
    resolution_silence_hours: int = 72
    # how long after a close the customer's NO to its notice reopens it (a close they never agreed to in writing:
    # a rep's record of a verbal agreement, a manager's, or their silence); 0: never, their words are passed on
    reopen_window_days: int = 7
    ticket_howto: str = "To open a support ticket, write to support@example.com or use the customer dashboard."
    # the same for callers who chose German; "": TICKET_HOWTO's own words when it is set, else a German placeholder
    ticket_howto_de: str = ""
    # issue 13: live connect. How long a caller may wait on the line for an engineer (0: never offered),
    # and what they hear meanwhile (a clip of about a minute: "you are still in line" follows each play)
    live_wait_minutes: int = 5
    live_hold_music_url: str = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
    live_hold_music_seconds: int = 60  # how long that clip plays: the last round before the limit is cut to fit

    @property
    def simulated_telephony(self) -> bool:
        """True when no Twilio account is configured: nothing dials out."""
        return not (self.twilio_account_sid and self.twilio_auth_token)

    @property
    def talks_to_twilio(self) -> bool:
        """True when TWILIO_API_BASE_URL is Twilio's own API (not a test server or a typo)."""
        return self.twilio_api_base_url.rstrip("/") == TWILIO_API_BASE

    @property
    def link_base(self) -> str:
        """The base of every link and TwiML URL the hotline hands out: PUBLIC_BASE_URL, else ``LOCAL_BASE_URL`` (a
        local trial; `hotline serve` on another port says so, and production refuses an empty PUBLIC_BASE_URL)."""
        return self.public_base_url or LOCAL_BASE_URL

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or a SQLite file in the data directory."""
        return with_driver(self.database_url) or f"sqlite:///{(self.data_dir / 'hotline.db').resolve()}"

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
        # serve's workers, `hotline worker` and `simulate` may all create it at once on a fresh data dir:
        # each must end up with the same value, and none may ever sign or verify with an empty one.
        path = self.data_dir / name
        existed = path.exists()
        value = path.read_text().strip() if existed else ""
        if not value:
            self.prepare_data_dir()
            install_private(path, secrets.token_hex(16), overwrite=existed)  # existed: left empty by a crash
            value = path.read_text().strip()
        if not value:
            raise SettingsError("HOTLINE_DATA_DIR", f"{path} is empty", "delete the file; it is made again at start")
        return value

    def prepare_data_dir(self) -> Path:
        """Create the data dir readable by this user alone (0700), and make our files in it 0600.

        A data dir this user cannot create or write is a SettingsError naming HOTLINE_DATA_DIR (not a traceback).
        """
        try:
            return self._prepare_data_dir()
        except OSError as exc:
            raise self._data_dir_error(exc.strerror or str(exc)) from None

    def data_dir_problem(self) -> SettingsError | None:
        """Why this user could not create or write the data dir (without creating it), or None."""
        path = self.data_dir.absolute()
        while not path.exists() and path != path.parent:
            path = path.parent
        if not path.is_dir():
            return self._data_dir_error(f"{path} is not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            return self._data_dir_error(f"{path} is not writable")
        return None

    def _data_dir_error(self, reason: str) -> SettingsError:
        return SettingsError("HOTLINE_DATA_DIR", f"{str(self.data_dir)!r} cannot be used by this user: {reason}.",
                             "create it for the service's user (e.g. install -d -m 700 -o hotline /var/lib/hotline), "
                             "or point HOTLINE_DATA_DIR at a folder it can write")

    def _prepare_data_dir(self) -> Path:
        # Another local user who can read secret_key can forge an admin session; who can read
        # the SQLite file has every customer's details. Existing installs are tightened too.
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not os.access(self.data_dir, os.W_OK | os.X_OK):  # the emergency spool and the secrets are written here
            raise PermissionError(13, "Permission denied (not writable)")
        os.chmod(self.data_dir, 0o700)
        sqlite_file = self.sqlite_file()
        if sqlite_file is not None and not sqlite_file.exists() and sqlite_file.parent.is_dir():
            # SQLite creates its -wal and -shm files with the database file's mode; a file DATABASE_URL names
            # outside the data dir too (an existing one there is left as its owner made it: `hotline check` warns)
            os.close(os.open(sqlite_file, os.O_CREAT | os.O_WRONLY, 0o600))
        db_file = self._sqlite_file_in_data_dir()
        if db_file is not None:  # DATABASE_URL may name another file in the data dir
            for path in (Path(f"{db_file}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")):
                if path.is_file() and not path.is_symlink():
                    os.chmod(path, 0o600)
        for path in self.data_dir.iterdir():
            # Only the files the hotline itself keeps here: the data dir may be shared by mistake.
            if path.name.startswith(DATA_FILE_PREFIXES) and path.is_file() and not path.is_symlink():
                os.chmod(path, 0o600)
        return self.data_dir

    def sqlite_file(self) -> Path | None:
        """The SQLite database file, wherever it is; None on PostgreSQL."""
        url = self.resolved_database_url
        if not url.startswith("sqlite:///"):
            return None
        return Path(url.removeprefix("sqlite:///").split("?", 1)[0])

    def _sqlite_file_in_data_dir(self) -> Path | None:
        path = self.sqlite_file()
        if path is None:
            return None
        try:
            path.resolve().relative_to(self.data_dir.resolve())
        except ValueError:
            return None
        return path

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
        data_dir = Path(get("HOTLINE_DATA_DIR", "") or cls.data_dir)  # empty: the default, never the current dir
        return cls(
            data_dir=data_dir,
            database_url=normalize_database_url(get("DATABASE_URL", "")),
            redis_url=_redis_url("REDIS_URL", get("REDIS_URL", "")),
            twilio_account_sid=get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=get("TWILIO_AUTH_TOKEN", ""),
            twilio_auth_token_secondary=get("TWILIO_AUTH_TOKEN_SECONDARY", ""),
            twilio_number=get("TWILIO_NUMBER", ""),
            twilio_api_base_url=_http_url("TWILIO_API_BASE_URL", get("TWILIO_API_BASE_URL", "") or TWILIO_API_BASE),
            public_base_url=base_url_text(get("PUBLIC_BASE_URL", "")),  # config_rules checks the rest
            trust_proxy_headers=_yes_no("TRUST_PROXY_HEADERS", get("TRUST_PROXY_HEADERS", "")),
            callback_sla_minutes=_minutes("CALLBACK_SLA_MINUTES",
                                          get("CALLBACK_SLA_MINUTES", "") or str(PROMISED_CALLBACK_MINUTES), 1, 240),
            default_region=_region("DEFAULT_REGION", get("DEFAULT_REGION", "") or "US"),
            allowed_callback_regions=_region_list(
                "ALLOWED_CALLBACK_REGIONS",
                get("ALLOWED_CALLBACK_REGIONS", "") or ",".join(cls.allowed_callback_regions),
            ),
            secret_key=get("SECRET_KEY", ""),
            queue_name=_queue_name("QUEUE_NAME", get("QUEUE_NAME", "") or cls.queue_name),
            twilio_calls_per_second=_per_second("TWILIO_CALLS_PER_SECOND", get("TWILIO_CALLS_PER_SECOND", "") or "1", "1"),
            twilio_sms_per_second=_per_second("TWILIO_SMS_PER_SECOND", get("TWILIO_SMS_PER_SECOND", "") or "10", "10"),
            max_incidents_per_caller=_count("MAX_INCIDENTS_PER_CALLER", get("MAX_INCIDENTS_PER_CALLER", "") or "3", 3),
            max_other_contact_incidents_per_caller=_count(
                "MAX_OTHER_CONTACT_INCIDENTS_PER_CALLER", get("MAX_OTHER_CONTACT_INCIDENTS_PER_CALLER", "") or "3", 3),
            caller_incident_window_minutes=_minutes("CALLER_INCIDENT_WINDOW_MINUTES",
                                                    get("CALLER_INCIDENT_WINDOW_MINUTES", "") or "60", 1, 24 * 60, 60),
            outbound_alert_per_hour=_count("OUTBOUND_ALERT_PER_HOUR", get("OUTBOUND_ALERT_PER_HOUR", "") or "120", 120),
            missed_call_sms_hours=_count("MISSED_CALL_SMS_HOURS", get("MISSED_CALL_SMS_HOURS", "") or "24", 24,
                                          HOURS_IN_A_YEAR),
            helpdesk_webhook_url=get("HELPDESK_WEBHOOK_URL", "").strip(),
            helpdesk_webhook_secret=get("HELPDESK_WEBHOOK_SECRET", ""),
            smtp_host=get("SMTP_HOST", ""),
            smtp_port=_port("SMTP_PORT", get("SMTP_PORT", "") or "587"),
            smtp_tls=_smtp_tls("SMTP_TLS", get("SMTP_TLS", "") or "starttls"),
            smtp_username=get("SMTP_USERNAME", ""),
            smtp_password=get("SMTP_PASSWORD", ""),
            mail_from=get("MAIL_FROM", "") or cls.mail_from,
            resolution_silence_hours=_hours("RESOLUTION_SILENCE_HOURS", get("RESOLUTION_SILENCE_HOURS", "") or "72"),
            reopen_window_days=_days("REOPEN_WINDOW_DAYS", get("REOPEN_WINDOW_DAYS", "") or "7"),
            ticket_howto=get("TICKET_HOWTO", "") or cls.ticket_howto,
            ticket_howto_de=get("TICKET_HOWTO_DE", "").strip(),
            live_wait_minutes=_minutes("LIVE_WAIT_MINUTES", get("LIVE_WAIT_MINUTES", "") or "5", 0, 60, 5),
            live_hold_music_url=get("LIVE_HOLD_MUSIC_URL", "").strip() or cls.live_hold_music_url,
            live_hold_music_seconds=_seconds("LIVE_HOLD_MUSIC_SECONDS", get("LIVE_HOLD_MUSIC_SECONDS", "") or "60",
                                             5, 600),
        )


def install_private(path: Path, text: str, *, overwrite: bool = False) -> None:
    """Create ``path`` (0600) holding ``text`` in one step: nobody reads it half written.

    Unless ``overwrite``, a file another process made meanwhile stands (processes starting together agree).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if overwrite:
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load_dotenv() -> str | None:
    """Read the ``.env`` found from the current directory upwards; the real environment wins. Returns its path.

    ``find_dotenv()`` without ``usecwd`` would start from this file's directory, i.e. the
    checkout, and ignore the ``.env`` beside where ``hotline`` runs.
    """
    try:
        from dotenv import find_dotenv, load_dotenv
    except ImportError:  # python-dotenv is optional
        return None
    path = find_dotenv(usecwd=True)
    if path:
        load_dotenv(path, override=False)
    return path or None


def dotenv_keys(path: str) -> list[str]:
    """The keys the ``.env`` at ``path`` sets, as python-dotenv reads them (``hotline check`` names the unknown)."""
    from dotenv import dotenv_values

    return list(dotenv_values(path))
