"""The live board: open Sev-1 incidents and their callback deadlines, most urgent first."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for

from app.auth import Role, current_user, requires
from app.auth.csrf import csrf_field
from app.dashboard.board_html import rows_html
from app.dashboard.display import HELPERS
from app.dashboard.missed_call_views import WINDOW as MISSED_WINDOW
from app.dashboard.queries import board
from app.services import leases
from app.services.board_actions import NOT_A_REP_NOTE, may_own
from app.services.missed_calls import unanswered_texts_since, unreachable_since
from app.services.paging_health import paging_health
from app.services.put_off_steps import WARN_AFTER, put_off_now
from app.webhook_refusals import Refused, refused_lately

# The dashboard's stylesheet and script are files under static/ (the Content-Security-Policy allows no inline ones).
bp = Blueprint("board", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/dashboard")
REFRESH_SECONDS = 30
_SLOT = "__reference__"


@bp.get("/board")
@requires(Role.REP)
def show() -> str:
    """Every open incident with its countdown, state, pages and actions."""
    return _render("dashboard/board.html")


@bp.get("/board/rows")
@requires(Role.REP)
def rows() -> str:
    """The board's warnings and rows, for the page's in-place live update (keeps focus and scroll position)."""
    return _render("dashboard/_board_live.html")


def _render(template: str) -> str:
    hotline = current_app.extensions["hotline"]
    now = hotline.clock.now()
    with hotline.db.session() as session:
        rows = board(session, now)
        # the warnings above the rows, with every live update too (a board left open is where they are seen)
        unreachable = unreachable_since(session, now - MISSED_WINDOW)
        # texts nobody answered (the hourly cap): a customer's Sev-1 by SMS must not go unseen
        unanswered_texts = unanswered_texts_since(session, now - MISSED_WINDOW)
        # nobody to send pages, run escalations or place callbacks: the rows' "paged" would be believed
        no_watchdog = not leases.status(session, leases.WATCHDOG, now)["alive"]
        # Twilio failing every page (the rule /healthz's "paging" reads): the rows' pages are not reaching anyone
        paging = paging_health(session, now)
        failing = paging if paging.state == "failing" else None
        # due steps waiting on a locked incident: /healthz counts them (it answers anyone), the board names them
        put_off = put_off_now(session, now)
        owns = may_own(session, current_user())  # no Acknowledge or Take over for a login linked to no rep
    refused = _refused_webhooks(hotline)
    field = csrf_field()  # one token per page: the page's shared form and the few per-row forms reuse it
    incident_url = url_for("incident.show", reference=_SLOT).replace(_SLOT, "{}")
    return render_template(template, rows=rows, rows_html=rows_html(rows, now, incident_url, field, owns), now=now,
                           refresh=REFRESH_SECONDS, unreachable=unreachable, unanswered_texts=unanswered_texts,
                           sla_minutes=hotline.settings.callback_sla_minutes, no_watchdog=no_watchdog,
                           paging_failing=failing, refused_webhooks=refused,
                           steps_put_off=put_off if put_off.count else None,
                           put_off_seconds=int(WARN_AFTER.total_seconds()), not_a_rep="" if owns else NOT_A_REP_NOTE,
                           **HELPERS,
                           csrf_field=lambda: field)


def _refused_webhooks(hotline) -> list[Refused]:
    """Twilio's webhooks refused on their signature lately (``app.webhook_refusals``): callers hear an error."""
    try:
        return refused_lately(hotline.jobs.redis, hotline.jobs.name)
    except Exception:  # noqa: BLE001 - Redis down: /healthz says so; the board still shows its rows
        return []
