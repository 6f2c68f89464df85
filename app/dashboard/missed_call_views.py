"""Missed calls: callers who hung up before triage (issue 9) or unreachable, listed for the reps; never paged."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, current_app, render_template, request, url_for
from sqlalchemy import select

from app.auth import Role, requires
from app.dashboard.display import HELPERS
from app.models import Incident, Notice
from app.reports.compliance import range_bounds
from app.reports.params import INSTANTS, InvalidRange, parse_range
from app.services.missed_calls import missed_calls_between, not_theirs_replies, texts_between
from app.services.page_text import SERVICE_SHORT
from app.services.sms_commands import UNKNOWN_REPLIES_PER_HOUR

bp = Blueprint("missed_calls", __name__, template_folder="templates")
WINDOW = timedelta(hours=24)  # the page's default range, and the board's warning
PAGE_SIZE = 100


SAID_LABELS = {"affected_service": "Down", "ticket_number": "Ticket", "company": "Company",
               "contact_name": "Name", "problem_text": "Problem", "recording_url": "Recording"}


def said_lines(said: dict[str, str]) -> list[tuple[str, str]]:
    """What a caller said, as (label, value) lines in the intake's order; the service affected in words."""
    return [(label, SERVICE_SHORT.get(said[name], said[name]) if name == "affected_service" else said[name])
            for name, label in SAID_LABELS.items() if said.get(name)]


@bp.get("/missed-calls")
@requires(Role.REP)
def show() -> tuple[str, int]:
    """Missed calls, newest first, with the SMS each caller got: the last 24 hours, or the dates asked for
    (``start``, ``end`` exclusive, local to ``tz``, as on the compliance report), ``PAGE_SIZE`` a page; and (on the
    first page) the texts from unknown senders in that range, answered or not (``sms_commands._answer_unknown``)."""
    hotline = current_app.extensions["hotline"]
    now = hotline.clock.now()
    try:
        since, until, span = _range(now)
    except InvalidRange as exc:
        return render_template("dashboard/missed_calls.html", rows=[], texts=[], more_texts=False, error=str(exc),
                               args=request.args, span="", older="", newer="", unknown_replies_per_hour=UNKNOWN_REPLIES_PER_HOUR, **HELPERS), 400
    page = max(1, min(request.args.get("page", 1, type=int), 10_000))
    with hotline.db.session() as session:
        calls = missed_calls_between(session, since, until, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
        calls, more = calls[:PAGE_SIZE], len(calls) > PAGE_SIZE
        notice_ids = [c.notice_id for c in calls if c.notice_id]
        incident_ids = [c.incident_id for c in calls if c.incident_id]
        notices = {n.id: n for n in session.scalars(select(Notice).where(Notice.id.in_(notice_ids)))}
        found = session.execute(select(Incident.id, Incident.reference).where(Incident.id.in_(incident_ids))).all()
        references = {incident_id: reference for incident_id, reference in found}
        not_theirs = not_theirs_replies(session, [c.call_sid for c in calls if c.notice_id])
        rows = [{"call": c, "sms": notices[c.notice_id].status if c.notice_id in notices else "",
                 "reference": references.get(c.incident_id, ""), "said": said_lines(c.said or {}),
                 "not_theirs": not_theirs.get(c.call_sid, "")} for c in calls]
        texts = texts_between(session, since, until, limit=PAGE_SIZE + 1) if page == 1 else []
    return render_template("dashboard/missed_calls.html", rows=rows, texts=texts[:PAGE_SIZE],
                           more_texts=len(texts) > PAGE_SIZE, now=now, error=None, args=request.args,
                           span=span, older=_page_url(page + 1) if more else "",
                           newer=_page_url(page - 1) if page > 1 else "",
                           unknown_replies_per_hour=UNKNOWN_REPLIES_PER_HOUR, **HELPERS), 200


def _range(now: datetime) -> tuple[datetime, datetime | None, str]:
    """[since, until) and its words: the last 24 hours unless a date is asked for (InvalidRange says what is wrong)."""
    if not any(request.args.get(name, "").strip() for name in ("start", "end", *INSTANTS)):  # from/to: refused
        return now - WINDOW, None, "in the last 24 hours"
    params = parse_range(request.args, now)
    since, until = range_bounds(params.start, params.end, params.tz)
    last = params.end - timedelta(days=1)
    return since, until, f"from {params.start.isoformat()} to {last.isoformat()} ({params.tz})"


def _page_url(page: int) -> str:
    """This range's page ``page``."""
    args = {name: value for name, value in request.args.items() if name in ("start", "end", "tz")}
    return url_for("missed_calls.show", **args, **({"page": page} if page > 1 else {}))
