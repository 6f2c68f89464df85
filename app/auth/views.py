"""Login, logout, the dashboard's front door, and its 400/403 pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.auth.access import current_user, password_fingerprint
from app.input_guard import NulRefused
from app.services.user_sessions import end_session, start_session
from app.services.users import LoginThrottled, authenticate

bp = Blueprint("auth", __name__, template_folder="../dashboard/templates")

HOME = "/board"
LOGIN_FAILED = "That e-mail and password do not match an active account."
# The blueprints whose errors get HTML pages; the API and Twilio webhooks answer their own way.
def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the board (no open redirects)."""
    target = target or ""
    if (
        not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or "\\" in target
        or any(not ch.isprintable() or ch.isspace() for ch in target)
    ):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return HOME
    return target


@bp.get("/")
def home() -> Response:
    """The board for a logged-in user, else the login page."""
    return redirect(HOME if current_user() else url_for("auth.login"))


@bp.get("/login")
def login() -> Response | str:
    """The login form (or straight on, when already logged in)."""
    target = safe_next(request.args.get("next"))
    if current_user() is not None:
        return redirect(target)
    return render_template("dashboard/login.html", next=target, email="", error=None)


@bp.post("/login")
def login_submit() -> Response | tuple[str, int, dict]:
    """Check the e-mail and password; on success start a fresh session."""
    hotline = current_app.extensions["hotline"]
    email = request.form.get("email", "")
    target = safe_next(request.form.get("next") or request.args.get("next"))
    try:
        with hotline.db.transaction() as db:
            user = authenticate(db, email, request.form.get("password", ""), hotline.clock.now(),
                                request.remote_addr or "")
            session_id = start_session(db, user.id, hotline.clock.now()) if user is not None else None
    except LoginThrottled as exc:
        page = render_template("dashboard/login.html", next=target, email=email, error=str(exc))
        return page, 429, {"Retry-After": str(int(exc.retry_after.total_seconds()) + 1)}
    if user is None:
        return render_template("dashboard/login.html", next=target, email=email, error=LOGIN_FAILED), 401, {}
    session.clear()  # a new session (and CSRF token) on login: no fixation
    session["user_id"] = user.id
    session["pw"] = password_fingerprint(user)
    session["sid"] = session_id
    session.permanent = True
    return redirect(target)


@bp.post("/logout")
def logout() -> Response:
    """End the session on the server and in the cookie (the CSRF check runs before this view)."""
    hotline = current_app.extensions["hotline"]
    with hotline.db.transaction() as db:
        end_session(db, session.get("sid"))
    session.clear()
    return redirect(url_for("auth.login"))


# Registered for HTTPException, not Forbidden/BadRequest: Flask matches the most specific class
# first, so an app-wide BadRequest handler would shadow the API blueprint's HTTPException one.
@bp.app_errorhandler(HTTPException)
def dashboard_error(exc: HTTPException) -> tuple[str, int] | HTTPException:
    """Plain 400 and 403 pages on dashboard routes; every other error is handled as before."""
    if request.blueprint not in current_app.extensions["dashboard_blueprints"] or exc.code not in (400, 403):
        return exc
    if exc.code == 403:  # names nothing the user may not see
        return render_template("dashboard/forbidden.html", heading="Not allowed",
                               message="Your role does not include this page. Ask an admin if you need it."), 403
    if request.endpoint == "auth.login_submit":  # a login form left open too long: offer a fresh one
        error = exc.description if isinstance(exc, NulRefused) else "The login form expired. Please log in again."
        return render_template("dashboard/login.html", next=safe_next(request.form.get("next")), email="",
                               error=error), 400
    return render_template("dashboard/forbidden.html", heading="Form not accepted",
                           message=exc.description or "The request was not understood."), 400
