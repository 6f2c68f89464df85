"""Small probes of what the configuration points at: database, schema, Redis, Twilio, SMTP.

Each returns a short reason on failure (one line, never a traceback, never a password)
and None when all is well.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url

if TYPE_CHECKING:
    from app.settings import Settings

CONNECT_TIMEOUT_SECONDS = 5


def safe_url(url: str) -> str:
    """A database or Redis URL with its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unreadable URL is shown without its credentials
        return url.split("@")[-1]


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, prefixed by its type."""
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0].rstrip('.')}" if message else type(exc).__name__


def probe_engine(url: str) -> Engine:
    """An engine that gives up connecting after a few seconds (unless the URL sets its own ?connect_timeout=)."""
    kwargs: dict = {}
    if url.startswith("postgresql") and "connect_timeout" not in make_url(url).query:
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    return create_engine(url, **kwargs)


def database_unreachable(url: str) -> str | None:
    """Why the database at ``url`` cannot be used, or None."""
    try:
        engine = probe_engine(url)
    except Exception as exc:  # noqa: BLE001 - e.g. an unknown dialect or a driver that is not installed
        return first_line(exc)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        return first_line(getattr(exc, "orig", None) or exc)
    finally:
        engine.dispose()
    return None


@dataclass(frozen=True)
class SchemaState:
    """Where the database's schema stands against the migrations shipped with this version."""

    current: tuple[str, ...]
    head: tuple[str, ...]
    has_tables: bool
    unknown: tuple[str, ...] = ()  # recorded revisions no migration of this version names: a newer version's

    @property
    def at_head(self) -> bool:
        """True when the database is at the newest migration."""
        return set(self.current) == set(self.head)

    @property
    def ahead(self) -> bool:
        """True when a newer version of the hotline migrated the database past this version's migrations."""
        return bool(self.unknown)

    @property
    def usable(self) -> bool:
        """At head, or built without Alembic from the same models (tests, ``create_all``)."""
        return self.at_head or (not self.current and self.has_tables)

    def describe(self) -> str:
        """One line: empty, behind, ahead or at head."""
        if not self.has_tables:
            return "the database is empty (no tables)"
        if not self.current:
            return "the tables exist but carry no Alembic revision"
        if self.at_head:
            return f"at head ({', '.join(self.head)})"
        if self.ahead:
            return (f"at {', '.join(self.current)}, but this version needs {', '.join(self.head)}: "
                    "a newer version of the hotline migrated it")
        return f"at {', '.join(self.current)}, but this version needs {', '.join(self.head)}"

    def fix(self) -> str:
        """The command or step that makes the schema usable by this version."""
        if self.ahead:
            return ("run the newer version that migrated the database (install it on this host); "
                    "`hotline db upgrade` of this version cannot take a schema back")
        return "run `hotline db upgrade`"


class SchemaAheadError(RuntimeError):
    """The database was migrated by a newer version than this one: nothing here may migrate or use it."""

    def __init__(self, state: SchemaState) -> None:
        super().__init__(f"DATABASE_URL: the schema is {state.describe()}. Fix: {state.fix()}.")
        self.state = state

    def __reduce__(self):
        return type(self), (self.state,)  # comes back whole from a forked child's pipe


MIGRATIONS_DIR = Path(__file__).parent / "migrations" / "versions"
VERSION_TABLE = "alembic_version"  # Alembic's default, which app/migrations/env.py keeps


@lru_cache(maxsize=1)
def head_revisions() -> tuple[str, ...]:
    """The newest migration(s) shipped with this code, read from the migration files without Alembic.

    Importing Alembic costs every web worker ~11 MB; the schema guard only needs the revision
    graph, which each file states in ``revision = ...`` and ``down_revision = ...``.
    """
    return heads_in(MIGRATIONS_DIR)


def heads_in(directory: Path) -> tuple[str, ...]:
    """The revisions no other migration in ``directory`` revises (tests compare this with Alembic's answer)."""
    revises = _graph(directory)
    superseded = {parent for parents in revises.values() for parent in parents}
    return tuple(sorted(set(revises) - superseded))


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    """Every revision the migrations shipped with this code name."""
    return frozenset(_graph(MIGRATIONS_DIR))


def _graph(directory: Path) -> dict[str, tuple[str, ...]]:
    """Each migration's revision in ``directory`` and the revisions it follows."""
    revises: dict[str, tuple[str, ...]] = {}
    for path in sorted(directory.glob("*.py")):
        found = _revision_ids(path)
        if found is not None:
            revises[found[0]] = found[1]
    return revises


