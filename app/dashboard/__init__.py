"""The web dashboard: live board for reps, compliance reports for managers, admin pages.

Server-rendered (Jinja), light on JavaScript, readable on a phone. Every view checks
the role on the server; every form carries a CSRF token.
"""

from __future__ import annotations

from flask import Flask

from app.auth.access import current_user
from app.auth.csrf import check_csrf, csrf_field, csrf_token


def register(app: Flask) -> None:
    """Register the dashboard's blueprints, CSRF check, template globals and cookie policy."""
    from app.auth.views import bp as auth_bp
    from app.dashboard.account_views import bp as accounts_bp
    from app.dashboard.admin_views import bp as admin_bp
    from app.dashboard.board_views import bp as board_bp
    from app.dashboard.incident_views import bp as incident_bp
    from app.dashboard.missed_call_views import bp as missed_calls_bp
    from app.dashboard.oncall_views import bp as oncall_bp
    from app.dashboard.phone_views import bp as phones_bp
    from app.dashboard.report_views import bp as report_bp
    from app.dashboard.updates_views import bp as updates_bp  # issue 11

    blueprints = (auth_bp, board_bp, incident_bp, report_bp, oncall_bp, admin_bp, missed_calls_bp, accounts_bp,
                  phones_bp, updates_bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    names = frozenset(bp.name for bp in blueprints)
    app.extensions["dashboard_blueprints"] = names  # its error pages apply to these only

    @app.before_request
    def _csrf() -> None:
        from flask import request

        if request.blueprint in names:
            check_csrf()
    app.jinja_env.globals.update(csrf_field=csrf_field, csrf_token=csrf_token, current_user=current_user)
    app.jinja_env.globals["simulated_phones"] = app.extensions["hotline"].settings.simulated_telephony
    secure = app.extensions["hotline"].settings.public_base_url.startswith("https://")
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=secure,
                      PERMANENT_SESSION_LIFETIME=12 * 3600)
