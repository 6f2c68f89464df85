"""The names the hotline reads its settings from, and a warning for a name it is given but never reads.

A misspelt name (``SMTP_HOTS``, ``CALLBACK_SLA_MINUTE``) was accepted in silence: the setting kept its
default, every e-mail was skipped and the deadline stayed 15 minutes, while ``hotline check`` reported nothing.
Every key of the hotline's ``.env`` that no setting reads is now a warning naming the closest setting; so is a
variable of the environment with one of the hotline's own prefixes (``OWN_PREFIXES``), except the names other
programs set there (``SET_BY_OTHERS``): the environment is shared, the ``.env`` file is the hotline's alone.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from functools import cache

from app.config_report import CheckReport

# Prefixes distinctive enough that a variable with one is meant for the hotline (a typo of a setting): REDIS_,
# DATABASE_ or MAX_ are not (another program's, or a Kubernetes service's, REDIS_PORT).
OWN_PREFIXES = ("HOTLINE_", "TWILIO_", "SMTP_", "HELPDESK_", "CALLBACK_", "LIVE_")
# Read by the dev package (hotline_sim, for the tests and the demo), not by the app: .env.example lists it.
DEV_NAMES = frozenset({"TWILIO_OPENAPI_SPEC"})
# What the runtime and the libraries under the hotline read from the environment (a .env's keys are put there):
# libpq's PG* (PGGSSENCMODE, PGSSLMODE, ...), glibc's MALLOC_*, the interpreter's PYTHON* (serve and worker restart
# with it), locale and time zone, OpenSSL's certificates and urllib's proxies (the Twilio client's HTTPS_PROXY).
LIBRARY_PREFIXES = ("PG", "MALLOC_", "PYTHON", "LC_")
LIBRARY_NAMES = frozenset({"TZ", "LANG", "LANGUAGE", "SSL_CERT_FILE", "SSL_CERT_DIR"})
# The test suite's own switches (HOTLINE_TEST_REQUIRE_SERVICES, ...), wherever they are set.
TEST_PREFIX = "HOTLINE_TEST_"
# Set in the environment by others, never the hotline's: what Twilio's CLI and SDKs read on the same host (the
# hotline's own REST client, app/telephony/twilio_rest.py, reads none of them), and what Kubernetes sets for a
# service named hotline or twilio (HOTLINE_SERVICE_HOST, HOTLINE_PORT_8000_TCP, ...).
SET_BY_OTHERS = re.compile(r"TWILIO_(API_KEY|API_SECRET|REGION|EDGE)"
                           r"|\w+_(SERVICE_HOST|SERVICE_PORT\w*|PORT(_\d+_(TCP|UDP|SCTP)\w*)?)")


class _Asked(dict):
    """An empty environment that records each name it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def get(self, key, default=None):
        """``default``, as from an empty environment, after noting ``key`` as a name the caller reads."""
        self.names.add(key)
        return default


@cache
def setting_names() -> frozenset[str]:
    """Every variable the hotline reads a setting from, found by asking the readers themselves what they read
    (``Settings.from_env`` and the worker's and start-up's own), so that no second list can fall behind them."""
    from app.docstring_free import keep_docstrings
    from app.settings import Settings
    from workers.page_threads import thread_count
    from workers.watchdog import interval_seconds

    asked = _Asked()
    for read in (Settings.from_env, interval_seconds, thread_count, keep_docstrings):
        read(asked)
    return frozenset(asked.names)


def _read_by_libraries(name: str) -> bool:
    return name.startswith(LIBRARY_PREFIXES) or name in LIBRARY_NAMES or name.lower().endswith("_proxy")


def _closest(name: str) -> str | None:
    """The setting ``name`` most likely misspells (case aside), if any is close."""
    found = difflib.get_close_matches(name.upper(), sorted(setting_names() | DEV_NAMES), n=1, cutoff=0.75)
    return found[0] if found else None


def unknown_names(env: Mapping[str, str], file_keys: Iterable[str]) -> tuple[list[str], list[str]]:
    """The keys of the ``.env`` file, then the other variables of ``env`` with one of ``OWN_PREFIXES``, that no
    setting reads (each in the order given)."""
    known = setting_names() | DEV_NAMES
    file_keys = list(dict.fromkeys(file_keys))
    in_file = [key for key in file_keys
               if key not in known and not key.startswith(TEST_PREFIX) and not _read_by_libraries(key)]
    in_env = [name for name in env if name.startswith(OWN_PREFIXES) and name not in known and name not in file_keys
              and not name.startswith(TEST_PREFIX) and not SET_BY_OTHERS.fullmatch(name)]
    return in_file, in_env


def unknown_name_problems(env: Mapping[str, str], env_file: str | None, file_keys: Iterable[str],
                          report: CheckReport) -> None:
    """A warning for each name the hotline is given but never reads, naming the closest setting."""
    in_file, in_env = unknown_names(env, file_keys)
    for name, where in [(key, f"this line of {env_file}") for key in in_file] + \
                       [(name, "this variable of the environment") for name in in_env]:
        close = _closest(name)
        guess = f" (did you mean {close}?)" if close else ""
        report.warn(name, f"not a setting the hotline reads{guess}: {where} changes nothing.",
                    f"rename it {close}, or remove it" if close else
                    "remove it (.env.example lists every setting, README *Configuration* too)")
