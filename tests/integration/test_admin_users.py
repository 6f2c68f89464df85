"""Admins manage dashboard users: pages, the users service, and the first admin from the CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from app.cli import main
from app.models.user import Role, User
from app.oncall.records import parse_rep
from app.services.oncall_admin import create_rep
from app.services.users import (
    InvalidUser,
    LastAdmin,
    UserExists,
    WeakPassword,
    authenticate,
    create_user,
    hash_password,
    set_role,
    verify_password,
)
from tests.conftest import REDIS_URL
from tests.integration.dashboard_support import PASSWORD, login, login_as, make_user, post_form

NEW_USER = {"email": "Nina@Hotline.example", "name": "Nina Night", "role": "rep", "password": "a long enough password"}


def _user(hotline, email: str) -> User | None:
    with hotline.db.session() as session:
        return session.scalar(select(User).where(User.email == email))


def test_admin_lists_users(hotline, client):
    make_user(hotline, Role.REP, email="rita@hotline.example", name="Rita Rep")
    login_as(client, hotline, Role.ADMIN)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Rita Rep" in page and "rita@hotline.example" in page
    assert page.count('name="csrf_token"') >= 4  # every form carries the token (and logout)


def test_admin_creates_a_user_who_can_then_log_in(hotline, client, app):
    login_as(client, hotline, Role.ADMIN)
    assert 'name="password"' in client.get("/admin/users/new").get_data(as_text=True)
    response = post_form(client, "/admin/users", NEW_USER, follow_redirects=True)
    assert response.status_code == 200 and "Added Nina Night" in response.get_data(as_text=True)
    created = _user(hotline, "nina@hotline.example")
    assert created.role == Role.REP and created.active
    assert "a long enough password" not in created.password_hash
    login(app.test_client(), "nina@hotline.example", "a long enough password")


def test_a_user_can_be_linked_to_their_on_call_rep(hotline, client):
    with hotline.db.transaction() as session:
        rep = create_rep(session, parse_rep({"name": "Nina", "phone": "+4930901820"}))
    login_as(client, hotline, Role.ADMIN)
    assert "<option >Nina</option>" in client.get("/admin/users/new").get_data(as_text=True)
    added = post_form(client, "/admin/users", {**NEW_USER, "rep_name": "Nina"}, follow_redirects=True)
    assert _user(hotline, "nina@hotline.example").rep_id == rep.id
    assert "linked to no on-call rep" not in added.get_data(as_text=True)


def test_the_form_warns_that_a_reps_login_linked_to_no_rep_cannot_acknowledge(hotline, client):
    login_as(client, hotline, Role.ADMIN)
    added = post_form(client, "/admin/users", NEW_USER, follow_redirects=True).get_data(as_text=True)
    assert "Added Nina Night" in added
    assert "nina@hotline.example is linked to no on-call rep: this login cannot acknowledge" in added


@pytest.mark.parametrize(("change", "message"), [
    ({"password": "short"}, "at least 12 characters"),
    # the one rule (``password_rules``): until session 46 any 12 characters were taken
    ({"password": "nina@hotline.example"}, "must not contain the user&#39;s e-mail address"),
    ({"password": "night shift forever"}, "must not contain the user&#39;s name"),
    ({"password": "aaaaaaaaaaaa"}, "at least 5 different characters"),
    ({"password": "passwordpassword"}, "is a well-known one"),
    ({"email": "not-an-email"}, "e-mail must look like"),
    ({"role": "superuser"}, "role must be one of"),
    ({"name": ""}, "name must be"),
    ({"rep_name": "Nobody"}, "no on-call rep is named"),
])
def test_a_bad_new_user_is_refused_with_the_reason_and_nothing_stored(hotline, client, change, message):
    login_as(client, hotline, Role.ADMIN)
    response = post_form(client, "/admin/users", {**NEW_USER, **change})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and message in body
    assert "a long enough password" not in body  # the form comes back without the password
    assert _user(hotline, "nina@hotline.example") is None


def test_an_email_cannot_be_used_twice(hotline, client):
    make_user(hotline, Role.REP, email="nina@hotline.example")
    login_as(client, hotline, Role.ADMIN)
    response = post_form(client, "/admin/users", NEW_USER)
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)


def test_a_role_change_applies_on_the_users_next_request(hotline, client, app):
    manager = make_user(hotline, Role.MANAGER)
    their_client = app.test_client()
    login(their_client, manager.email)
    assert their_client.get("/admin/users").status_code == 403
    login_as(client, hotline, Role.ADMIN)
    response = post_form(client, f"/admin/users/{manager.id}/role", {"role": "admin"}, follow_redirects=True)
    assert "is now admin" in response.get_data(as_text=True)
    assert _user(hotline, manager.email).role == Role.ADMIN
    assert their_client.get("/admin/users").status_code == 200


def test_deactivate_and_reactivate(hotline, client, app):
    rep = make_user(hotline, Role.REP)
    login_as(client, hotline, Role.ADMIN)
    response = post_form(client, f"/admin/users/{rep.id}/deactivate", follow_redirects=True)
    assert "was deactivated" in response.get_data(as_text=True)
    assert not _user(hotline, rep.email).active
    assert login(app.test_client(), rep.email, expect_success=False).status_code == 401
    post_form(client, f"/admin/users/{rep.id}/activate")
    assert _user(hotline, rep.email).active
    login(app.test_client(), rep.email)


def test_admin_sets_a_password_and_the_users_sessions_end(hotline, client, app):
    rep = make_user(hotline, Role.ADMIN)
    their_client = app.test_client()
    login(their_client, rep.email)
    login_as(client, hotline, Role.ADMIN)
    assert post_form(client, f"/admin/users/{rep.id}/password", {"password": "short"}).status_code == 302
    assert verify_password(_user(hotline, rep.email).password_hash, PASSWORD)  # too short: unchanged
    post_form(client, f"/admin/users/{rep.id}/password", {"password": "the replacement secret"})
    assert their_client.get("/admin/users").status_code == 302
    assert login(app.test_client(), rep.email, expect_success=False).status_code == 401
    login(app.test_client(), rep.email, "the replacement secret")


@pytest.mark.parametrize(("password", "rule"), [
    ("bob@probe.example", "must not contain the user&#39;s e-mail address"),
    ("aaaaaaaaaaaa", "at least 5 different characters"),
    ("passwordpassword", "is a well-known one"),
])
def test_admin_setting_a_weak_password_is_told_the_rule_and_nothing_changes(hotline, client, password, rule):
    # an outside probe's admin set each of these for Bob: "New password set for Bob"
    bob = make_user(hotline, Role.REP, email="bob@probe.example", name="Bob")
    login_as(client, hotline, Role.ADMIN)
    answer = post_form(client, f"/admin/users/{bob.id}/password", {"password": password}, follow_redirects=True)
    assert rule in answer.get_data(as_text=True) and "New password set" not in answer.get_data(as_text=True)
    assert verify_password(_user(hotline, bob.email).password_hash, PASSWORD)


def test_an_admin_changing_their_own_password_stays_logged_in(hotline, client):
    admin = login_as(client, hotline, Role.ADMIN)
    post_form(client, f"/admin/users/{admin.id}/password", {"password": "my own new secret"})
    assert client.get("/admin/users").status_code == 200


def test_the_last_admin_cannot_demote_or_deactivate_themselves(hotline, client):
    admin = login_as(client, hotline, Role.ADMIN)
    demoted = post_form(client, f"/admin/users/{admin.id}/role", {"role": "rep"}, follow_redirects=True)
    assert "last active admin" in demoted.get_data(as_text=True)
    post_form(client, f"/admin/users/{admin.id}/deactivate")
    row = _user(hotline, admin.email)
    assert row.role == Role.ADMIN and row.active
    assert client.get("/admin/users").status_code == 200


def test_an_unknown_user_id_is_a_404(hotline, client):
    login_as(client, hotline, Role.ADMIN)
    assert post_form(client, "/admin/users/9999/deactivate").status_code == 404


def test_the_users_service_names_its_errors(hotline, clock):
    with hotline.db.transaction() as session:
        create_user(session, "Ann@Hotline.example", "Ann", PASSWORD, Role.MANAGER, clock.now())
    with hotline.db.transaction() as session:
        with pytest.raises(UserExists):
            create_user(session, "ann@hotline.example", "Ann again", PASSWORD, "rep", clock.now())
        with pytest.raises(WeakPassword, match="at least 12"):
            create_user(session, "bo@hotline.example", "Bo", "elevenchars", "rep", clock.now())
        with pytest.raises(InvalidUser):
            create_user(session, "bo@hotline.example", "Bo", PASSWORD, "boss", clock.now())
        with pytest.raises(LastAdmin):
            only_admin = create_user(session, "cy@hotline.example", "Cy", PASSWORD, "admin", clock.now())
            set_role(session, only_admin.id, Role.REP)
    with hotline.db.transaction() as session:
        assert authenticate(session, "ANN@hotline.example", PASSWORD, clock.now(), "192.0.2.1").name == "Ann"


def test_password_hashes_are_salted_and_verify():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and PASSWORD not in first
    assert first.startswith(("scrypt:", "pbkdf2:"))
    assert verify_password(first, PASSWORD) and not verify_password(first, PASSWORD + "!")
    with pytest.raises(WeakPassword):
        hash_password("x" * 11)


@pytest.fixture
def cli(tmp_path):
    """Runs `hotline` against a fresh SQLite file (each command migrates it first)."""
    db_path = tmp_path / "cli.db"
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{db_path}",
           "REDIS_URL": REDIS_URL, "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""}

    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(main, list(args), env=env, input=input)

    invoke.db_url = f"sqlite:///{db_path}"
    return invoke


def _cli_users(db_url: str) -> list[tuple[str, str, bool]]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(User.email, User.role, User.active)).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_cli_creates_the_first_admin_from_a_hidden_prompt(cli):
    result = cli("users", "create", "--email", "Boss@Hotline.example", "--name", "The Boss", "--role", "admin",
                 input="first admin secret\nfirst admin secret\n")
    assert result.exit_code == 0, result.output
    assert "created admin boss@hotline.example" in result.output
    assert "first admin secret" not in result.output  # hidden input is not echoed
    assert _cli_users(cli.db_url) == [("boss@hotline.example", "admin", True)]


def test_cli_reads_the_password_from_stdin(cli):
    result = cli("users", "create", "--email", "ops@hotline.example", "--name", "Ops", "--role", "manager",
                 "--password-stdin", input="piped in secret\n")
    assert result.exit_code == 0, result.output
    assert _cli_users(cli.db_url) == [("ops@hotline.example", "manager", True)]


def test_cli_warns_that_a_reps_login_linked_to_no_rep_cannot_acknowledge(cli):
    # an outside probe created one with nothing said, then acknowledged with it (now refused: nobody to call back)
    rep = cli("users", "create", "--email", "nolink@example.com", "--name", "Nolink", "--role", "rep",
              "--password-stdin", input="x-pass-12345678\n")
    assert rep.exit_code == 0 and "created rep nolink@example.com" in rep.stdout
    assert rep.stderr.startswith("warning: nolink@example.com is linked to no on-call rep: this login cannot "
                                 "acknowledge") and "--rep NAME" in rep.stderr
    manager = cli("users", "create", "--email", "ops@hotline.example", "--name", "Ops", "--role", "manager",
                  "--password-stdin", input="piped in secret\n")
    assert manager.exit_code == 0 and manager.stderr == ""  # a manager's or an admin's login often has no rep


def test_cli_errors_are_clear_and_change_nothing(cli):
    weak = cli("users", "create", "--email", "a@hotline.example", "--name", "A", "--role", "admin",
               "--password-stdin", input="short\n")
    assert weak.exit_code == 1 and "Error: password must be at least 12 characters" in weak.output
    own = cli("users", "create", "--email", "a@hotline.example", "--name", "Anna Admin", "--role", "admin",
              "--password-stdin", input="Anna Admin 2024\n")
    assert own.exit_code == 1 and "Error: password must not contain the user's name" in own.output
    known = cli("users", "create", "--email", "a@hotline.example", "--name", "A", "--role", "admin",
                "--password-stdin", input="password1234!\n")
    assert known.exit_code == 1 and "Error: password is a well-known one" in known.output
    mismatch = cli("users", "create", "--email", "a@hotline.example", "--name", "A", "--role", "admin",
                   input="first admin secret\nsomething else entirely\n")
    assert mismatch.exit_code != 0 and "do not match" in mismatch.output.lower()
    # a bad e-mail is said before the password is asked for (a probe typed it twice, then was told)
    bad = cli("users", "create", "--email", "not-an-email", "--name", "X", "--role", "admin",
              input="first admin secret\nfirst admin secret\n")
    assert bad.exit_code == 1 and "Password" not in bad.output
    assert "Error: e-mail must look like name@example.com" in bad.output
    assert _cli_users(cli.db_url) == []
    args = ("users", "create", "--email", "a@hotline.example", "--name", "A", "--role", "admin", "--password-stdin")
    assert cli(*args, input="first admin secret\n").exit_code == 0
    again = cli(*args, input="first admin secret\n")
    assert again.exit_code == 1 and "already exists" in again.output
