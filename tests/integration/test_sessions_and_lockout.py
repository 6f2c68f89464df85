"""Sessions end on the server (issue 9, row 6); lockout is per account and address (row 7)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models.user import LoginAttempt, Role, User, UserSession
from app.services.login_limits import client_network
from app.services.users import reset_password
from tests.integration.dashboard_support import PASSWORD, csrf_token_of, login, make_user, post_form

WRONG = "wrong password 123"


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str):
    """A fresh browser presenting a copied session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def _sessions(hotline, user_id: int) -> int:
    with hotline.db.session() as db:
        return db.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user_id))


def _attempt(client, email: str, password: str, remote_addr: str):
    return client.post("/login", data={"csrf_token": csrf_token_of(client), "email": email, "password": password},
                       environ_base={"REMOTE_ADDR": remote_addr})


def test_a_copied_cookie_stops_working_after_logout(hotline, app, client):
    user = make_user(hotline, Role.ADMIN)
    login(client, user.email)
    stolen = _cookie(client)
    assert _replay(app, stolen).get("/admin/users").status_code == 200
    post_form(client, "/logout")
    assert _replay(app, stolen).get("/admin/users").status_code == 302  # sent to log in
    assert _sessions(hotline, user.id) == 0


def test_a_password_change_ends_every_other_session_on_the_server(hotline, app):
    admin = make_user(hotline, Role.ADMIN)
    mine, other = app.test_client(), app.test_client()
    login(mine, admin.email)
    login(other, admin.email)
    assert _sessions(hotline, admin.id) == 2
    changed = post_form(mine, f"/admin/users/{admin.id}/password", {"password": "another long passphrase"})
    assert changed.status_code == 302
    assert mine.get("/admin/users").status_code == 200  # the admin who changed it stays in
    assert other.get("/admin/users").status_code == 302
    assert _sessions(hotline, admin.id) == 1
    with hotline.db.transaction() as db:  # an admin resetting it for them ends the last one too
        reset_password(db, admin.id, "a third long passphrase")
    assert _sessions(hotline, admin.id) == 0 and mine.get("/admin/users").status_code == 302


def test_the_session_cookie_carries_nothing_of_the_password_hash(hotline, app, client):
    """The cookie is signed, not encrypted: whoever decodes it must not find a piece of the password hash."""
    user = make_user(hotline, Role.ADMIN)
    login(client, user.email)
    with hotline.db.session() as db:
        password_hash = db.get(User, user.id).password_hash
    payload = app.session_interface.get_signing_serializer(app).loads(_cookie(client))
    assert payload["user_id"] == user.id and payload["pw"]
    decoded = repr(payload)
    assert not any(password_hash[i:i + 8] in decoded for i in range(len(password_hash) - 7))


def test_a_session_expires_on_the_server_after_twelve_hours(hotline, app, client, clock):
    user = make_user(hotline, Role.REP)
    login(client, user.email)
    clock.advance(hours=12, seconds=1)
    assert client.get("/board").status_code == 302


def test_failing_from_many_addresses_does_not_keep_the_real_user_out(hotline, client):
    admin = make_user(hotline, Role.ADMIN)
    for n in range(5):
        assert _attempt(client, admin.email, WRONG, f"203.0.113.{n}").status_code == 401
    # The account is now locked for the addresses that failed, even with the right password ...
    assert _attempt(client, admin.email, PASSWORD, "203.0.113.0").status_code == 429
    # ... and a fresh address gets one guess, then is locked too.
    assert _attempt(client, admin.email, WRONG, "203.0.113.77").status_code == 401
    assert _attempt(client, admin.email, PASSWORD, "203.0.113.77").status_code == 429
    # The real admin, from an address that has not failed, logs in, which lifts the lock.
    assert _attempt(client, admin.email, PASSWORD, "198.51.100.7").status_code == 302
    with hotline.db.session() as db:
        assert db.get(User, admin.id).locked_until is None


def test_five_failures_from_one_address_lock_the_account_for_that_address_only(hotline, app, client, clock):
    admin, rep = make_user(hotline, Role.ADMIN), make_user(hotline, Role.REP)
    for _ in range(5):
        assert _attempt(client, rep.email, WRONG, "203.0.113.9").status_code == 401
    assert _attempt(client, rep.email, PASSWORD, "203.0.113.9").status_code == 429
    elsewhere = app.test_client()
    assert _attempt(elsewhere, rep.email, PASSWORD, "198.51.100.7").status_code == 302
    # the attacker's address stays locked for this account until an admin lifts it (or 15 minutes pass)
    assert _attempt(client, rep.email, PASSWORD, "203.0.113.9").status_code == 429
    admin_browser = app.test_client()
    login(admin_browser, admin.email)
    assert b"Unlock" not in admin_browser.get("/admin/users").data  # the account itself is not locked now
    for _ in range(5):
        _attempt(app.test_client(), rep.email, WRONG, "192.0.2.1")
    assert b"Unlock" in admin_browser.get("/admin/users").data
    assert post_form(admin_browser, f"/admin/users/{rep.id}/unlock").status_code == 302
    assert _attempt(client, rep.email, PASSWORD, "203.0.113.9").status_code == 302
    with hotline.db.session() as db:
        assert db.get(User, rep.id).locked_until is None
        assert db.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.email == rep.email)) == 0


def test_the_per_address_limit_still_holds_across_accounts(hotline, client):
    user = make_user(hotline, Role.REP)
    for n in range(20):
        assert _attempt(client, f"guess{n}@hotline.example", WRONG, "203.0.113.50").status_code == 401
    assert _attempt(client, user.email, PASSWORD, "203.0.113.50").status_code == 429


