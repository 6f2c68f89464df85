"""The live board: open Sev-1 incidents and their callback deadlines, most urgent first."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from app.auth import Role, requires
from app.dashboard.display import HELPERS, board_rows
from app.dashboard.queries import board

bp = Blueprint("board", __name__, template_folder="templates")
REFRESH_SECONDS = 30


@bp.get("/board")
@requires(Role.REP)
def show() -> str:
    """Every open incident with its countdown, state, pages and actions."""
    hotline = current_app.extensions["hotline"]
    now = hotline.clock.now()
    with hotline.db.session() as session:
        rows = board_rows(board(session), now)
        return render_template("dashboard/board.html", rows=rows, now=now, refresh=REFRESH_SECONDS, **HELPERS)
