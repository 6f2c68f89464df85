"""Twilio voice webhooks: thin views over the intake service."""

from app.voice.routes import bp

__all__ = ["bp"]
