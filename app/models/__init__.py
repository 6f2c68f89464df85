"""SQLAlchemy models; importing this registers every table on ``Base.metadata``."""

from app.event_kind import EventKind
from app.models.api_token import ApiToken
from app.models.base import Base, UTCDateTime
from app.models.call import CallSession, WebhookDelivery
from app.models.directory import OPEN_TICKET_STATUSES, Account, Contact, Ticket, TicketStatus
from app.models.followup import (  # issue 11
    CustomerUpdate,
    Delivery,
    DeliveryChannel,
    FollowUp,
    FollowUpState,
    ProposalKind,
    ProposalState,
    ResolutionProposal,
    UpdateDeliveryStatus,
)
from app.models.helpdesk import DeliveryStatus, FeedCursor, HelpdeskDelivery
from app.models.incident import (
    AppendOnlyViolation,
    Incident,
    IncidentEvent,
    IncidentSource,
    IncidentStatus,
)
from app.models.lease import Lease
from app.models.live_wait import LiveWait  # issue 13
from app.models.missed_call import MissedCall, Notice, NoticeStatus, UnknownText
from app.models.oncall import EscalationPolicy, Override, Rep, Schedule, ScheduleLayer
from app.models.outage import NonCriticalContact, Outage, OutageLink  # issue 11
from app.models.paging import Callback, CallbackKind, CallbackOutcome, Channel, Page, PageStatus
from app.models.refusal_answer import RefusalAnswer
from app.models.sms_opt_out import SmsOptOut
from app.models.status_lookup import StatusLookup
from app.models.step import DueStep, StepKind, StepStatus
from app.models.user import Role, User, UserSession

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
    "DeliveryStatus",
    "DueStep",
    "EscalationPolicy",
    "EventKind",
    "FeedCursor",
    "HelpdeskDelivery",
    "Incident",
    "IncidentEvent",
    "IncidentSource",
    "IncidentStatus",
    "Lease",
    "LiveWait",
    "MissedCall",
    "Notice",
    "NoticeStatus",
    "UnknownText",
    "OPEN_TICKET_STATUSES",
    "Override",
    "Page",
    "PageStatus",
    "RefusalAnswer",
    "Rep",
    "Role",
    "Schedule",
    "SmsOptOut",
    "StatusLookup",
    "ScheduleLayer",
    "StepKind",
    "StepStatus",
    "Ticket",
    "TicketStatus",
    "User",
    "UserSession",
    "UTCDateTime",
    "WebhookDelivery",
    # issue 11
    "CustomerUpdate",
    "Delivery",
    "DeliveryChannel",
    "UpdateDeliveryStatus",
    "FollowUp",
    "FollowUpState",
    "NonCriticalContact",
    "Outage",
    "OutageLink",
    "ProposalKind",
    "ProposalState",
    "ResolutionProposal",
]

from app.models.report_facts import IncidentFactsRow  # noqa: E402  (the report's derived table)

__all__ += ["IncidentFactsRow"]

# Keeps incident_facts in step with every ORM session's log lines (a Session-class listener).
import app.reports.facts_sync  # noqa: E402,F401