_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(\([^)]*\)|[^\n#]+)", re.MULTILINE)


def _revision_ids(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """(revision, the revisions it follows) from one migration file, or None for a file that is not one.

    Only the two assignments are read (``ast.parse`` of every migration left ~1.4 MB in each worker).
    """
    values = {name: ast.literal_eval(value.strip())
              for name, value in _ASSIGNMENT.findall(path.read_text(encoding="utf-8"))}
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str):
        return None
    parents = (down,) if isinstance(down, str) else tuple(down or ())
    return revision, parents


def current_revisions(conn: Connection) -> tuple[str, ...]:
    """The revision(s) recorded in the database's ``alembic_version`` table (empty when it has none)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return ()
    return tuple(sorted(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()))


def schema_state(engine: Engine) -> SchemaState:
    """The database's Alembic revision against the shipped head; raises on a connection error."""
    with engine.connect() as conn:
        return schema_state_of(conn)


def schema_state_of(conn: Connection) -> SchemaState:
    """``schema_state`` on an open connection (the migration reads it under its lock)."""
    current = current_revisions(conn)
    has_tables = bool(set(inspect(conn).get_table_names()) - {VERSION_TABLE})
    unknown = tuple(r for r in current if r not in known_revisions())
    return SchemaState(current=current, head=head_revisions(), has_tables=has_tables, unknown=unknown)


def refuse_newer_schema(conn: Connection) -> None:
    """Raise ``SchemaAheadError`` when a newer version migrated the database (Alembic would fail with a traceback)."""
    state = schema_state_of(conn)
    if state.ahead:
        raise SchemaAheadError(state)


def redis_unreachable(url: str) -> str | None:
    """Why Redis at ``url`` does not answer PING, or None."""
    from redis import Redis

    try:
        conn = Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=CONNECT_TIMEOUT_SECONDS)
    except ValueError as exc:
        return first_line(exc)
    try:
        conn.ping()
    except Exception as exc:  # noqa: BLE001
        return first_line(exc)
    finally:
        conn.close()
    return None


def redis_write_refused(url: str):
    """Why Redis at ``url`` refuses writes (an ``app.redis_refusal.Refusal``), or None (it takes them, or is gone since
    its PING: that is ``redis_unreachable``'s to say)."""
    from redis import Redis

    from app.redis_refusal import write_refused

    try:
        conn = Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=CONNECT_TIMEOUT_SECONDS)
    except ValueError:
        return None
    try:
        return write_refused(conn)
    except Exception:  # noqa: BLE001 - gone since its PING, or a refused SET of another kind: nothing to say here
        return None
    finally:
        conn.close()


def redis_eviction(url: str):
    """How Redis at ``url`` evicts keys once it is full (an ``app.redis_eviction.Eviction``), else None; a Redis that
    does not say, or cannot be asked (``INFO`` refused, gone since its PING), is taken at its word (None)."""
    from redis import Redis

    from app.redis_eviction import eviction

    try:
        conn = Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=CONNECT_TIMEOUT_SECONDS)
    except ValueError:
        return None
    try:
        return eviction(conn)
    except Exception:  # noqa: BLE001 - INFO refused or Redis gone since its PING: nothing to say
        return None
    finally:
        conn.close()


MOUNTS = Path("/proc/self/mounts")  # this host's mount table (Linux; elsewhere no filesystem is named)
# Filesystems served over the network: SQLite's locks and write-ahead log do not work on them (sqlite.org/wal.html)
NETWORK_FILESYSTEMS = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "9p", "ceph", "glusterfs",
                                 "lustre", "gpfs", "davfs", "fuse.sshfs", "fuse.glusterfs", "fuse.cephfs", "fuse.s3fs",
                                 "fuse.rclone", "fuse.gcsfuse"})


def network_filesystem(path: Path) -> str | None:
    """The type of the network filesystem ``path`` lies on (``nfs4``, ``cifs``, ...), or None (a local disk, or no
    mount table to read)."""
    try:
        table = MOUNTS.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    target = path.absolute().resolve()  # a folder not made yet lies on the filesystem of its nearest parent
    depth, kind = -1, ""
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = Path(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[1]))  # \040 is a space
        if (point == target or point in target.parents) and len(point.parts) >= depth:  # a later mount on top wins
            depth, kind = len(point.parts), fields[2]
    return kind if kind in NETWORK_FILESYSTEMS else None


