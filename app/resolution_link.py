"""The signed link in a proposal e-mail: the customer confirms or rejects the resolution in a browser."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template_string, request

from app.models import Incident, ProposalState, ResolutionProposal
from app.services import update_text
from app.services.resolution import BadResolutionLink, decide, proposal_of_link

bp = Blueprint("resolution_link", __name__)

PAGE = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sev-1 {{ ref }}</title>
<link rel="stylesheet" href="{{ url_for('board.static', filename='dashboard.css') }}">
</head><body><main><h1>Sev-1 {{ ref }}</h1><p role="status">{{ message }}</p>
{% if form %}<form method="post">
<p><button type="submit" name="answer" value="confirm">{{ yes }}</button></p>
<p><button type="submit" name="answer" value="reject">{{ no }}</button></p></form>{% endif %}</main></body></html>"""
BUTTONS = {"de-DE": ("Ja, das Problem ist gelöst", "Nein, das Problem besteht weiter"),
           "en-US": ("Yes, it is resolved", "No, the problem goes on")}


def _render(incident: Incident | None, message: str, form: bool, status: int = 200) -> tuple[str, int]:
    lang = incident.language if incident is not None else "en-US"
    yes, no = BUTTONS.get(lang, BUTTONS["en-US"])
    return render_template_string(PAGE, lang=lang[:2], ref=incident.reference if incident else "", message=message,
                                  form=form, yes=yes, no=no), status


@bp.get("/resolution/<token>")
def show(token: str) -> tuple[str, int]:
    """Show the proposal and two buttons (a GET never decides: mail scanners fetch links)."""
    hotline = current_app.extensions["hotline"]
    try:
        proposal_id = proposal_of_link(hotline.settings, token)
    except BadResolutionLink as exc:
        return _render(None, f"{exc}.", False, 410)
    with hotline.db.session() as session:
        proposal = session.get(ResolutionProposal, proposal_id)
        incident = session.get(Incident, proposal.incident_id) if proposal else None
        if incident is None:
            return _render(None, "Unknown proposal.", False, 404)
        if proposal.state != ProposalState.PROPOSED:
            return _render(incident, update_text.answered_before(incident, proposal.state), False, 410)
        return _render(incident, update_text.proposal_sms(incident, proposal).split(". ")[0] + ".", True)


@bp.post("/resolution/<token>")
def answer(token: str) -> Response | tuple[str, int]:
    """Confirm or reject the proposal the link was made for."""
    hotline = current_app.extensions["hotline"]
    try:
        proposal_id = proposal_of_link(hotline.settings, token)
    except BadResolutionLink as exc:
        return _render(None, f"{exc}.", False, 410)
    choice = request.form.get("answer", "")
    if choice not in ("confirm", "reject"):
        return _render(None, "Choose confirm or reject.", False, 400)
    now = hotline.clock.now()
    with hotline.db.transaction() as session:
        proposal = session.get(ResolutionProposal, proposal_id, with_for_update=True)
        if proposal is None:
            return _render(None, "Unknown proposal.", False, 404)
        incident = session.get(Incident, proposal.incident_id)
        result = decide(session, proposal, confirmed=choice == "confirm", via="link",
                        who=incident.contact_name or "customer (e-mail link)", now=now)
    return _render(incident, result.message, False, 200 if result.ok else 409)
