"""Compliance report for managers: the page, its CSV and JSON exports, and their SHA-256 digests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request

from app.auth import Role, requires
from app.reports import charts, export
from app.reports.compliance import Report, compliance_report, range_bounds
from app.reports.params import InvalidRange, RangeParams, parse_range
from app.reports.queries import LoadedRange, load_range

bp = Blueprint("report", __name__, template_folder="templates")

_EXPORTS = {"csv": ("text/csv; charset=utf-8", export.to_csv), "json": ("application/json", export.to_json)}


@bp.get("/reports/compliance")
@requires(Role.MANAGER)
def show() -> tuple[str, int]:
    """The compliance page: summary, percentiles, breaches with reasons, per rep, per hour, charts."""
    try:
        params = parse_range(request.args, _now())
    except InvalidRange as exc:
        return render_template("dashboard/report.html", error=str(exc), args=request.args, params=None), 400
    report, loaded = _build(params)
    svgs = {"outcomes": charts.outcome_bars(report), "times": charts.time_histogram(report),
            "hours": charts.hour_heat_strip(report)}
    return render_template("dashboard/report.html", report=report, loaded=loaded, params=params, charts=svgs,
                           chart_texts=charts.texts(report), query=params.query(), error=None, args=request.args, mmss=mmss,
                           fmt_local=lambda at: local_time(at, params.tz)), 200


@bp.get("/reports/compliance.<any(csv, json):ext>")
@requires(Role.MANAGER)
def download(ext: str) -> Response:
    """The CSV or JSON export as a download, its SHA-256 in ``X-Content-SHA256``."""
    body, name = _export(ext)
    if body is None:
        return Response(name + "\n", 400, mimetype="text/plain")
    return _download(body, name, _EXPORTS[ext][0])


@bp.get("/reports/compliance.<any(csv, json):ext>.sha256")
@requires(Role.MANAGER)
def digest(ext: str) -> Response:
    """``sha256sum``-format digest of the export with the same parameters (pin ``as_of`` to match)."""
    body, name = _export(ext)
    if body is None:
        return Response(name + "\n", 400, mimetype="text/plain")
    line = f"{export.sha256_hex(body)}  {name}\n".encode()
    return _download(line, f"{name}.sha256", "text/plain; charset=utf-8")


def _export(ext: str) -> tuple[bytes | None, str]:
    """The export's bytes and file name, or None and the error to show."""
    try:
        params = parse_range(request.args, _now())
    except InvalidRange as exc:
        return None, str(exc)
    report, loaded = _build(params)
    return _EXPORTS[ext][1](report, loaded.companies), export.filename(report, ext)


def _build(params: RangeParams) -> tuple[Report, LoadedRange]:
    starts_at, ends_at = range_bounds(params.start, params.end, params.tz)
    with current_app.extensions["hotline"].db.session() as session:
        loaded = load_range(session, starts_at, ends_at, params.as_of)
    report = compliance_report(loaded.facts, params.start, params.end, params.tz, as_of=params.as_of,
                               rep_names=loaded.rep_names)
    return report, loaded


def _download(body: bytes, name: str, mimetype: str) -> Response:
    response = Response(body, 200, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-SHA256"] = export.sha256_hex(body)
    response.headers["Cache-Control"] = "no-store"  # company names and staff names
    return response


def _now() -> datetime:
    return current_app.extensions["hotline"].clock.now()


def mmss(seconds: float | None) -> str:
    """Seconds as m:ss (h:mm:ss from an hour), or an en dash when there are none."""
    if seconds is None:
        return "–"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def local_time(at: datetime | None, tz: str) -> str:
    """``at`` in the report's time zone, e.g. "Sun 2026-10-25 02:30 CET"."""
    return at.astimezone(ZoneInfo(tz)).strftime("%a %Y-%m-%d %H:%M %Z") if at else ""
