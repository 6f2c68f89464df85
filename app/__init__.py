"""Flask app factory: wiring only."""

from __future__ import annotations

from flask import Flask

from app.wiring import Hotline


def create_app(hotline: Hotline | None = None) -> Flask:
    """Build the Flask app around a wired ``Hotline`` (built from the environment if None)."""
    hotline = hotline or Hotline.build()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = hotline.settings.signing_key()
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions["hotline"] = hotline

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

    from app.dashboard import register as register_dashboard

    register_dashboard(app)
    return app
