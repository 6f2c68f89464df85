"""Reading the on-call admin forms into validated inputs (pure); errors name the field."""

from __future__ import annotations

from datetime import datetime

from app.instants import OUT_OF_RANGE, in_years
from app.models import Rep
from app.oncall.errors import OnCallConfigError
from app.oncall.records import OverrideInput, parse_override
from app.oncall.wallclock import local_instant, zone
from app.oncall.yaml_text import dump


def override_input(form: dict[str, str], time_zone: str) -> OverrideInput:
    """An override from the form; times without an offset are wall-clock times in ``time_zone``."""
    rep = (form.get("rep") or "").strip()
    data = {
        "rep": int(rep) if rep.isdecimal() else rep,
        "starts_at": _instant(form.get("starts_at", ""), time_zone, "starts_at"),
        "ends_at": _instant(form.get("ends_at", ""), time_zone, "ends_at"),
        "reason": (form.get("reason") or "").strip(),
    }
    if not rep:
        raise OnCallConfigError("rep", "is required")
    return parse_override(data)


def policy_levels(text: str) -> object:
    """The levels of a policy given as YAML or JSON: a list of levels, or a mapping with ``levels``."""
    import yaml  # only when an admin saves a policy: a web worker does not carry PyYAML otherwise

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise OnCallConfigError("", f"not valid YAML or JSON{where}: {getattr(exc, 'problem', None) or exc}") from None
    if isinstance(doc, dict):
        if set(doc) - {"levels", "name", "is_default"}:
            unknown = sorted(str(k) for k in set(doc) - {"levels", "name", "is_default"})[0]
            raise OnCallConfigError(unknown, "unknown field")
        return doc.get("levels")
    return doc


def levels_yaml(levels: list[dict], reps: dict[int, Rep]) -> str:
    """Policy levels as editable YAML, rep ids shown as names (written without PyYAML: app/oncall/yaml_text.py)."""
    named = [{"delay_minutes": level["delay_minutes"],
              "targets": [_named(t, reps) for t in level["targets"]]} for level in levels]
    return dump({"levels": named})


def _named(target: dict, reps: dict[int, Rep]) -> dict:
    rep = reps.get(target["rep"]) if target.get("type") == "rep" and isinstance(target.get("rep"), int) else None
    return dict(target, rep=rep.name) if rep else dict(target)


def _instant(text: str, time_zone: str, path: str) -> datetime:
    text = (text or "").strip()
    if not text:
        raise OnCallConfigError(path, "is required")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise OnCallConfigError(path, "must be a date and time such as 2026-12-24T09:00") from None
    if not in_years(value):  # before any conversion: near year 1 or 9999 it overflows
        raise OnCallConfigError(path, OUT_OF_RANGE)
    if value.tzinfo is not None:
        return value
    return local_instant(value.date(), value.time(), zone(time_zone))
