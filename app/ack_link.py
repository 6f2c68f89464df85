"""Signed, expiring acknowledgement links (from the SMS page), for a phone's browser."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template_string, request

from app.models import Incident, IncidentStatus, Page
from app.services.acks import acknowledge, connect, page_actor
from app.services.callback_extensions import callback_extension, phone_with_extension
from app.services.company_label import company_label
from app.services.ownership import owned_words, ownership
from app.services.page_text import due_text, reach_in_writing
from app.services.page_urls import BadAckLink, PageUrls, page_zone
from app.services.row_locks import lock_incident

bp = Blueprint("ack_link", __name__)

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sev-1 {{ ref }}</title>
<link rel="stylesheet" href="{{ url_for('static', filename='ack.css') }}">
</head><body><h1>Sev-1 {{ ref }}</h1><p>{{ message }}</p>
{% if owner %}<p class="owner">{{ owner }}</p>{% endif %}
{% if form == "take_over" %}<form method="post">
<p><button type="submit" name="action" value="call">Take it over and call me now: I will be connected to the customer</button></p>
</form>{% elif form == "owner" %}<form method="post">
<p><button type="submit" name="action" value="call">Call me now: I will be connected to the customer</button></p>
</form>{% elif form %}<form method="post"><p><button type="submit" name="action" value="ack">Acknowledge</button></p>
<p><button type="submit" name="action" value="call">Acknowledge and call me now: I will be connected to the customer</button></p>
</form>{% endif %}</body></html>"""


def _page(token: str):
    hotline = current_app.extensions["hotline"]
    page_id = PageUrls(hotline.settings).page_of_link(token, hotline.clock.now())
    return hotline, page_id


@bp.get("/ack/<token>")
def show(token: str) -> Response | tuple[str, int]:
    """Show the incident and an Acknowledge button (a GET never acknowledges: link scanners fetch links)."""
    try:
        hotline, page_id = _page(token)
    except BadAckLink as exc:
        return render_template_string(PAGE, ref="", message=f"{exc}. Nothing was changed.", form=False), 410
    with hotline.db.session() as session:
        page = session.get(Page, page_id)
        incident = session.get(Incident, page.incident_id) if page else None
        if incident is None:
            return render_template_string(PAGE, ref="", message="Unknown page. Nothing was changed.", form=False), 404
        if incident.status != IncidentStatus.OPEN:  # nothing left to do: the customer's details stay unshown
            return render_template_string(PAGE, ref=incident.reference, form=False,
                                          message=f"Incident {incident.reference} is closed. Nothing to do."), 410
        # The POST's guard, before any detail is shown: a rep deactivated since the page (they left the team, the
        # SMS is still on their phone) or a page that reached no rep sees neither the company nor the number.
        _actor, allowed = page_actor(session, page, incident, "link", hotline.clock.now())
        if not allowed:
            return render_template_string(PAGE, ref=incident.reference, form=False,
                                          message="This link can no longer act on this incident. Nothing was "
                                                  "changed."), 403
        due = due_text(incident.callback_due_at, page_zone(page), hotline.clock.now())
        company = company_label(incident, session, unknown="Unknown company", limit=None)
        if incident.callback_phone:
            phone = phone_with_extension(incident.callback_phone, callback_extension(incident, session))
            message = f"{company}: call back {phone} by {due}."
        else:
            message = f"{company}: {reach_in_writing(incident)} by {due}."
        owner, form = _owned(session, incident, page, hotline.clock.now())
        return render_template_string(PAGE, ref=incident.reference, message=message, owner=owner, form=form)


def _owned(session, incident: Incident, page: Page, now) -> tuple[str, str | bool]:
    """Who has the incident and what the link offers: nobody yet, both buttons; the page's own rep, to be connected;
    another rep, who and since when, and taking it over by being connected (as "CALL" by SMS or 2 on the voice page
    do: an outside probe's link offered "Acknowledge" with no word of the rep who had it)."""
    own = ownership(session, incident, "someone else")
    if own is None:
        return "", True

    def clock(when):
        return due_text(when, page_zone(page), now)

    if incident.acknowledged_by is not None and incident.acknowledged_by == page.rep_id:  # after a take-over, its time
        return f"{owned_words(own, clock, form='yours')}.", "owner"
    return f"Already {owned_words(own, clock)}. You need do nothing, or take it over:", "take_over"


@bp.post("/ack/<token>")
def acknowledge_link(token: str) -> Response | tuple[str, int]:
    """Acknowledge the incident of the link's page, as the rep it was sent to."""
    try:
        hotline, page_id = _page(token)
    except BadAckLink as exc:
        return render_template_string(PAGE, ref="", message=f"{exc}. Nothing was changed.", form=False), 410
    now = hotline.clock.now()
    with hotline.db.transaction() as session:  # its unit of work dispatches any jobs after commit
        page = session.get(Page, page_id)
        if page is None:
            return render_template_string(PAGE, ref="", message="Unknown page. Nothing was changed.", form=False), 404
        incident = lock_incident(session, page.incident_id)
        actor, _allowed = page_actor(session, page, incident, "link", now)  # the services apply the guard
        if request.form.get("action") == "call":
            result = connect(session, incident, actor, now)
        else:
            result = acknowledge(session, incident, actor, now)
    return render_template_string(PAGE, ref=incident.reference, message=result.message, form=False), (200 if result.ok else 409)
