"""On-call configuration as YAML: import (upsert by name) and export (round-trips exactly).

The document has three optional lists, each item keyed by name::

    reps: [{name, phone, phone_alt?, email?, channels, time_zone, is_manager, active}]
    schedules: [{name, time_zone, layers: [...], overrides: [{rep, starts_at, ends_at, reason?}]}]
    escalation_policies: [{name, is_default, levels: [{delay_minutes, targets: [...]}]}]

Reps and schedules named in the file are created or updated (a schedule's layers are
replaced, each keeping the rep on call now until its next hand-off); reps, schedules and overrides not in the file are left alone. Overrides are
added unless an identical one exists; those already over at ``now`` are skipped. A stored override of a schedule in
the file, not yet over and not in it, is kept with a warning naming it (an import never deletes an override).
The summary counts an item already stored as updated only when what is stored of it changed, else as unchanged. The built-in default policy
as the export shows it (none stored) is left built in: importing an export always works, even before schedules.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import EscalationPolicy, Override, Rep, Schedule
from app.oncall.errors import OnCallConfigError
from app.oncall.fields import WEEKDAYS, bool_field, iso_z, known_keys
from app.oncall.import_summary import ImportSummary
from app.oncall.policy import validate_levels
from app.oncall.records import SCHEDULE_FIELDS, parse_override, parse_rep, parse_schedule
from app.oncall.yaml_text import dump
from app.services.oncall import find_rep, find_schedule, next_incident_policy, policy_dict, stored_default_policy
from app.services.oncall_admin import add_override, save_policy, save_rep, save_schedule
from app.services.oncall_coverage import (
    coverage_gaps,
    deactivated_rep_targets,
    ignored_overrides,
    level_warnings,
    missing_schedules,
    open_incidents_left,
    overlapping_overrides,
)
from app.settings import PROMISED_CALLBACK_MINUTES

__all__ = ["ImportSummary", "OnCallConfigError", "export_yaml", "import_yaml"]

MAX_BYTES = 1024 * 1024


def import_yaml(session: Session, text: str, now: datetime,
                sla_minutes: int = PROMISED_CALLBACK_MINUTES, hotline_number: str = "") -> ImportSummary:
    """Apply a YAML document; raise OnCallConfigError with a path such as "schedules[0].layers[1].members[2]".
    ``sla_minutes``: CALLBACK_SLA_MINUTES, which a policy level paging at or after it is warned of, as is a
    policy paging no schedule or rep before the at-risk alert (``level_warnings``);
    ``hotline_number``: TWILIO_NUMBER, which no active rep may have."""
    doc = _load(text)
    summary = ImportSummary()
    for index, item in enumerate(_items(doc, "reps")):
        data = parse_rep(item, f"reps[{index}]")
        stored = session.scalar(select(Rep).where(Rep.name == data.name))  # the rep save_rep updates, if any
        before = _rep_doc(stored) if stored is not None else None
        rep, _ = save_rep(session, data, path=f"reps[{index}]", hotline_number=hotline_number)
        summary.warnings.extend(open_incidents_left(session, rep))
        summary.count("reps", before, _rep_doc(rep))
    for index, item in enumerate(_items(doc, "schedules")):
        _import_schedule(session, item, f"schedules[{index}]", now, summary)
    defaults = 0
    for index, item in enumerate(_items(doc, "escalation_policies")):
        path = f"escalation_policies[{index}]"
        item = known_keys(item, {"name", "is_default", "levels"}, path, ("name", "levels"))
        is_default = bool_field(item.get("is_default", False), f"{path}.is_default")
        defaults += is_default
        if defaults > 1:
            raise OnCallConfigError(f"{path}.is_default", "only one escalation policy can be the default")
        if _left_built_in(session, item, is_default, path):
            summary.policies_built_in += 1
            continue
        stored = session.scalar(select(EscalationPolicy).where(EscalationPolicy.name == item["name"]))
        before = _policy_doc(policy_dict(stored), {}) if stored is not None else None
        policy, _ = save_policy(session, item["name"], item["levels"], is_default, path)
        summary.warnings.extend(f"escalation policy {policy.name!r}: {line}"
                                for line in level_warnings(policy.levels, sla_minutes))
        summary.count("policies", before, _policy_doc(policy_dict(policy), {}))
    if doc.get("schedules") or summary.policies_stored:
        _refuse_missing_schedules(session)
    elif summary.policies_built_in:  # nothing stored pages them yet: said, not refused (an empty database's export)
        summary.warnings.extend(_built_in_missing(session))
    if doc.get("reps") or doc.get("schedules") or doc.get("escalation_policies"):  # a rep deactivated changes these
        summary.warnings.extend(o.describe() for o in overlapping_overrides(session, now))
        summary.warnings.extend(o.describe() for o in ignored_overrides(session, now))
        summary.warnings.extend(f"{g.describe()}: add a layer member or an override"
                                for g in coverage_gaps(session, now.replace(microsecond=0)))
    # a rep deactivated by this import, or a policy naming one: either way the target pages nobody
    summary.warnings.extend(f"escalation policy {t.policy!r}: {t.describe()}" for t in deactivated_rep_targets(session))
    return summary


def _left_built_in(session: Session, item: dict, is_default: bool, path: str) -> bool:
    """True when ``item`` is the built-in default exactly as the next incident will use it, while no stored policy
    replaces it (what the export of a database without one shows): storing it would change nothing, and is left to
    the first incident, so that exporting and importing again works before schedules exist."""
    if stored_default_policy(session) is not None:
        return False
    built_in = next_incident_policy(session)
    return ((item["name"], is_default) == (built_in["name"], True)
            and validate_levels(item["levels"], f"{path}.levels") == built_in["levels"])


def _built_in_missing(session: Session) -> list[str]:
    """The warning that the built-in default pages schedules that do not exist yet (none when they all do)."""
    missing = list(dict.fromkeys(m.schedule for m in missing_schedules(session) if m.built_in))
    if not missing:
        return []
    return [f"the built-in default escalation policy pages schedules {', '.join(map(repr, missing))}, which do not "
            "exist yet: add them under schedules before the first incident"]


def _refuse_missing_schedules(session: Session) -> None:
    """A policy paging a schedule that does not exist would page nobody: refuse the whole import."""
    missing = missing_schedules(session)
    if not missing:
        return
    first = missing[0]
    path = "escalation_policies" if first.built_in else f"escalation_policies[{first.policy}].{first.path}"
    raise OnCallConfigError(
        path,
        f"{first.describe()}. Add a schedule named {first.schedule!r} under schedules, or an escalation "
        "policy with is_default: true that pages only schedules you define",
    )


def export_yaml(session: Session) -> str:
    """Every rep, schedule (with layers and overrides) and escalation policy as YAML, sorted by name; the default
    policy as the next incident will use it (the built-in one while none is stored)."""
    reps = list(session.scalars(select(Rep).order_by(Rep.name)))
    names = {r.id: r.name for r in reps}
    schedules = session.scalars(select(Schedule).order_by(Schedule.name).options(selectinload(Schedule.layers)))
    current = next_incident_policy(session)
    policies = {p.name: policy_dict(p) for p in session.scalars(select(EscalationPolicy))}
    policies[current["name"]] = current  # the default as the next incident uses it: built in while none is stored
    doc = {
        "reps": [_rep_doc(r) for r in reps],
        "schedules": [_schedule_doc(session, s, names) for s in schedules],
        "escalation_policies": [_policy_doc(policies[name], names) for name in sorted(policies)],
    }
    return dump(doc)  # without PyYAML: the on-call page shows it (app/oncall/yaml_text.py)


def _load(text: str) -> dict:
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise OnCallConfigError("", "the YAML document is larger than 1 MiB")
    import yaml  # PyYAML only when an admin imports a document: the on-call page shows one without it

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise OnCallConfigError("", f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if doc is None:
        return {}
    return known_keys(doc, {"reps", "schedules", "escalation_policies"}, "")


def _items(doc: dict, key: str) -> list:
    items = doc.get(key) or []
    if not isinstance(items, list):
        raise OnCallConfigError(key, "must be a list")
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name.strip() in seen:
            raise OnCallConfigError(f"{key}[{index}].name", f"{name!r} is already given at {key}[{seen[name.strip()]}]")
        if isinstance(name, str):
            seen[name.strip()] = index
    return items


def _import_schedule(session: Session, item: object, path: str, now: datetime, summary: ImportSummary) -> None:
    item = known_keys(item, SCHEDULE_FIELDS | {"overrides"}, path)
    overrides = item.get("overrides") or []
    if not isinstance(overrides, list):
        raise OnCallConfigError(f"{path}.overrides", "must be a list")
    data = parse_schedule({k: v for k, v in item.items() if k != "overrides"}, path)
    parsed = [parse_override(o, f"{path}.overrides[{i}]") for i, o in enumerate(overrides)]
    stored = find_schedule(session, data.name)
    before = _schedule_fields(stored, {}) if stored is not None else None
    schedule, _ = save_schedule(session, data, now, path)
    summary.count("schedules", before, _schedule_fields(schedule, {}))
    in_file: set[int] = set()
    for index, override in enumerate(parsed):
        if override.ends_at <= now:
            # skipped, but a rep that does not exist is still an error: a partly invalid file changes nothing
            if find_rep(session, override.rep) is None:
                raise OnCallConfigError(f"{path}.overrides[{index}].rep", f"unknown rep {override.rep!r}")
            summary.overrides_expired += 1
            continue
        stored_override, added = add_override(session, schedule, override, now, f"{path}.overrides[{index}]")
        in_file.add(stored_override.id)
        summary.overrides_added += added
        summary.overrides_unchanged += not added
    summary.warnings.extend(_kept_overrides(session, schedule, in_file, now))


def _kept_overrides(session: Session, schedule: Schedule, in_file: set[int], now: datetime) -> list[str]:
    """The warning that stored overrides of ``schedule`` not yet over are not in the file (``in_file``: the ids it
    names), and were kept: an import never deletes one (a rota emptied by mistake could page nobody), yet an
    operator who removed one from an export thought it gone while the rep stayed on call. None when none is left."""
    kept = list(session.scalars(
        select(Override).where(Override.schedule_id == schedule.id, Override.ends_at > now,
                               Override.id.not_in(in_file))
        .order_by(Override.starts_at, Override.id)))
    if not kept:
        return []
    names = {r.id: r.name for r in session.scalars(select(Rep).where(Rep.id.in_({o.rep_id for o in kept})))}
    listed = "; ".join(f"{names.get(o.rep_id, o.rep_id)} from {iso_z(o.starts_at)} to {iso_z(o.ends_at)}, id {o.id}"
                       for o in kept)
    one = len(kept) == 1
    return [f"schedule {schedule.name!r}: {len(kept)} stored override{'' if one else 's'} not in the file "
            f"{'was' if one else 'were'} kept ({listed}): an import adds overrides but never deletes one; delete "
            f"{'it' if one else 'them'} on the on-call page (admin) or with DELETE /api/v1/overrides/"
            f"{kept[0].id if one else '{id}'}"]


def _rep_doc(rep: Rep) -> dict:
    doc: dict = {"name": rep.name, "phone": rep.phone}
    if rep.phone_alt:
        doc["phone_alt"] = rep.phone_alt
    if rep.email:
        doc["email"] = rep.email
    doc |= {"channels": list(rep.channels), "time_zone": rep.time_zone, "is_manager": rep.is_manager}
    doc["active"] = rep.active
    return doc


def _schedule_doc(session: Session, schedule: Schedule, names: dict[int, str]) -> dict:
    overrides = session.scalars(
        select(Override).where(Override.schedule_id == schedule.id).order_by(Override.starts_at, Override.id)
    )
    override_docs = []
    for o in overrides:
        doc = {"rep": names.get(o.rep_id, o.rep_id), "starts_at": iso_z(o.starts_at), "ends_at": iso_z(o.ends_at)}
        if o.reason:
            doc["reason"] = o.reason
        override_docs.append(doc)
    return _schedule_fields(schedule, names) | {"overrides": override_docs}


def _schedule_fields(schedule: Schedule, names: dict[int, str]) -> dict:
    """A schedule's name, time zone and layers as exported (members by name where ``names`` has them)."""
    layers = []
    for layer in schedule.layers:
        doc: dict = {"position": layer.position, "rotation": str(layer.rotation), "handoff_time": layer.handoff_time}
        if layer.handoff_weekday is not None:
            doc["handoff_weekday"] = WEEKDAYS[layer.handoff_weekday]
        if layer.shift_hours is not None:
            doc["shift_hours"] = layer.shift_hours
        doc["starts_on"] = layer.starts_on.isoformat()
        doc["members"] = [names.get(m, m) for m in layer.members]
        layers.append(doc)
    return {"name": schedule.name, "time_zone": schedule.time_zone, "layers": layers}


def _policy_doc(policy: dict, names: dict[int, str]) -> dict:
    levels = []
    for level in policy["levels"]:
        targets = []
        for target in level["targets"]:
            target = dict(target)
            if target["type"] == "rep" and isinstance(target["rep"], int):
                target["rep"] = names.get(target["rep"], target["rep"])
            targets.append(target)
        levels.append({"delay_minutes": level["delay_minutes"], "targets": targets})
    return {"name": policy["name"], "is_default": policy["is_default"], "levels": levels}
