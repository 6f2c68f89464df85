"""Dashboard pages of issue 11: an incident's updates and resolution, known outages, the updates report."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.auth import Role, current_user, requires
from app.dashboard.queries import reached_on_reference
from app.models import (
    CustomerUpdate,
    Delivery,
    FollowUp,
    Incident,
    IncidentEvent,
    Outage,
    OutageLink,
    ProposalKind,
    Rep,
    ResolutionProposal,
)
from app.reports.compliance import range_bounds
from app.reports.params import DATES, INSTANTS, InvalidRange, RangeParams, parse_range
from app.reports.updates import figures_json, update_figures
from app.services import outages as outage_service
from app.services import update_actions
from app.services.acks import lock_incident
from app.services.board_actions import actor_of
from app.services.page_text import rep_clock
from app.services.resolution import AFTER_NO_FIELD, AFTER_NO_LABEL, verbal_warning
from app.services.update_numbers import nth
from app.services.update_rounds import recorded_why
from app.services.update_text import due_text
from app.services.updates import Result, not_agreed_yet

bp = Blueprint("updates", __name__, template_folder="templates")


def _hotline():
    return current_app.extensions["hotline"]


@bp.get("/incidents/<reference>/updates")
@requires(Role.REP)
def show(reference: str) -> str | tuple[str, int]:
    """The incident's update schedule, updates with each delivery, and resolution proposals."""
    hotline = _hotline()
    with hotline.db.session() as session:
        incident = session.scalars(select(Incident).where(Incident.reference == reference)).first()
        if incident is None:
            return render_template("dashboard/not_found.html", reference=reference), 404
        follow_up = session.scalars(select(FollowUp).where(FollowUp.incident_id == incident.id)).first()
        updates = list(session.scalars(select(CustomerUpdate).where(CustomerUpdate.incident_id == incident.id)
                                       .order_by(CustomerUpdate.id)))
        deliveries = list(session.scalars(select(Delivery).where(Delivery.incident_id == incident.id)
                                          .order_by(Delivery.id)))
        proposals = list(session.scalars(select(ResolutionProposal).where(
            ResolutionProposal.incident_id == incident.id).order_by(ResolutionProposal.id)))
        outage_ids = list(session.scalars(select(OutageLink.outage_id).where(OutageLink.incident_id == incident.id)))
        rounds = [u.round for u in updates]  # each update and the one owed next read as the Nth (update_numbers)
        numbers = {u.id: nth(rounds, u.round) for u in updates}
        extras = _why_extra(session, incident.id) if any(numbers[u.id] is None for u in updates) else {}
        next_number = nth(rounds, follow_up.round) if follow_up else None
        now = hotline.clock.now()
        # no schedule yet: whether setting an interval would start it, or only a callback reaching the customer can
        waits_for_callback = follow_up is None and bool(not_agreed_yet(session, incident, now))
        tz = _viewer_clock(session)
        after_no = verbal_warning(session, incident, tz, now)
        return render_template("dashboard/updates.html", i=incident, f=follow_up, updates=updates, numbers=numbers,
                               extras=extras,
                               next_number=next_number, deliveries=deliveries, proposals=proposals, outage_ids=outage_ids,
                               waits_for_callback=waits_for_callback, now=now, after_no=after_no,
                               reached_on=reached_on_reference(session, incident) if follow_up is None else "",
                               after_no_field=AFTER_NO_FIELD, after_no_label=AFTER_NO_LABEL,
                               next_due=due_text(follow_up.next_due_at, tz, now)
                               if follow_up is not None and follow_up.next_due_at else "")


@bp.post("/incidents/<reference>/updates/interval")
@requires(Role.REP)
def set_interval(reference: str) -> Response:
    """Set the update interval agreed with the customer (its owner or a manager: ``update_actions``)."""
    minutes = request.form.get("minutes", "", type=int) or 0
    return _on_incident(reference, lambda s, inc, actor, now: update_actions.set_interval(s, inc, actor, minutes, now))


@bp.post("/incidents/<reference>/updates")
@requires(Role.REP)
def add_update(reference: str) -> Response:
    """Write an update: it goes to the customer by SMS and e-mail (the owner is told when another wrote it)."""
    f = request.form
    return _on_incident(reference, lambda s, inc, actor, now: update_actions.send_update(
        s, inc, actor, now, what_is_wrong=f.get("what_is_wrong", ""),
        expected_resolution=f.get("expected_resolution", ""), workaround=f.get("workaround", "")))