# ---------------------------------------------------------------- networks and the account-wide ceiling


@pytest.mark.parametrize(("remote_addr", "key"), [
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("fe80::1%eth0", "fe80::/64"),
    ("::ffff:203.0.113.9", "203.0.113.9"),  # an IPv4 client on a dual-stack socket
    ("203.0.113.9", "203.0.113.9"),  # IPv4 stays per address
    ("", "unknown"),
])
def test_failures_count_per_ipv4_address_or_ipv6_64(remote_addr, key):
    assert client_network(remote_addr) == key


def test_addresses_of_one_ipv6_64_are_one_client(hotline, app, client):
    admin = make_user(hotline, Role.ADMIN)
    for n in range(5):
        assert _attempt(client, admin.email, WRONG, f"2001:db8:1:2::{n:x}").status_code == 401
    # A sixth address of the same /64 is the same client: locked for this account, even the right password.
    assert _attempt(client, admin.email, PASSWORD, "2001:db8:1:2::ffff").status_code == 429
    # Another /64 is another client and logs in.
    assert _attempt(app.test_client(), admin.email, PASSWORD, "2001:db8:1:3::1").status_code == 302
    with hotline.db.session() as db:
        assert set(db.scalars(select(LoginAttempt.remote_addr))) == {"2001:db8:1:2::/64"}


def test_twenty_addresses_of_one_ipv6_64_share_one_per_address_limit(hotline, client):
    user = make_user(hotline, Role.REP)
    for n in range(20):
        assert _attempt(client, f"guess{n}@hotline.example", WRONG, f"2001:db8:9:9::{n + 1:x}").status_code == 401
    assert _attempt(client, user.email, PASSWORD, "2001:db8:9:9::abcd").status_code == 429


def _spray(client, clock, email: str, count: int = 20) -> list[int]:
    """``count`` wrong passwords for ``email``, each from a /64 of its own, thirty seconds apart."""
    codes = []
    for n in range(count):
        codes.append(_attempt(client, email, WRONG, f"2001:db8:{n + 1:x}::1").status_code)
        clock.advance(seconds=30)
    return codes


def test_twenty_failures_from_anywhere_refuse_every_password_until_the_hour_passes(hotline, app, client, clock,
                                                                                    caplog):
    rep = make_user(hotline, Role.REP)
    caplog.set_level(logging.WARNING, logger="app.security")
    assert _spray(client, clock, rep.email) == [401] * 20  # each new network gets its guess ...
    # ... but then the account takes no password from anywhere, not even the right one from a fresh address.
    refused = _attempt(app.test_client(), rep.email, PASSWORD, "198.51.100.7")
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "no password is accepted for it, not even the right one, for 50 minutes" in page
    assert 49 * 60 < int(refused.headers["Retry-After"]) <= 50 * 60 + 1
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert f"user {rep.id} refuses every password until" in logged and "from 20 networks" in logged
    assert rep.email not in logged
    with hotline.db.session() as db:
        assert db.get(User, rep.id).locked_until == clock.now() + timedelta(minutes=50)  # the admins see it
        assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 20  # refusals are not failures
    clock.advance(minutes=49)
    assert _attempt(app.test_client(), rep.email, PASSWORD, "198.51.100.8").status_code == 429
    clock.advance(minutes=1)  # the first failure is an hour old: the ceiling lifts
    assert _attempt(app.test_client(), rep.email, PASSWORD, "198.51.100.9").status_code == 302


def test_an_admin_unlock_lifts_the_ceiling(hotline, app, client, clock):
    admin, rep = make_user(hotline, Role.ADMIN), make_user(hotline, Role.REP)
    admin_browser = app.test_client()
    login(admin_browser, admin.email)
    _spray(client, clock, rep.email)
    clock.advance(minutes=20)  # the last five-failure lock is over; the ceiling is not
    assert _attempt(app.test_client(), rep.email, PASSWORD, "198.51.100.7").status_code == 429
    assert b"Unlock" in admin_browser.get("/admin/users").data
    assert post_form(admin_browser, f"/admin/users/{rep.id}/unlock").status_code == 302
    assert _attempt(app.test_client(), rep.email, PASSWORD, "198.51.100.7").status_code == 302


def test_the_ceiling_answers_an_unknown_email_in_the_same_words(hotline, app, client, clock):
    rep = make_user(hotline, Role.REP)
    _spray(client, clock, rep.email)
    assert _spray(client, clock, "ghost@hotline.example") == [401] * 20
    known = _attempt(app.test_client(), rep.email, WRONG, "198.51.100.7")
    unknown = _attempt(app.test_client(), "ghost@hotline.example", WRONG, "198.51.100.7")
    assert known.status_code == unknown.status_code == 429
    said = [re.sub(r"\d+", "N", re.search(r"Too many failed logins[^<]*", r.get_data(as_text=True)).group())
            for r in (known, unknown)]
    assert said == ["Too many failed logins for this e-mail address: no password is accepted for it, not even the "
                    "right one, for N minutes. If you need to log in sooner, ask an admin."] * 2


def test_a_password_reset_by_an_admin_lifts_the_ceiling_too(hotline, app, client, clock):
    rep = make_user(hotline, Role.REP)
    _spray(client, clock, rep.email)
    assert _attempt(app.test_client(), rep.email, PASSWORD, "198.51.100.7").status_code == 429
    with hotline.db.transaction() as db:
        reset_password(db, rep.id, "a brand new passphrase")
    assert _attempt(app.test_client(), rep.email, "a brand new passphrase", "198.51.100.7").status_code == 302
