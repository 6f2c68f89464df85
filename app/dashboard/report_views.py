"""Compliance report for managers: the page, its CSV and JSON exports, and their SHA-256 digests."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request

from app import db_time_limit
from app.auth import Role, requires
from app.reports import charts, export
from app.reports.compliance import Report
from app.reports.facts import MIN_CONVERSATION_SECONDS
from app.reports.figures import FactsRange
from app.reports.params import InvalidRange, RangeParams, parse_range
from app.reports.queries import LoadedRange
from ivr_flows.prompts import zone_label

bp = Blueprint("report", __name__, template_folder="templates")

_MIMETYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@bp.get("/reports/compliance")
@requires(Role.MANAGER)
def show() -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    """The compliance page: summary, percentiles, breaches with reasons, per rep, per hour, charts."""
    now = _now()
    try:
        params = parse_range(request.args, now)
    except InvalidRange as exc:
        return render_template("dashboard/report.html", error=str(exc), args=request.args, params=None,
                               sla_minutes=_sla_minutes()), 400
    report, loaded = _build(params)
    svgs = {"outcomes": charts.outcome_bars(report), "times": charts.time_histogram(report),
            "hours": charts.hour_heat_strip(report)}
    return render_template("dashboard/report.html", report=report, loaded=loaded, params=params, charts=svgs,
                           chart_texts=charts.texts(report), query=params.query(), error=None, args=request.args, mmss=mmss,
                           sla_minutes=report.sla_minutes, min_conversation=MIN_CONVERSATION_SECONDS,
                           fmt_local=lambda at, seconds=False: local_time(at, params.tz, seconds)), 200, \
        _provisional(params, report.undecided_until, now)


@bp.get("/reports/compliance.<any(csv, json):ext>")
@requires(Role.MANAGER)
def download(ext: str) -> Response:
    """The CSV or JSON export, streamed; its SHA-256 is at the ``.sha256`` URL with the same parameters.

    Streaming keeps memory flat for a year of incidents, so the digest cannot travel in
    a header sent before the body; the ``.sha256`` URL hashes the same bytes.
    """
    try:
        params = parse_range(request.args, _now())
    except InvalidRange as exc:
        return Response(str(exc) + "\n", 400, mimetype="text/plain")
    report = _build(params, breach_limit=0)[0] if ext == "json" else None  # the CSV holds no summary
    name = export.range_filename(params.start, params.end, ext, params.tz, params.as_of)
    return _download(_stream(ext, params, report), name, _MIMETYPES[ext], params, _undecided(params, report))


@bp.get("/reports/compliance.<any(csv, json):ext>.sha256")
@requires(Role.MANAGER)
def digest(ext: str) -> Response:
    """``sha256sum``-format digest of the export with the same parameters (pin ``as_of`` to match)."""
    try:
        params = parse_range(request.args, _now())
    except InvalidRange as exc:
        return Response(str(exc) + "\n", 400, mimetype="text/plain")
    report = _build(params, breach_limit=0)[0] if ext == "json" else None
    name = export.range_filename(params.start, params.end, ext, params.tz, params.as_of)
    sha = hashlib.sha256()
    for piece in _stream(ext, params, report):
        sha.update(piece)
    line = f"{sha.hexdigest()}  {name}\n".encode()
    response = _download(iter([line]), f"{name}.sha256", "text/plain; charset=utf-8", params,
                         _undecided(params, report))
    response.headers["X-Content-SHA256"] = export.sha256_hex(line)
    return response


def _stream(ext: str, params: RangeParams, report: Report | None) -> Iterator[bytes]:
    """The export's bytes piece by piece, read from the database while they are sent."""
    db = current_app.extensions["hotline"].db  # taken now: the body is sent after the request context ends
    facts = _range(params)

    def pieces() -> Iterator[bytes]:
        with db.session() as session:
            if report is None:
                yield from facts.csv_pieces(session)
            else:
                yield from export.stream_json(report, facts.export_rows(session))
    return db_time_limit.each_piece(pieces())  # after the request's own limit: each piece has one


def _build(params: RangeParams, breach_limit: int | None = None) -> tuple[Report, LoadedRange]:
    with current_app.extensions["hotline"].db.session() as session:
        if breach_limit is None:
            return _range(params).report(session)
        return _range(params).report(session, breach_limit=breach_limit)


def _range(params: RangeParams) -> FactsRange:
    return FactsRange(params.start, params.end, params.tz, params.as_of, _sla_minutes())


def _sla_minutes() -> int:
    """The promise the report judges against (CALLBACK_SLA_MINUTES), as the deadlines were set."""
    return current_app.extensions["hotline"].settings.callback_sla_minutes


def _undecided(params: RangeParams, report: Report | None) -> datetime | None:
    """When the last callback under way at ``as_of`` in the range is decided (the CSV builds no report: its rows)."""
    if report is not None:
        return report.undecided_until
    with current_app.extensions["hotline"].db.session() as session:
        return _range(params).undecided_until(session)


def _provisional(params: RangeParams, undecided: datetime | None, now: datetime) -> dict[str, str]:
    """``X-Report-Provisional-Until`` while the figures are not final (``RangeParams.provisional_until``): a change
    being saved at ``as_of`` may still be written, or a callback under way then is decided later."""
    until = params.provisional_until(undecided, now)
    return {} if until is None else {"X-Report-Provisional-Until": until.isoformat().replace("+00:00", "Z")}


def _download(body: Iterator[bytes], name: str, mimetype: str, params: RangeParams,
              undecided: datetime | None = None) -> Response:
    response = Response(body, 200, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"  # company names and staff names
    # a header, not in the bytes: they must match the digest fetched once final
    response.headers.update(_provisional(params, undecided, _now()))
    # The schema the facts were folded under: an upgrade whose migration refolds facts (a fix) may change a pinned
    # export's bytes, and a manager comparing an archived download with a new one sees here that it ran between them.
    response.headers["X-Hotline-Schema"] = _schema_revision()
    return response


def _schema_revision() -> str:
    """The database's Alembic revision(s), comma-separated; "unversioned" for tables built without Alembic."""
    from app.probes import current_revisions

    with current_app.extensions["hotline"].db.engine.connect() as conn:
        return ",".join(current_revisions(conn)) or "unversioned"


def _now() -> datetime:
    return current_app.extensions["hotline"].clock.now()


def mmss(seconds: float | None) -> str:
    """Seconds as m:ss (h:mm:ss from an hour), or an en dash when there are none.

    Rounded up, never down: a callback 900.4 s after capture missed the 15 minutes and reads 15:01, not the
    15:00 of one that kept it (the report's met/late split counts from the exact seconds).
    """
    if seconds is None:
        return "–"
    whole = math.ceil(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def local_time(at: datetime | None, tz: str, seconds: bool = False) -> str:
    """``at`` in the report's time zone, e.g. "Sun 2026-10-25 02:30 CET" (with ``seconds``, "02:30:15 CET"; Dubai's
    "UTC+4", ``zone_label``)."""
    if at is None:
        return ""
    local = at.astimezone(ZoneInfo(tz))
    clock = local.strftime("%a %Y-%m-%d %H:%M:%S" if seconds else "%a %Y-%m-%d %H:%M")
    return f"{clock} {zone_label(local)}"
