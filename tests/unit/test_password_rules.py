"""The one password rule (``password_rules.weakness``) the CLI and the dashboard's admin forms use: an outside probe
set ``bob@probe.example``, ``aaaaaaaaaaaa`` and ``passwordpassword`` as a dashboard password (any 12 characters were
taken)."""

from __future__ import annotations

import pytest

from app.services.password_rules import MIN_DISTINCT, common_passwords, weakness

BOB = ("bob@probe.example", "Bob Builder")


@pytest.mark.parametrize(("password", "rule"), [
    ("short", "at least 12 characters"),
    ("x" * 1025, "at most 1024 characters"),
    ("aaaaaaaaaaaa", f"at least {MIN_DISTINCT} different characters"),
    ("abababababab", f"at least {MIN_DISTINCT} different characters"),
    ("bob@probe.example", "e-mail address"),
    ("BOB@PROBE.EXAMPLE!", "e-mail address"),
    ("builder of the year", "the user's name"),
    ("Bob Builder 2024", "the user's name"),
    ("passwordpassword", "well-known"),
    ("password1234!", "well-known"),
    ("2024!qwertyuiop", "well-known"),
    ("123456789012", "well-known"),  # "1234567890" with digits added
    ("iloveyouiloveyou", "well-known"),
])
def test_a_weak_password_is_refused_naming_the_rule(password, rule):
    assert rule in weakness(password, *BOB)


@pytest.mark.parametrize("password", [
    "correct horse battery",
    "the replacement secret",
    "bob's 3 green kayaks",  # "bob" is too short a part to refuse on its own ("rep", "Al")
    "password manager in the attic",  # a common word among others is no common password
    "x-pass-12345678",
])
def test_a_decent_password_is_taken(password):
    assert weakness(password, *BOB) == ""


def test_the_shipped_list_is_short_and_lower_case():
    known = common_passwords()
    assert 150 <= len(known) <= 250 and all(p == p.lower().strip() and p for p in known)
    assert "password" in known and not any(p.startswith("#") for p in known)
