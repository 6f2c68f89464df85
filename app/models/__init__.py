"""SQLAlchemy models; importing this registers every table on ``Base.metadata``."""

from app.models.api_token import ApiToken
from app.models.base import Base, UTCDateTime
from app.models.call import CallSession, WebhookDelivery
from app.models.directory import OPEN_TICKET_STATUSES, Account, Contact, Ticket, TicketStatus
from app.models.followup import (  # issue 11
    CustomerUpdate,
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    FollowUp,
    FollowUpState,
    ProposalKind,
    ProposalState,
    ResolutionProposal,
)
from app.models.incident import (
    AppendOnlyViolation,
    Incident,
    IncidentEvent,
    IncidentSource,
    IncidentStatus,
)
from app.models.lease import Lease
from app.models.oncall import EscalationPolicy, Override, Rep, Schedule, ScheduleLayer
from app.models.outage import NonCriticalContact, Outage, OutageLink  # issue 11
from app.models.paging import Callback, CallbackKind, CallbackOutcome, Channel, Page, PageStatus
from app.models.step import DueStep, StepKind, StepStatus
from app.models.user import Role, User

__all__ = [
    "Account",
    "ApiToken",
    "AppendOnlyViolation",
    "Base",
    "Callback",
    "CallbackKind",
    "CallbackOutcome",
    "CallSession",
    "Channel",
    "Contact",
    "DueStep",
    "EscalationPolicy",
    "Incident",
    "IncidentEvent",
    "IncidentSource",
    "IncidentStatus",
    "Lease",
    "OPEN_TICKET_STATUSES",
    "Override",
    "Page",
    "PageStatus",
    "Rep",
    "Role",
    "Schedule",
    "ScheduleLayer",
    "StepKind",
    "StepStatus",
    "Ticket",
    "TicketStatus",
    "User",
    "UTCDateTime",
    "WebhookDelivery",
    # issue 11
    "CustomerUpdate",
    "Delivery",
    "DeliveryChannel",
    "DeliveryStatus",
    "FollowUp",
    "FollowUpState",
    "NonCriticalContact",
    "Outage",
    "OutageLink",
    "ProposalKind",
    "ProposalState",
    "ResolutionProposal",
]
