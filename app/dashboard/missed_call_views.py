"""Missed calls: callers who hung up before triage (issue 9) or unreachable, listed for the reps; never paged."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template
from sqlalchemy import select

from app.auth import Role, requires
from app.dashboard.display import HELPERS
from app.models import Incident, Notice
from app.services.missed_calls import recent_missed_calls
from app.services.page_text import SERVICE_SHORT

bp = Blueprint("missed_calls", __name__, template_folder="templates")
WINDOW = timedelta(hours=24)


SAID_LABELS = {"affected_service": "Down", "ticket_number": "Ticket", "company": "Company",
               "contact_name": "Name", "problem_text": "Problem", "recording_url": "Recording"}


def said_lines(said: dict[str, str]) -> list[tuple[str, str]]:
    """What a caller said, as (label, value) lines in the intake's order; the service affected in words."""
    return [(label, SERVICE_SHORT.get(said[name], said[name]) if name == "affected_service" else said[name])
            for name, label in SAID_LABELS.items() if said.get(name)]


@bp.get("/missed-calls")
@requires(Role.REP)
def show() -> str:
    """Missed calls of the last 24 hours, newest first, with the SMS each caller got."""
    hotline = current_app.extensions["hotline"]
    now = hotline.clock.now()
    with hotline.db.session() as session:
        calls = recent_missed_calls(session, now - WINDOW)
        notice_ids = [c.notice_id for c in calls if c.notice_id]
        incident_ids = [c.incident_id for c in calls if c.incident_id]
        notices = {n.id: n for n in session.scalars(select(Notice).where(Notice.id.in_(notice_ids)))}
        found = session.execute(select(Incident.id, Incident.reference).where(Incident.id.in_(incident_ids))).all()
        references = {incident_id: reference for incident_id, reference in found}
        rows = [{"call": c, "sms": notices[c.notice_id].status if c.notice_id in notices else "",
                 "reference": references.get(c.incident_id, ""), "said": said_lines(c.said or {})} for c in calls]
        return render_template("dashboard/missed_calls.html", rows=rows, now=now, **HELPERS)
