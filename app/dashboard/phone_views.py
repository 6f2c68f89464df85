"""Simulated phones (admins, simulated telephony only): what each phone received, and answering as it.

Without a Twilio account nothing dials out: pages and callbacks land in the shared
outbox of the dev package. This page lets a newcomer play the rep and the customer in a
browser: reply ACK or CALL, pick up a page and press keys, answer the bridged callback.
Every action is a webhook signed like Twilio's, sent to the app's own Twilio routes.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth.access import requires
from app.models.user import Role

bp = Blueprint("phones", __name__, template_folder="templates")
REPLIES = ("ACK", "CALL")
REFERENCE = re.compile(r"Reply ACK (\S+?)[ .]")  # the incident reference a page SMS asks the rep to quote


def _desk():
    """The phone desk over the shared outbox; 404 unless telephony is simulated."""
    hotline = current_app.extensions["hotline"]
    if not hotline.settings.simulated_telephony:
        abort(404)
    from hotline_sim.outbox import SharedOutboxTelephony  # the dev package: only with simulated telephony
    from hotline_sim.phone import flask_transport
    from hotline_sim.phone_desk import PhoneDesk

    if not isinstance(hotline.telephony, SharedOutboxTelephony):
        abort(404)
    settings = hotline.settings
    return PhoneDesk(hotline.telephony.outbox, flask_transport(current_app.test_client()),
                     settings.public_base_url or "http://localhost", settings.simulated_auth_token(),
                     settings.twilio_number, hotline.clock)


@bp.get("/admin/phones")
@requires(Role.ADMIN)
def phones() -> str:
    """Each simulated phone with the SMS and calls it received, newest first, and what it can do."""
    desk = _desk()
    phones = []
    for number in desk.outbox.phones():
        items = list(reversed(desk.outbox.items(number)))
        codes = [m.group(1) for item in items if item.kind == "sms" for m in [REFERENCE.search(item.body)] if m]
        phones.append((number, items, codes[0] if codes else ""))
    return render_template("dashboard/phones.html", phones=phones, replies=REPLIES)


@bp.post("/admin/phones/reply")
@requires(Role.ADMIN)
def reply() -> Response:
    """Reply from a phone by SMS (e.g. ACK 123456 or CALL 123456)."""
    desk = _desk()
    phone, body = request.form.get("phone", ""), request.form.get("body", "").strip()
    if not phone or not body:
        abort(400)
    answer = desk.reply(phone, body)
    flash(f"{phone} sent {body!r}; the hotline answered: {answer or '(nothing)'}", "ok")
    return redirect(url_for("phones.phones") + f"#phone-{phone.lstrip('+')}")


@bp.post("/admin/phones/calls/<int:item_id>/<action>")
@requires(Role.ADMIN)
def call_action(item_id: int, action: str) -> Response:
    """Answer, decline, press keys on or hang up a simulated call."""
    from hotline_sim.phone_desk import DeskError

    desk = _desk()
    try:
        if action == "answer":
            call = desk.answer(item_id)
        elif action == "decline":
            call = desk.decline(item_id)
        elif action == "press":
            call = desk.press(item_id, request.form.get("digits", "").strip()[:8])
        elif action == "hangup":
            call = desk.hang_up(item_id)
        else:
            abort(404)
    except DeskError as exc:
        flash(str(exc), "error")
        return redirect(url_for("phones.phones"))
    flash(f"Call to {call.phone}: {action} done; it is now {call.status}.", "ok")
    return redirect(url_for("phones.phones") + f"#phone-{call.phone.lstrip('+')}")
