"""On-call configuration: ``/reps``, ``/schedules``, ``/overrides``, ``/oncall``, ``/escalation-policies``."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.api.auth import require_scope
from app.api.errors import ApiError, json_error
from app.api.formats import int_param, iso_utc, timestamp_param
from app.api.oncall_json import override_json, rep_input, rep_json, schedule_json, shift_json
from app.models import EscalationPolicy, Override, Rep, Schedule
from app.oncall.errors import NameTaken, OnCallConfigError
from app.oncall.fields import bool_field, known_keys
from app.oncall.records import parse_override, parse_rep, parse_schedule
from app.services.oncall import (
    find_schedule,
    managers,
    next_incident_policy,
    on_call_everywhere,
    policy_dict,
    schedule_shifts,
)
from app.services.oncall_admin import (
    add_override,
    create_rep,
    create_schedule,
    deactivate_rep,
    delete_override,
    save_policy,
    save_rep,
    save_schedule,
)
from app.services.oncall_coverage import (
    handovers,
    on_call_now,
    open_incidents_left,
    override_warnings,
    policy_warnings,
    sms_opted_out_numbers,
)

bp = Blueprint("oncall", __name__)

MAX_DAYS = 90


@bp.errorhandler(OnCallConfigError)
def _invalid(exc: OnCallConfigError) -> Response:
    if isinstance(exc, NameTaken):
        return json_error(409, exc.message, code="conflict", field=exc.path or None)
    return json_error(422, exc.message, code="invalid", field=exc.path or None)


@bp.errorhandler(IntegrityError)
def _conflict(_exc: IntegrityError) -> Response:
    # Two requests created the same name at once: the loser is told to retry.
    return json_error(409, "the change conflicts with one made at the same time; retry", code="conflict")


@bp.get("/reps")
@require_scope("oncall:read")
def list_reps():
    """Every rep (active or not), by name."""
    with _hotline().db.transaction() as session:
        opted_out = sms_opted_out_numbers(session)
        return jsonify(reps=[rep_json(r, opted_out) for r in session.scalars(select(Rep).order_by(Rep.name))])


@bp.post("/reps")
@require_scope("oncall:admin")
def add_rep():
    """Create a rep (201); 409 if the name is taken."""
    data = parse_rep(request.get_json())
    hotline = _hotline()
    with hotline.db.transaction() as session:
        return jsonify(rep_json(create_rep(session, data, hotline.settings.twilio_number),
                                sms_opted_out_numbers(session))), 201


@bp.get("/reps/<rep_id>")
@require_scope("oncall:read")
def show_rep(rep_id: str):
    """One rep."""
    with _hotline().db.transaction() as session:
        return jsonify(rep_json(_rep(session, rep_id), sms_opted_out_numbers(session)))


@bp.put("/reps/<rep_id>")
@require_scope("oncall:admin")
def change_rep(rep_id: str):
    """Update a rep; fields not given keep their value."""
    body = request.get_json()
    if isinstance(body, dict) and "sms_opted_out" in body:
        raise OnCallConfigError("sms_opted_out", "is read-only: the rep texts START to the hotline number to lift it")
    hotline = _hotline()
    with hotline.db.transaction() as session:
        rep = _rep(session, rep_id)
        data = parse_rep(rep_input(rep) | known_keys(body, set(rep_input(rep)), ""))
        before = on_call_now(session, hotline.clock.now())
        save_rep(session, data, rep, hotline_number=hotline.settings.twilio_number)
        return jsonify(_warned(rep_json(rep, sms_opted_out_numbers(session)),
                               handovers(before, on_call_now(session, hotline.clock.now()))
                               + open_incidents_left(session, rep)))


@bp.delete("/reps/<rep_id>")
@require_scope("oncall:admin")
def remove_rep(rep_id: str):
    """Deactivate a rep: never paged again, kept in history; ``warnings`` name who is on call now instead."""
    hotline = _hotline()
    with hotline.db.transaction() as session:
        rep = _rep(session, rep_id)
        before = on_call_now(session, hotline.clock.now())
        deactivate_rep(session, rep)
        return jsonify(_warned(rep_json(rep, sms_opted_out_numbers(session)),
                               handovers(before, on_call_now(session, hotline.clock.now()))
                               + open_incidents_left(session, rep)))


@bp.get("/schedules")
@require_scope("oncall:read")
def list_schedules():
    """Every schedule with its layers, by name."""
    with _hotline().db.transaction() as session:
        schedules = session.scalars(select(Schedule).order_by(Schedule.name).options(selectinload(Schedule.layers)))
        names = _names(session)
        return jsonify(schedules=[schedule_json(s, names) for s in schedules])


@bp.post("/schedules")
@require_scope("oncall:admin")
def add_schedule():
    """Create a schedule with its layers (201); 409 if the name is taken."""
    data = parse_schedule(request.get_json())
    hotline = _hotline()
    with hotline.db.transaction() as session:
        schedule = create_schedule(session, data, hotline.clock.now())
        return jsonify(schedule_json(schedule, _names(session))), 201


@bp.get("/schedules/<name>")
@require_scope("oncall:read")
def show_schedule(name: str):
    """A schedule, its overrides not yet over, and its shifts for the next ``days`` (default 14)."""
    days = int_param("days", request.args.get("days"), 14, 0, MAX_DAYS)
    hotline = _hotline()
    with hotline.db.transaction() as session:
        schedule = _schedule(session, name)
        now = hotline.clock.now()
        names = _names(session)
        overrides = session.scalars(
            select(Override)
            .where(Override.schedule_id == schedule.id, Override.ends_at > now)
            .order_by(Override.starts_at, Override.id)
        )
        shifts = schedule_shifts(session, schedule, now, now + timedelta(days=days)) if days else []
        body = schedule_json(schedule, names) | {
            "overrides": [override_json(o) for o in overrides],
            "shifts": [shift_json(s, names) for s in shifts],
        }
        return jsonify(body)


@bp.put("/schedules/<name>")
@require_scope("oncall:admin")
def put_schedule(name: str):
    """Set a schedule's time zone and replace its layers (created if new: 201)."""
    body = _without_read_only(request.get_json())
    _stored_form(name)
    if isinstance(body, dict) and body.get("name", name) != name:
        raise OnCallConfigError("name", "renaming a schedule is not supported")
    data = parse_schedule(body | {"name": name} if isinstance(body, dict) else body)
    hotline = _hotline()
    with hotline.db.transaction() as session:
        schedule, created = save_schedule(session, data, hotline.clock.now())
        return jsonify(schedule_json(schedule, _names(session))), 201 if created else 200