def twilio_number_record(base_url: str, account_sid: str, auth_token: str,
                         number: str) -> dict[str, Any] | tuple[str, str]:
    """The number's IncomingPhoneNumber record (its webhooks: ``app.twilio_webhooks`` compares them), or
    ("credentials" | "number" | "unresolvable" | "unreachable", reason) when Twilio refuses the account or the
    number, or cannot be asked.

    Lists the account's incoming numbers filtered by ``number``: a 401 means the SID or
    token is wrong; an empty list means the number does not belong to this account. Plain
    ``urllib``: ``serve`` runs this before gunicorn forks, and ``requests`` would add ~5 MB
    to every web worker.
    """
    from urllib.parse import urlencode

    query = urlencode({"PhoneNumber": number, "PageSize": 1})
    answer = _twilio_get(base_url, account_sid, auth_token, f"IncomingPhoneNumbers.json?{query}")
    if isinstance(answer, tuple):
        return answer
    numbers = answer.get("incoming_phone_numbers", [])
    record = next((n for n in numbers if isinstance(n, dict) and n.get("phone_number") == number), None) \
        if isinstance(numbers, list) else None
    if record is None:
        return "number", f"{number} is not a phone number of account {account_sid}"
    return record


def twilio_application(base_url: str, account_sid: str, auth_token: str, sid: str) -> dict[str, Any] | str:
    """The TwiML App ``sid``'s record (its voice and SMS URLs), or why it could not be read."""
    if not sid.isalnum():  # a SID is two letters and 32 hex digits: never a path of its own
        return f"{sid[:40]!r} is not a Twilio SID"
    answer = _twilio_get(base_url, account_sid, auth_token, f"Applications/{sid}.json")
    return answer[1] if isinstance(answer, tuple) else answer


def _twilio_get(base_url: str, account_sid: str, auth_token: str, resource: str) -> dict[str, Any] | tuple[str, str]:
    """GET ``resource`` of the account: its JSON object, or ("credentials" | "unresolvable" | "unreachable", why)."""
    import base64
    import json
    import socket
    import urllib.error
    import urllib.request

    url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/{resource}"
    credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {credentials}",
                                                   "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=CONNECT_TIMEOUT_SECONDS) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, b""
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, socket.gaierror):  # the host name has no address (a typo, or no DNS)
            return "unresolvable", first_line(reason)
        return "unreachable", first_line(reason) if isinstance(reason, BaseException) else str(reason)
    except (OSError, ValueError) as exc:  # a time-out while reading, an unreadable URL
        return "unreachable", first_line(exc)
    if status in (401, 403):
        return "credentials", f"Twilio answered {status} to the account's credentials"
    if status != 200:
        return "unreachable", f"Twilio answered HTTP {status}"
    try:
        answer = json.loads(body)
    except ValueError:
        return "unreachable", "Twilio's answer was not JSON"
    return answer if isinstance(answer, dict) else ("unreachable", "Twilio's answer was not a JSON object")


def smtp_problem(settings: Settings) -> tuple[str, str] | None:
    """("unreachable" | "tls" | "login", reason) when the SMTP server cannot be used, else None.

    Opens the session ``send_mail`` opens (app/mail/smtp.py: connect, EHLO, STARTTLS or SSL as
    SMTP_TLS says, LOGIN when SMTP_USERNAME is set), then QUITs: no message is sent. A refusal
    that can pass (a 4xx reply, a time-out or a dropped connection during STARTTLS or LOGIN) is
    "unreachable", like a server that does not answer; a TLS failure or a 5xx reply is not.
    """
    from app.mail.smtp import SessionFailed, can_pass, open_session

    try:
        smtp = open_session(settings, timeout=CONNECT_TIMEOUT_SECONDS)
    except SessionFailed as exc:
        kind = "unreachable" if exc.step == "connect" or can_pass(exc.cause) else exc.step
        return kind, _smtp_reason(exc.cause, settings.smtp_password)
    except ValueError as exc:  # e.g. a host name IDNA cannot encode
        return "unreachable", first_line(exc)
    try:
        smtp.quit()
    except OSError:  # the session was fine; a server that drops the QUIT changes nothing
        smtp.close()
    return None


def _smtp_reason(exc: OSError, password: str) -> str:
    """One line: the server's reply (code and text) or the connection's error; never the password."""
    import smtplib

    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        lines = reply.strip().splitlines()
        reason = f"{type(exc).__name__}: the server answered {exc.smtp_code}" + (f" {lines[0].rstrip('.')}" if lines else "")
    else:
        reason = first_line(exc)
    return reason.replace(password, "***") if password else reason
