"""Admin page for customer accounts' support PINs (issue 9): set or remove, never shown."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.auth.access import current_user, requires
from app.models import Account
from app.models.user import Role
from app.services.support_pin import InvalidPin, clear_pin, is_locked, set_pin

log = logging.getLogger(__name__)
bp = Blueprint("accounts", __name__, template_folder="templates")


@bp.get("/admin/accounts")
@requires(Role.ADMIN)
def accounts() -> str:
    """Every customer account, whether it has a support PIN, and a form to set or remove it."""
    hotline = current_app.extensions["hotline"]
    now = hotline.clock.now()
    with hotline.db.session() as db:
        rows = [{"id": a.id, "name": a.name, "has_pin": bool(a.support_pin_hash), "locked": is_locked(a, now)}
                for a in db.scalars(select(Account).order_by(Account.name))]
    return render_template("dashboard/accounts.html", accounts=rows)


@bp.post("/admin/accounts/<int:account_id>/pin")
@requires(Role.ADMIN)
def change_pin(account_id: int) -> Response:
    """Set (or, with ``remove``, clear) an account's support PIN."""
    hotline = current_app.extensions["hotline"]
    remove = bool(request.form.get("remove"))
    with hotline.db.transaction() as db:
        account = db.get(Account, account_id)
        if account is None:
            flash("No such account.", "error")
            return redirect(url_for("accounts.accounts"))
        try:
            clear_pin(account) if remove else set_pin(account, request.form.get("pin", ""))
        except InvalidPin as exc:
            flash(f"Support PIN for {account.name} not changed: it {exc}.", "error")
            return redirect(url_for("accounts.accounts"))
        name = account.name
    user = current_user()
    log.info("support PIN %s for account %s by user %s", "removed" if remove else "set", account_id,
             user.id if user else None)
    flash(f"Support PIN {'removed' if remove else 'set'} for {name}.", "ok")
    return redirect(url_for("accounts.accounts"))