@bp.post("/schedules/<name>/overrides")
@require_scope("oncall:admin")
def add_schedule_override(name: str):
    """Put a rep on call over every layer for a while (201; 200 if an identical one exists)."""
    data = parse_override(request.get_json())
    hotline = _hotline()
    with hotline.db.transaction() as session:
        override, created = add_override(session, _schedule(session, name), data, hotline.clock.now())
        body = _warned(override_json(override), override_warnings(session, override, hotline.clock.now()))
        return jsonify(body), 201 if created else 200


@bp.delete("/overrides/<override_id>")
@require_scope("oncall:admin")
def remove_override(override_id: str):
    """Delete an override (204)."""
    with _hotline().db.transaction() as session:
        if not delete_override(session, _id(override_id, "override")):
            raise ApiError(404, f"no override {override_id}")
    return "", 204


@bp.get("/oncall")
@require_scope("oncall:read")
def now_on_call():
    """Who is on call per schedule at ``at`` (default now), and the managers."""
    hotline = _hotline()
    at = timestamp_param("at", request.args.get("at")) or hotline.clock.now()
    with hotline.db.transaction() as session:
        opted_out = sms_opted_out_numbers(session)
        schedules = [
            {"name": s.name, "time_zone": s.time_zone, "on_call": [rep_json(r, opted_out) for r in reps]}
            for s, reps in on_call_everywhere(session, at)
        ]
        return jsonify(at=iso_utc(at), schedules=schedules,
                       managers=[rep_json(r, opted_out) for r in managers(session)])


