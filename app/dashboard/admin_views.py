"""Admin pages: dashboard users, their roles, passwords and whether they may log in."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from app.auth.access import current_user, password_fingerprint, requires
from app.models.user import Role
from app.services import users as user_service
from app.services.password_rules import MIN_PASSWORD_LENGTH
from app.services.users import InvalidUser, UnknownUser

bp = Blueprint("admin", __name__, template_folder="templates")


@bp.get("/admin/users")
@requires(Role.ADMIN)
def users() -> str:
    """Every user with their role and status, and a form per action."""
    hotline = current_app.extensions["hotline"]
    with hotline.db.session() as db:
        rows = user_service.list_users(db)
    return render_template("dashboard/users.html", users=rows, roles=list(Role), now=hotline.clock.now(),
                           min_password=MIN_PASSWORD_LENGTH)


@bp.get("/admin/users/new")
@requires(Role.ADMIN)
def new_user() -> str:
    """The form to add a user."""
    return _user_form({"role": Role.REP})


@bp.post("/admin/users")
@requires(Role.ADMIN)
def create_user() -> Response | tuple[str, int]:
    """Add a user; on a mistake show the form again with what was typed (never the password)."""
    hotline = current_app.extensions["hotline"]
    form = {key: request.form.get(key, "") for key in ("email", "name", "role", "rep_name")}
    try:
        with hotline.db.transaction() as db:
            user = user_service.create_user(db, form["email"], form["name"], request.form.get("password", ""),
                                            form["role"], hotline.clock.now(), rep_name=form["rep_name"] or None)
    except InvalidUser as exc:
        return _user_form(form, error=str(exc)), 400
    flash(f"Added {user.name} <{user.email}> as {user.role}.", "ok")
    if warning := user_service.unlinked_warning(user):
        flash(warning, "error")
    return redirect(url_for("admin.users"))


@bp.post("/admin/users/<int:user_id>/role")
@requires(Role.ADMIN)
def change_role(user_id: int) -> Response:
    """Give a user another role."""
    return _act(user_id, lambda db, actor: user_service.set_role(db, user_id, request.form.get("role", ""), actor),
                "{name} is now {role}.")


@bp.post("/admin/users/<int:user_id>/deactivate")
@requires(Role.ADMIN)
def deactivate_user(user_id: int) -> Response:
    """Stop a user from logging in; their open sessions end at once."""
    return _act(user_id, lambda db, actor: user_service.deactivate(db, user_id, actor), "{name} was deactivated.")


@bp.post("/admin/users/<int:user_id>/activate")
@requires(Role.ADMIN)
def activate_user(user_id: int) -> Response:
    """Let a deactivated user log in again."""
    return _act(user_id, lambda db, actor: user_service.activate(db, user_id, actor), "{name} may log in again.")


@bp.post("/admin/users/<int:user_id>/unlock")
@requires(Role.ADMIN)
def unlock_user(user_id: int) -> Response:
    """Lift a login lock on a user's account, for every address."""
    return _act(user_id, lambda db, actor: user_service.unlock(db, user_id, actor), "{name} may log in again.")


@bp.post("/admin/users/<int:user_id>/password")
@requires(Role.ADMIN)
def set_password(user_id: int) -> Response:
    """Set a user's password; every session they have open ends."""
    password = request.form.get("password", "")
    own = session.get("sid") if user_id == current_user().id else None  # an admin's own password: stay in
    return _act(user_id, lambda db, actor: user_service.reset_password(db, user_id, password, actor, own),
                "New password set for {name}; their other sessions have ended.")


def _act(user_id: int, change: Callable, done: str) -> Response:
    hotline = current_app.extensions["hotline"]
    actor = current_user()
    try:
        with hotline.db.transaction() as db:
            user = change(db, actor.id)
    except UnknownUser:
        abort(404)
    except InvalidUser as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.users"))
    if user.id == actor.id:
        session["pw"] = password_fingerprint(user)  # an admin's own new password keeps this session
    flash(done.format(name=user.name, role=user.role), "ok")
    return redirect(url_for("admin.users"))


def _user_form(form: dict, error: str | None = None) -> str:
    hotline = current_app.extensions["hotline"]
    with hotline.db.session() as db:
        reps = user_service.rep_names(db)
    return render_template("dashboard/user_form.html", form=form, error=error, roles=list(Role), reps=reps,
                           min_password=MIN_PASSWORD_LENGTH)
