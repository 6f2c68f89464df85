"""SQLAlchemy models; importing this registers every table on ``Base.metadata``."""

from app.models.api_token import ApiToken
from app.models.base import Base, UTCDateTime
from app.models.call import CallSession, WebhookDelivery
from app.models.directory import OPEN_TICKET_STATUSES, Account, Contact, Ticket, TicketStatus
from app.models.incident import (
    AppendOnlyViolation,
    Incident,
    IncidentEvent,
    IncidentSource,
    IncidentStatus,
)
from app.models.step import DueStep, StepKind, StepStatus

__all__ = [
    "Account",
    "ApiToken",
    "AppendOnlyViolation",
    "Base",
    "CallSession",
    "Contact",
    "DueStep",
    "Incident",
    "IncidentEvent",
    "IncidentSource",
    "IncidentStatus",
    "OPEN_TICKET_STATUSES",
    "StepKind",
    "StepStatus",
    "Ticket",
    "TicketStatus",
    "UTCDateTime",
    "WebhookDelivery",
]
