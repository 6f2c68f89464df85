"""``/healthz``: database and Redis reachability."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when SQL and Redis answer, 503 otherwise (with which one failed)."""
    hotline = current_app.extensions["hotline"]
    checks: dict[str, str] = {}
    try:
        with hotline.db.session() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not swallowed
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        hotline.jobs.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {type(exc).__name__}"
    watchdog = None
    if checks["database"] == "ok":
        from app.services import leases

        with hotline.db.session() as session:
            watchdog = leases.status(session, leases.WATCHDOG, hotline.clock.now())
        checks["watchdog"] = "ok" if watchdog["alive"] else "not running"
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "degraded", checks=checks, watchdog=watchdog), 200 if ok else 503
