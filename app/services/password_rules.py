"""What a dashboard password must be (NIST SP 800-63B 5.1.1.2): long enough, and none a guesser tries first.

Refused: fewer than ``MIN_PASSWORD_LENGTH`` characters; the account's e-mail address, its part before the @ or the
user's name (or a word of it) inside the password; fewer than ``MIN_DISTINCT`` different characters
(``aaaaaaaaaaaa``); a well-known password (``common_passwords.txt``), also repeated or with only digits and symbols
around it (``passwordpassword``, ``password1234!``). Until session 46 any 12 characters were taken: an outside
probe set ``bob@probe.example``, ``aaaaaaaaaaaa`` and ``passwordpassword`` for an account of the hotline's dashboard.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # hashing a megabyte per guess would be a cheap denial of service
MIN_DISTINCT = 5
OWN_WORD_MIN = 4  # shorter parts of a name or an address ("Al", "rep") are in too many good passwords
_AROUND = "0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


@cache
def common_passwords() -> frozenset[str]:
    """The well-known passwords shipped with the app, lower case."""
    lines = resources.files("app.services").joinpath("common_passwords.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def weakness(password: str, email: str = "", name: str = "") -> str:
    """Why ``password`` is refused for the user of ``email`` and ``name`` ("" when it is not), naming the rule."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must be at most {MAX_PASSWORD_LENGTH} characters long"
    if len(set(password)) < MIN_DISTINCT:
        return f"password must have at least {MIN_DISTINCT} different characters"
    plain = _letters_and_digits(password)
    local = email.strip().lower().partition("@")[0]
    if email.strip() and (email.strip().lower() in password.lower() or _inside(local, plain)):
        return "password must not contain the user's e-mail address or its part before the @"
    if _inside(name, plain) or any(_inside(word, plain) for word in re.split(r"[\W_]+", name or "")):
        return "password must not contain the user's name"
    if _common(password.lower()):
        return ("password is a well-known one (or one repeated, or with only digits or symbols added): choose "
                "another, such as a few unrelated words")
    return ""


def _letters_and_digits(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _inside(part: str, plain_password: str) -> bool:
    part = _letters_and_digits(part)
    return len(part) >= OWN_WORD_MIN and part in plain_password


def _common(lower: str) -> bool:
    """A well-known password, repeated ("passwordpassword") or with only digits and symbols around it."""
    known = common_passwords()
    if _unit(lower.strip(_AROUND) or lower) in known:
        return True
    return any(_only_around(lower, word) for word in known)


def _only_around(lower: str, word: str) -> bool:
    at = lower.find(word)
    return at >= 0 and not (lower[:at] + lower[at + len(word):]).strip(_AROUND)


def _unit(text: str) -> str:
    """The shortest piece ``text`` repeats ("password" of "passwordpassword"; ``text`` itself when none)."""
    found = re.fullmatch(r"(.+?)\1+", text)
    return found.group(1) if found else text
