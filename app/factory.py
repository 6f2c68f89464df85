"""The Flask app factory: wiring only (``from app import create_app`` imports it lazily)."""

from __future__ import annotations

import logging

from flask import Flask

from app.wiring import Hotline

log = logging.getLogger(__name__)


def create_app(hotline: Hotline | None = None) -> Flask:
    """Build the Flask app around a wired ``Hotline`` (built from the environment if None)."""
    if hotline is None:
        from app.startup import hotline_from_environment

        hotline = hotline_from_environment()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = hotline.settings.signing_key()
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions["hotline"] = hotline
    from app.webhook_refusals import RefusalWatch

    app.extensions["webhook_refusals"] = RefusalWatch()  # this process's view of refused webhooks (the hot path's)
    from app import db_time_limit

    db_time_limit.install(app)  # first: every later hook's and view's database work is within the limit
    if hotline.clock_sync is not None:  # on the reference clock: read in a thread, at most every REFRESH_SECONDS
        app.before_request(hotline.clock_sync.lazily)

    if hotline.settings.trust_proxy_headers:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)

    from app.ack_link import bp as ack_link_bp
    from app.api import bp as api_bp
    from app.health import bp as health_bp
    from app.sms import bp as sms_bp
    from app.voice import bp as voice_bp
    from app.voice.bridge import bp as bridge_bp
    from app.voice.page_routes import bp as page_voice_bp

    for blueprint in (voice_bp, page_voice_bp, bridge_bp, sms_bp, ack_link_bp, api_bp, health_bp):
        app.register_blueprint(blueprint)

    from app.resolution_link import bp as resolution_link_bp  # issue 11
    from app.voice.update_routes import bp as updates_voice_bp  # issue 11

    app.register_blueprint(resolution_link_bp)
    app.register_blueprint(updates_voice_bp)

    from app.voice.queue_routes import bp as live_voice_bp  # issue 13: live connect

    app.register_blueprint(live_voice_bp)

    from app.dashboard import register as register_dashboard

    register_dashboard(app)
    _harden(app, hotline)

    from app.health import register_schema_guard

    register_schema_guard(app)
    return app


def _harden(app: Flask, hotline: Hotline) -> None:
    """Issue 9: security headers, hostile JSON and NUL input, the cookie's Secure flag, log redaction, proxy warning."""
    from app import input_guard, json_guard, logging_redact, security_headers  # noqa: I001
    from app.auth.cookie import SchemeAwareSessionInterface

    security_headers.install(app)
    json_guard.install(app)
    input_guard.install(app)
    app.session_interface = SchemeAwareSessionInterface()
    settings = hotline.settings
    logging_redact.install(secrets=(settings.twilio_auth_token, settings.twilio_auth_token_secondary,
                                    settings.signing_key()))
    if hotline.settings.trust_proxy_headers and not hotline.settings.public_base_url:
        log.warning("TRUST_PROXY_HEADERS is on but PUBLIC_BASE_URL is not set: Twilio signatures are checked "
                    "against a URL built from client-supplied X-Forwarded-* headers; set PUBLIC_BASE_URL")
