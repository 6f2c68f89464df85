"""Callers who joined an incident they did not open, giving a contact that is not its own.

Over the per-number limit a caller whose contact is none of the number's open incidents' opens an incident of
their own (``caller_limits.place_report``), its deadline tracked like any other; only beyond a bound per number
and window (MAX_OTHER_CONTACT_INCIDENTS_PER_CALLER) does such a report join the newest open incident of its caller
ID. A caller ID is not an identity: that incident may be an attacker's, spoofing a customer's number and giving
their own callback number. A joining caller whose callback number (or, without one, e-mail address) is not the
incident's is owed a callback of their own: they are told their own deadline, their details are kept on the
join's log line (``contact_differs``, ``callback_due_at``), the reps and managers are told by SMS, and the
board, the incident page and every later page of the incident name them as a different contact to call, whose
deadline the hotline does not track (``UNTRACKED``): no step of its own, no callback counted, no report line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Incident, IncidentEvent, IncidentStatus, Page
from app.services.callback_extensions import callback_extension, phone_with_extension
from app.services.company_label import said_company
from ivr_flows.model import Captured

JOINED_KINDS = ("report_joined", "call_joined")  # the log lines of a report or an ended call that joined
# what reps read of a joined contact's deadline: the hotline keeps none of its steps (``caller_limits.place_report``
# opens an incident of their own instead, up to a bound per number; beyond it, as before it existed, they join)
UNTRACKED = "deadline not tracked (too many incidents from this number)"
NOTICE = "joined_contact"  # the purpose of the SMS that tells the reps (``escalation.decide``'s JOINED_CONTACT)


@dataclass(frozen=True)
class JoinedContact:
    """A contact who joined an incident and is owed a callback by ``due_at`` (what they told us)."""

    at: datetime
    due_at: datetime
    company: str = ""
    contact_name: str = ""
    callback_phone: str = ""
    email: str = ""
    callback_extension: str = ""

    def label(self) -> str:
        """How a page names them: the number with its extension (else the e-mail), then who they said they are."""
        who = ", ".join(v for v in (said_company(self.contact_name), said_company(self.company)) if v)
        number = phone_with_extension(self.callback_phone, self.callback_extension) if self.callback_phone else ""
        return f"{number or self.email}{f' ({who})' if who else ''}"


def contact_differs(incident: Incident, captured: Captured) -> bool:
    """True when a caller joining ``incident`` gave a contact that is not its own: a callback to the incident's
    number (or a message to its e-mail address) would not reach them. Another extension of the same number is
    another person behind a switchboard (an outside probe's fourth colleague, extension 104, joined the incident of
    extension 103 as its own contact: nobody was ever asked to call 104)."""
    if captured.callback_phone:
        return (captured.callback_phone != incident.callback_phone
                or captured.callback_extension != callback_extension(incident))
    return bool(captured.email) and captured.email.lower() != (incident.email or "").lower()


def join_detail(incident: Incident, captured: Captured, now: datetime, sla_minutes: int) -> dict[str, Any]:
    """The part of a join's log line that says whether the caller is a different contact (and their extension, which
    the rest of the line leaves out), and their own deadline."""
    if not contact_differs(incident, captured):
        return {"contact_differs": False}
    return {"contact_differs": True, "callback_due_at": (now + timedelta(minutes=sla_minutes)).isoformat(),
            "callback_extension": captured.callback_extension}


def tell_reps(session: Session, incident: Incident, now: datetime, window_minutes: int, notice_limit: int) -> None:
    """Tell the incident's owner (else its first level) and the managers, as the escalation core decides."""
    from app.escalation import ContactJoined, decide  # the services' modules import this one
    from app.services.decisions import Acting, carry_out
    from app.services.escalation import snapshot

    told = session.scalar(select(func.count(Page.id)).where(
        Page.incident_id == incident.id, Page.purpose == NOTICE,
        Page.created_at >= now - timedelta(minutes=window_minutes))) or 0
    decision = decide(ContactJoined(told_so_far=told, notice_limit=notice_limit), snapshot(session, incident, now), now)
    carry_out(session, incident, decision, now, Acting(actor="system"))


def joined_contacts(session: Session, incident_ids: Iterable[int] | None = None,
                    until: datetime | None = None) -> dict[int, list[JoinedContact]]:
    """Per incident, the different contacts who joined it (first joined first; one per number or address).

    ``incident_ids`` None: every open incident (the board); ``until``: only those joined by then."""
    stmt = select(IncidentEvent.incident_id, IncidentEvent.at, IncidentEvent.detail).where(
        IncidentEvent.kind.in_(JOINED_KINDS))
    if incident_ids is None:
        stmt = stmt.join(Incident, Incident.id == IncidentEvent.incident_id).where(
            Incident.status == IncidentStatus.OPEN)
    else:
        stmt = stmt.where(IncidentEvent.incident_id.in_(list(incident_ids)))
    if until is not None:
        stmt = stmt.where(IncidentEvent.at <= until)
    found: dict[int, list[JoinedContact]] = {}
    for incident_id, at, detail in session.execute(stmt.order_by(IncidentEvent.id)):
        contact = _contact(at, detail or {})
        if contact is None:
            continue
        known = found.setdefault(incident_id, [])
        if all((c.callback_phone, c.callback_extension, c.email)
               != (contact.callback_phone, contact.callback_extension, contact.email) for c in known):
            known.append(contact)
    return found


def contacts_of(incident: Incident, until: datetime | None = None) -> list[JoinedContact]:
    """The different contacts who joined ``incident`` (none when it is not in a session)."""
    from sqlalchemy.orm import object_session

    session = object_session(incident)
    if session is None or incident.id is None:
        return []
    return joined_contacts(session, [incident.id], until).get(incident.id, [])


def _contact(at: datetime, detail: dict[str, Any]) -> JoinedContact | None:
    if not detail.get("contact_differs") or not detail.get("callback_due_at"):
        return None  # the incident's own contact again (or a line written before contacts were compared)
    return JoinedContact(at=at, due_at=datetime.fromisoformat(detail["callback_due_at"]),
                         company=str(detail.get("company") or ""), contact_name=str(detail.get("contact_name") or ""),
                         callback_phone=str(detail.get("callback_phone") or ""), email=str(detail.get("email") or ""),
                         callback_extension=str(detail.get("callback_extension") or ""))
