"""One incident: every captured field, the recording, the timeline; and the rep's actions on it."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth import Role, current_user, requires
from app.dashboard.display import HELPERS, last_bridged, remaining_seconds, state_of, urgency
from app.dashboard.queries import incident_detail
from app.dashboard.timeline import timeline
from app.models import Incident
from app.reports.confirming import confirming
from app.services.acks import Answer, lock_incident
from app.services.board_actions import (
    NOT_A_REP_NOTE,
    acknowledge_as,
    actor_of,
    call_customer,
    may_own,
    record_reached,
    reopen_as,
    resolve_as,
    take_over_as,
)
from app.services.callback_extensions import callback_extension
from app.services.company_label import company_label
from app.services.escalation import callers_on_hotline
from app.services.notes import MAX_NOTE_CHARS, InvalidNote, add_note
from app.services.page_text import rep_clock
from app.services.reopen import reopened_by
from app.services.resolution import AFTER_NO_FIELD, AFTER_NO_LABEL, verbal_warning

bp = Blueprint("incident", __name__, template_folder="templates")


@bp.get("/incidents/<reference>")
@requires(Role.REP)
def show(reference: str) -> str | tuple[str, int]:
    """The incident page, or a 404 page for an unknown reference."""
    hotline = current_app.extensions["hotline"]
    now = hotline.clock.now()
    with hotline.db.session() as session:
        detail = incident_detail(session, reference)
        if detail is None:
            return render_template("dashboard/not_found.html", reference=reference), 404
        incident = detail.incident
        left = remaining_seconds(incident.callback_due_at, now)
        on_hotline = incident.id in callers_on_hotline(session, incident.id)  # the report's reading
        unproven = confirming(session, now, (Incident.id == incident.id,)).get(incident.id)  # the report's rule
        owns = may_own(session, current_user())  # no Acknowledge or Take over for a login linked to no rep
        # the customer's last answer was NO and nothing since: the Resolved form warns and asks the rep to confirm
        after_no = verbal_warning(session, incident, rep_clock(actor_of(session, current_user()).rep), now)
        return render_template(
            "dashboard/incident.html", d=detail, i=incident, now=now, remaining=left, on_hotline=on_hotline,
            confirming_until=unproven,
            countdown_css="ok" if on_hotline else urgency(left, incident), state=state_of(incident, detail.pages, detail.acknowledged_by, next(
                (detail.rep_names.get(c.rep_id, "a rep") for c in detail.callbacks if c.kind == "self_reported"), ""),
                last_bridged(detail.callbacks, detail.rep_names, detail.events),
                detail.taken_over_at, detail.reached_on_reference, unproven),
            entries=timeline(detail.events, detail.pages, hotline.settings.callback_sla_minutes), max_note=MAX_NOTE_CHARS,
            may_own=owns, not_a_rep="" if owns or incident.status != "open" else NOT_A_REP_NOTE,
            extension=callback_extension(incident, session), after_no=after_no, reopened=reopened_by(session, incident), after_no_field=AFTER_NO_FIELD,
            after_no_label=AFTER_NO_LABEL, company=company_label(incident, session, unknown="", limit=None), **HELPERS)


@bp.post("/incidents/<reference>/acknowledge")
@requires(Role.REP)
def acknowledge(reference: str) -> Response:
    """Acknowledge as the logged-in user."""
    return _act(reference, acknowledge_as)


@bp.post("/incidents/<reference>/take-over")
@requires(Role.REP)
def take_over(reference: str) -> Response:
    """Take the incident over from the rep who owns it (logged; they are told by SMS)."""
    return _act(reference, take_over_as)


@bp.post("/incidents/<reference>/call")
@requires(Role.REP)
def call(reference: str) -> Response:
    """Acknowledge if needed, then have the hotline call the user's phone and bridge them to the customer."""
    return _act(reference, call_customer)


@bp.post("/incidents/<reference>/resolve")
@requires(Role.REP)
def resolve_incident(reference: str) -> Response:
    """Resolve by agreement after a verified contact (who at the customer agreed), or a manager's written reason."""
    settings = current_app.extensions["hotline"].settings
    return _act(reference, lambda *args: resolve_as(*args, settings=settings))


@bp.post("/incidents/<reference>/reopen")
@requires(Role.REP)
def reopen(reference: str) -> Response:
    """Reopen a closed incident, with a written reason (its owner is texted, updates resume, the customer told)."""
    return _act(reference, reopen_as)


@bp.post("/incidents/<reference>/reached")
@requires(Role.REP)
def reached(reference: str) -> Response:
    """No callback number: record how the customer was reached by e-mail (stops the repages)."""
    return _act(reference, record_reached)


@bp.post("/incidents/<reference>/notes")
@requires(Role.REP)
def note(reference: str) -> Response:
    """Add a note to the incident's log."""
    hotline = current_app.extensions["hotline"]
    now = hotline.clock.now()
    try:
        with hotline.db.transaction() as session:
            incident = lock_incident(session, reference)
            if incident is None:
                abort(404)
            add_note(session, incident, current_user().name, request.form.get("text", ""), now)
    except InvalidNote as exc:
        flash(str(exc), "error")
    else:
        flash(f"Note added to incident {reference}.", "message")
    return _back(reference)


def _act(reference: str, action: Callable[..., Answer]) -> Response:
    hotline = current_app.extensions["hotline"]
    now = hotline.clock.now()
    with hotline.db.transaction() as session:  # its unit of work dispatches any jobs after commit
        incident = lock_incident(session, reference)
        if incident is None:
            abort(404)
        result = action(session, incident, current_user(), now, request.form)
    flash(result.message, "message" if result.ok else "error")
    return _back(reference)


def _back(reference: str) -> Response:
    """Back to the page the form was on (only our own two pages: no open redirect)."""
    if request.form.get("back") == "incident":
        return redirect(url_for("incident.show", reference=reference))
    return redirect(url_for("board.show", _anchor=f"inc-{reference}"))
