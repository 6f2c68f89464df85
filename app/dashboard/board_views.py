"""The live board: open Sev-1 incidents and their callback deadlines, most urgent first."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from app.auth import Role, requires
from app.dashboard.display import HELPERS, board_rows
from app.dashboard.queries import board

# The dashboard's stylesheet and script are files under static/ (the Content-Security-Policy allows no inline ones).
bp = Blueprint("board", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/dashboard")
REFRESH_SECONDS = 30


@bp.get("/board")
@requires(Role.REP)
def show() -> str:
    """Every open incident with its countdown, state, pages and actions."""
    return _render("dashboard/board.html")


@bp.get("/board/rows")
@requires(Role.REP)
def rows() -> str:
    """Only the board's rows, for the page's in-place live update (keeps focus and scroll position)."""
    return _render("dashboard/_board_rows.html")


def _render(template: str) -> str:
    hotline = current_app.extensions["hotline"]
    now = hotline.clock.now()
    with hotline.db.session() as session:
        found = board_rows(board(session), now)
        return render_template(template, rows=found, now=now, refresh=REFRESH_SECONDS, **HELPERS)