@bp.get("/escalation-policies/<name>")
@require_scope("oncall:read")
def show_policy(name: str):
    """One escalation policy; the default one as the next incident will use it, built in while none is stored."""
    with _hotline().db.session() as session:
        current = next_incident_policy(session)
        if current["name"] == name:
            return jsonify(current)
        policy = session.scalar(select(EscalationPolicy).where(EscalationPolicy.name == name))
        if policy is None:
            raise ApiError(404, f"no escalation policy {name!r}")
        return jsonify(policy_dict(policy))


@bp.put("/escalation-policies/<name>")
@require_scope("oncall:admin")
def put_policy(name: str):
    """Create (201) or replace (200) an escalation policy; ``is_default`` makes it the default."""
    body = known_keys(request.get_json(), {"name", "is_default", "levels"}, "", ("levels",))
    _stored_form(name)
    if body.get("name", name) != name:
        raise OnCallConfigError("name", "renaming a policy is not supported")
    is_default = bool_field(body.get("is_default", False), "is_default")
    hotline = _hotline()
    with hotline.db.transaction() as session:
        policy, created = save_policy(session, name, body["levels"], is_default)
        warnings = policy_warnings(session, policy.levels, hotline.settings.callback_sla_minutes)
        return jsonify(_warned(policy_dict(policy), warnings)), 201 if created else 200


SCHEDULE_READ_ONLY = frozenset({"id", "overrides", "shifts"})  # what GET /schedules/<name> adds to a ScheduleInput


def _without_read_only(body: object) -> object:
    """A schedule as GET returned it, edited and sent back: the fields the server writes (its id, the layers'
    member names, the overrides and shifts, which have endpoints of their own) are dropped, not refused."""
    if not isinstance(body, dict):
        return body
    body = {key: value for key, value in body.items() if key not in SCHEDULE_READ_ONLY}
    if isinstance(body.get("layers"), list):
        body["layers"] = [{k: v for k, v in layer.items() if k != "member_names"} if isinstance(layer, dict)
                          else layer for layer in body["layers"]]
    return body


def _stored_form(name: str) -> None:
    """Refuse a PUT path name that would be stored otherwise (trimmed, single spaces): the resource would not be
    at the URL the PUT named, and a GET of that URL would answer 404."""
    stored = " ".join(name.split())
    if stored and stored != name:
        raise OnCallConfigError("name", f"names are stored trimmed with single spaces: use {stored!r} in the path")


def _warned(body: dict, warnings: list[str]) -> dict:
    """``body`` with the change's ``warnings`` (allowed, but worth a look), when there are any."""
    return body | {"warnings": warnings} if warnings else body


def _hotline():
    return current_app.extensions["hotline"]


def _id(raw: str, what: str) -> int:
    # Route converters would hide the path from the OpenAPI coverage test: check here.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise ApiError(404, f"no {what} {raw!r}")
    return int(raw)


def _rep(session: Session, rep_id: str) -> Rep:
    rep = session.get(Rep, _id(rep_id, "rep"))
    if rep is None:
        raise ApiError(404, f"no rep {rep_id}")
    return rep


def _schedule(session: Session, name: str) -> Schedule:
    schedule = find_schedule(session, name)
    if schedule is None:
        raise ApiError(404, f"no schedule {name!r}")
    return schedule


def _names(session: Session) -> dict[int, str]:
    return {rep_id: name for rep_id, name in session.execute(select(Rep.id, Rep.name))}
