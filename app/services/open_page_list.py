"""What a bare ACK or CALL from a rep with several open pages is answered: which incidents still await an
acknowledgement (with their companies, the most urgent first), which are the rep's own, and how to act on one.

An outside probe's rep texted a bare ACK a second after acknowledging two incidents and read 13 bare reference
numbers mixing his own, colleagues' and unowned incidents; picking one got "already acknowledged by ...". The list is
bounded (a handful named, the rest counted) so that it stays a few SMS segments in the busiest outage."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Incident
from app.models.oncall import Rep
from app.services.company_label import company_label

UNOWNED_NAMED = 4  # incidents awaiting acknowledgement named with their company; the rest counted
OWN_NAMED = 2  # the rep's own incidents named (a bare CALL may mean one); the rest counted
OTHERS_NAMED = 2  # colleagues' incidents named with their owner (the page the rep answers may be one); the rest counted
COMPANY_CHARS = 24  # a long company name is cut: the list must stay short


def several_pages_text(session: Session, rep: Rep, refs: list[str], word: str, command: str) -> str:
    """The answer to a bare ``word`` (``command``: ack or call) from ``rep`` whose open pages are ``refs``."""
    incidents = list(session.scalars(select(Incident).where(Incident.reference.in_(refs))
                                      .order_by(Incident.callback_due_at, Incident.reference)))
    unowned = [i for i in incidents if i.acknowledged_at is None]
    own = [i for i in incidents if i.acknowledged_at is not None and i.acknowledged_by == rep.id]
    others = [i for i in incidents if i not in unowned and i not in own]
    parts = [f"You have several open pages ({len(incidents)})."]
    if unowned:
        parts.append(f"NOT acknowledged, most urgent first: {_named(unowned, UNOWNED_NAMED)}.")
    else:
        parts.append("None awaits an acknowledgement.")
    if own:
        parts.append(f"Yours: {_named(own, OWN_NAMED)}.")
    if others:
        owners = {r.id: r.name for r in session.scalars(select(Rep).where(
            Rep.id.in_({i.acknowledged_by for i in others if i.acknowledged_by is not None})))}
        parts.append(f"Taken by colleagues: {_named(others, OTHERS_NAMED, owners)}.")
    example = (unowned or own or incidents)[0].reference
    verb = "to acknowledge it" if command == "ack" else "to be connected to its customer"
    parts.append(f"Reply {word} and one reference {verb}, e.g. {word} {example}.")
    return " ".join(parts)


def _named(incidents: list[Incident], most: int, owners: dict[int, str] | None = None) -> str:
    """"853423 Hooli, 783715 Vandelay and 3 more": the first ``most`` with their companies (and with ``owners``,
    whose each is: "214113 Initech (Raj)"), the rest counted."""
    def one(i: Incident) -> str:
        owner = f" ({owners.get(i.acknowledged_by or 0, 'another rep')})" if owners is not None else ""
        return f"{i.reference} {_short(company_label(i))}{owner}"

    named = ", ".join(one(i) for i in incidents[:most])
    return f"{named} and {len(incidents) - most} more" if len(incidents) > most else named


def _short(company: str) -> str:
    return company if len(company) <= COMPANY_CHARS else company[:COMPANY_CHARS - 3].rstrip() + "..."