@bp.post("/incidents/<reference>/updates/propose")
@requires(Role.REP)
def propose_resolution(reference: str) -> Response:
    """Propose "resolved" or "workaround provided" to the customer (its owner or a manager)."""
    f = request.form
    kind = ProposalKind.WORKAROUND if f.get("kind") == "workaround" else ProposalKind.RESOLVED
    return _on_incident(reference, lambda s, inc, actor, now: update_actions.propose_resolution(
        s, inc, actor, kind, f.get("summary", ""), now, _hotline().settings))


@bp.post("/incidents/<reference>/updates/verbal")
@requires(Role.REP)
def verbal(reference: str) -> Response:
    """Record that the customer agreed on the phone, and who (its owner or a manager)."""
    f = request.form
    kind = ProposalKind.WORKAROUND if f.get("kind") == "workaround" else ProposalKind.RESOLVED
    return _on_incident(reference, lambda s, inc, actor, now: update_actions.record_agreement(
        s, inc, actor, now, _hotline().settings, who_agreed=f.get("who_agreed", ""), kind=kind,
        note=f.get("note", ""), after_no=f.get(AFTER_NO_FIELD) == "yes"))


def _viewer_clock(session: Session) -> str:
    """The logged-in user's clock: their rep's time zone (UTC for a login linked to no rep), as a page's times."""
    user = current_user()
    return rep_clock(session.get(Rep, user.rep_id) if user.rep_id else None)


def _on_incident(reference: str, action) -> Response:
    hotline = _hotline()
    now = hotline.clock.now()
    with hotline.db.transaction() as session:
        incident = lock_incident(session, reference)
        if incident is None:
            abort(404)
        result: Result = action(session, incident, actor_of(session, current_user()), now)
    flash(result.message, "message" if result.ok else "error")
    return redirect(url_for("updates.show", reference=reference))


# ------------------------------------------------------------------ outages

@bp.get("/outages")
@requires(Role.REP)
def outages() -> str:
    """Declared outages, newest first, with how many incidents each took in; managers declare here."""
    hotline = _hotline()
    with hotline.db.session() as session:
        rows = session.execute(select(Outage, func.count(OutageLink.id)).outerjoin(
            OutageLink, OutageLink.outage_id == Outage.id).group_by(Outage.id)
            .order_by(Outage.declared_at.desc()).limit(100)).all()
        return render_template("dashboard/outages.html", rows=rows, now=hotline.clock.now())


@bp.post("/outages")
@requires(Role.MANAGER)
def declare() -> Response:
    """Declare a known outage: what fails, since when, when the next update comes."""
    hotline, f = _hotline(), request.form
    now = hotline.clock.now()
    what = f.get("what_fails", "").strip()
    try:
        since = _when(f.get("since", ""), now)
        next_update = _when(f.get("next_update_at", ""), now + outage_service.DEFAULT_NEXT_UPDATE)
    except ValueError:
        flash(f"Give times as {WHEN_FORMAT}.", "error")
        return redirect(url_for("updates.outages"))
    if not what:
        flash("Say what fails.", "error")
        return redirect(url_for("updates.outages"))
    service = f.get("affected_service", "").strip().lower()
    # "any" is a choice; a form without one (an old cached page, a script) is refused, not taken for "any": it would
    # link every caller to the outage and propose its resolution to them (a second probe's declaration did)
    if service != "any" and service not in outage_service.OUTAGE_SERVICES:
        flash("Say which service fails: API calls, SMTP injection, both, or any service. Nothing was declared.",
              "error")
        return redirect(url_for("updates.outages"))
    service = "" if service == "any" else service
    with hotline.db.transaction() as session:
        outage = outage_service.declare(session, what_fails=what, what_fails_de=f.get("what_fails_de", ""),
                                        since=since, next_update_at=next_update, by=current_user().name, now=now,
                                        affected_service=service)
    linked = ("whose caller names " + outage_service.service_words(service)) if service else "(every one)"
    flash(f"Outage declared: callers hear about it, new incidents {linked} are linked to it.", "message")
    return redirect(url_for("updates.outage", outage_id=outage.id))


