"""Twilio SMS webhooks."""

from app.sms.routes import bp

__all__ = ["bp"]
