"""Who is on call: schedules, the next two weeks, overrides and the escalation policy; admins edit them."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth import Role, current_user, requires
from app.dashboard.display import HELPERS
from app.dashboard.oncall_forms import levels_yaml, override_input, policy_levels
from app.dashboard.queries import default_policy_name, oncall_overview
from app.oncall.errors import OnCallConfigError
from app.services.oncall import find_schedule
from app.services.oncall_admin import add_override, delete_override, save_policy
from app.services.oncall_coverage import override_warnings, policy_warnings

bp = Blueprint("oncall", __name__, template_folder="templates")
DAYS = 14


@bp.get("/oncall")
@requires(Role.REP)
def show() -> str:
    """The on-call page (with edit forms for admins)."""
    return _page()


@bp.post("/oncall/overrides")
@requires(Role.ADMIN)
def add_override_view() -> Response | tuple[str, int]:
    """Add an override; a bad field re-shows the form with the error and changes nothing."""
    hotline = current_app.extensions["hotline"]
    now = hotline.clock.now()
    name = request.form.get("schedule", "")
    try:
        with hotline.db.transaction() as session:
            schedule = find_schedule(session, name)
            if schedule is None:
                raise OnCallConfigError("schedule", f"unknown schedule {name!r}")
            override, added = add_override(session, schedule, override_input(request.form, schedule.time_zone), now)
            rep_name = override.rep.name
            warnings = override_warnings(session, override, now)
    except OnCallConfigError as exc:
        return _page(errors={"override": exc}, status=422)
    flash(f"Override added: {rep_name} on {name}." if added else f"{rep_name} already had that override on {name}.",
          "message")
    for line in warnings:
        flash(f"Note: {line}.", "message")
    return redirect(url_for("oncall.show", _anchor=f"schedule-{name}"))


@bp.post("/oncall/overrides/<int:override_id>/delete")
@requires(Role.ADMIN)
def delete_override_view(override_id: int) -> Response:
    """Delete an override."""
    hotline = current_app.extensions["hotline"]
    with hotline.db.transaction() as session:
        deleted = delete_override(session, override_id)
    flash("Override deleted." if deleted else "That override was already gone. Nothing was changed.",
          "message" if deleted else "error")
    return redirect(url_for("oncall.show"))


@bp.post("/oncall/policy")
@requires(Role.ADMIN)
def save_policy_view() -> Response | tuple[str, int]:
    """Replace the default escalation policy's levels from YAML or JSON."""
    hotline = current_app.extensions["hotline"]
    text = request.form.get("levels", "")
    try:
        with hotline.db.transaction() as session:
            name = default_policy_name(session)
            policy, _ = save_policy(session, name, policy_levels(text), is_default=True)
            warnings = policy_warnings(session, policy.levels, hotline.settings.callback_sla_minutes)
    except OnCallConfigError as exc:
        return _page(errors={"policy": exc}, policy_text=text, status=422)
    flash(f"Escalation policy {name!r} saved.", "message")
    for line in warnings:
        flash(f"Note: {line}.", "message")
    return redirect(url_for("oncall.show", _anchor="policy"))


@bp.post("/oncall/yaml")
@requires(Role.ADMIN)
def import_yaml_view() -> Response | tuple[str, int]:
    """Apply a whole on-call YAML document (pasted or uploaded) in one transaction."""
    hotline = current_app.extensions["hotline"]
    upload = request.files.get("file")
    text = request.form.get("yaml", "")
    try:
        if upload is not None and upload.filename:
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise OnCallConfigError("", "the uploaded file is not UTF-8 text") from None
        with hotline.db.transaction() as session:
            from app.services.oncall_yaml import import_yaml  # PyYAML only when an admin imports a document

            summary = import_yaml(session, text, hotline.clock.now(), hotline.settings.callback_sla_minutes,
                                      hotline.settings.twilio_number)
    except OnCallConfigError as exc:
        return _page(errors={"yaml": exc}, yaml_text=text, status=422)
    flash(f"On-call configuration imported: {summary}.", "message")
    for line in summary.warnings:
        flash(f"Note: {line}.", "message")
    return redirect(url_for("oncall.show"))


def _page(errors: dict[str, OnCallConfigError] | None = None, policy_text: str | None = None,
          yaml_text: str | None = None, status: int = 200) -> tuple[str, int]:
    hotline = current_app.extensions["hotline"]
    now = hotline.clock.now()
    admin = Role(current_user().role).includes(Role.ADMIN)
    with hotline.db.session() as session:
        overview = oncall_overview(session, now, DAYS)
        if admin and yaml_text is None:
            from app.services.oncall_yaml import export_yaml  # written without PyYAML (app/oncall/yaml_text.py)

            yaml_text = export_yaml(session)
        if admin and policy_text is None:
            policy_text = levels_yaml(overview.policy_levels, overview.reps)
        html = render_template("dashboard/oncall.html", o=overview, now=now, days=DAYS, admin=admin,
                               hotline_number=hotline.settings.twilio_number,
                               errors=errors or {}, policy_text=policy_text, yaml_text=yaml_text,
                               form=request.form if request.method == "POST" else {}, **HELPERS)
        return html, status