@bp.get("/outages/<int:outage_id>")
@requires(Role.REP)
def outage(outage_id: int) -> str:
    """One outage: its statement, linked incidents, and (managers) the update and resolve forms."""
    hotline = _hotline()
    with hotline.db.session() as session:
        row = session.get(Outage, outage_id)
        if row is None:
            abort(404)
        incidents = list(session.scalars(select(Incident).join(OutageLink, OutageLink.incident_id == Incident.id)
                                         .where(OutageLink.outage_id == outage_id).order_by(Incident.id)))
        statements = {lang: outage_service.update_text.outage_statement(row, lang, now=hotline.clock.now())
                      for lang in ("en-US", "de-DE")}
        return render_template("dashboard/outage.html", o=row, incidents=incidents, statements=statements,
                               now=hotline.clock.now(), service_words=outage_service.service_words,
                               proposed_to=set(session.scalars(select(ResolutionProposal.incident_id).where(
                                   ResolutionProposal.outage_id == outage_id))))


@bp.post("/outages/<int:outage_id>/update")
@requires(Role.MANAGER)
def outage_update(outage_id: int) -> Response:
    """One update for the outage, to every linked customer (German words, when given, to those who chose German)."""
    f = request.form
    try:
        next_update = _when(f.get("next_update_at", ""), None)
    except ValueError:  # never an update promising another time than the one written (it was dropped in silence)
        flash(f"Nothing was sent: give the next update's time as {WHEN_FORMAT}.", "error")
        return redirect(url_for("updates.outage", outage_id=outage_id))
    german = {field: f.get(f"{field}_de", "") for field in ("what_is_wrong", "expected_resolution", "workaround")}
    return _on_outage(outage_id, lambda s, o, now: outage_service.write_outage_update(
        s, o, what_is_wrong=f.get("what_is_wrong", ""), expected_resolution=f.get("expected_resolution", ""),
        workaround=f.get("workaround", ""), by=current_user().name, now=now, next_update_at=next_update,
        german=german))


@bp.post("/outages/<int:outage_id>/resolve")
@requires(Role.MANAGER)
def outage_resolve(outage_id: int) -> Response:
    """End the outage and propose resolution to every linked incident."""
    summary, summary_de = request.form.get("summary", ""), request.form.get("summary_de", "")
    return _on_outage(outage_id, lambda s, o, now: outage_service.resolve_outage(
        s, o, summary=summary, by=current_user().name, now=now, settings=_hotline().settings, summary_de=summary_de))


@bp.post("/outages/<int:outage_id>/link")
@requires(Role.MANAGER)
def outage_link(outage_id: int) -> Response:
    """Link an open incident (opened before the outage was declared) to the outage."""
    reference = request.form.get("reference", "")
    return _on_outage(outage_id, lambda s, o, now: outage_service.link_open_incident(
        s, o, reference, by=current_user().name, now=now))


@bp.post("/outages/<int:outage_id>/unlink")
@requires(Role.MANAGER)
def outage_unlink(outage_id: int) -> Response:
    """Take a wrongly linked incident out of the outage (before its resolution is proposed to it)."""
    reference = request.form.get("reference", "")
    return _on_outage(outage_id, lambda s, o, now: outage_service.unlink_incident(
        s, o, reference, by=current_user().name, now=now))


def _on_outage(outage_id: int, action) -> Response:
    hotline = _hotline()
    now = hotline.clock.now()
    with hotline.db.transaction() as session:
        row = session.get(Outage, outage_id, with_for_update=True)
        if row is None:
            abort(404)
        result: Result = action(session, row, now)
    flash(result.message, "message" if result.ok else "error")
    return redirect(url_for("updates.outage", outage_id=outage_id))


# "2026-12-07 04:00" (UTC), seconds optional, a "T" for the space, and an offset or Z / UTC after it ("+01:00" in a
# query string unencoded arrives as " 01:00"); nothing else: until session 42 whatever followed the minutes (an
# offset, "CET", words) was dropped and the time taken as UTC, so a manager's outage read an hour off to every caller
_WHEN = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\s*(Z|UTC|[+-]\d{2}:?\d{2})|\s+(\d{2}:?\d{2}))?",
                   re.IGNORECASE)
WHEN_FORMAT = "YYYY-MM-DD HH:MM (UTC), or with its offset such as 2026-12-07T05:00+01:00"


def _when(value: str, default: datetime | None) -> datetime | None:
    """A form's or query's time (``_WHEN``) in UTC, or the default when empty; ValueError for anything else."""
    match = _WHEN.fullmatch(value.strip())
    if not value.strip():
        return default
    if match is None:
        raise ValueError(value)
    offset = match[3] or (f"+{match[4]}" if match[4] else "")
    offset = "+00:00" if offset.upper() in ("", "Z", "UTC") else offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"
    try:
        return datetime.fromisoformat(f"{match[1]}T{match[2]}{offset}").astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset: before the first instant UTC can hold
        raise ValueError(value) from None


# ------------------------------------------------------------------ report

@bp.get("/reports/updates")
@requires(Role.MANAGER)
def report() -> str | tuple[str, int]:
    """Update punctuality, time to resolution, confirmed vs unconfirmed, outage-linked, non-critical."""
    start, end, dates, error = _report_range()
    if error:
        return render_template("dashboard/updates_report.html", r=None, start=start, end=end, dates=None,
                               error=error), 400
    overdue_at = min(end, _hotline().clock.now())  # a round due after now is not overdue yet
    with _hotline().db.session() as session:
        figures = update_figures(session, start, end, overdue_at)
    return render_template("dashboard/updates_report.html", r=figures, start=start, end=end, dates=dates,
                           overdue_at=overdue_at)


@bp.get("/reports/updates.json")
@requires(Role.MANAGER)
def report_json() -> Response:
    """The same figures for a script or a spreadsheet (``figures_json``); a bad range is a 400 saying why."""
    start, end, dates, error = _report_range()
    if error:
        return jsonify({"error": error}), 400
    overdue_at = min(end, _hotline().clock.now())
    with _hotline().db.session() as session:
        figures = update_figures(session, start, end, overdue_at)
    response = jsonify(figures_json(figures, start, end, dates, overdue_at=overdue_at))
    response.headers["Cache-Control"] = "no-store"  # the figures of a range still open change
    return response


def _report_range() -> tuple[datetime, datetime, RangeParams | None, str | None]:
    """The report's [from, to) in UTC from the query, the local dates it was asked as (None: as UTC instants), and
    what is wrong with it.

    Either ``from``/``to`` (UTC instants, or with an offset: ``_when``) or the compliance report's ``start``/``end``/
    ``tz`` (local dates of a zone, read by ``parse_range``, the one rule of a report's dates); the last 7 days when
    neither is given. A mix, ``as_of`` (this report is always read as of now) or a value either cannot read is
    refused: until probe G a compliance report's ``start``/``end`` were dropped here without a word, and the last 7
    days shown instead.
    """
    now = _hotline().clock.now()
    asked = {name for name in (*INSTANTS, *DATES, "as_of") if request.args.get(name, "").strip()}
    fallback = now - timedelta(days=7), now, None
    if "as_of" in asked:
        return *fallback, ("The updates report is always as of now: leave as_of out (the compliance report's "
                           "as_of pins its own figures only).")
    if asked & set(INSTANTS) and asked & set(DATES):
        return *fallback, ("Give the range either as start, end and tz (local dates, as the compliance report takes "
                           "them) or as from and to (times in UTC), not both.")
    if asked & set(DATES):
        try:
            dates = parse_range(request.args, now)
        except InvalidRange as exc:
            return *fallback, str(exc)
        return *range_bounds(dates.start, dates.end, dates.tz), dates, None
    try:
        start = _when(request.args.get("from", ""), now - timedelta(days=7))
        end = _when(request.args.get("to", ""), now)
    except ValueError:  # never the figures of another range than the one asked for
        return *fallback, f"From and to must be times as {WHEN_FORMAT}."
    if end <= start:
        return start, end, None, "The range must end after it starts."
    return start, end, None, None


def _why_extra(session: Session, incident_id: int) -> dict[int, str]:
    """Why each of the incident's updates that answered no round is an extra, as its log line records it."""
    lines = session.scalars(select(IncidentEvent.detail).where(IncidentEvent.incident_id == incident_id,
                                                               IncidentEvent.kind == "customer_update_sent"))
    return {d["update_id"]: recorded_why(d.get("extra")) for d in lines if d and d.get("update_id") is not None}
