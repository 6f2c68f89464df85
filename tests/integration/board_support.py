"""Helpers for the dashboard page tests: a logged-in user, incidents, pages, and a small HTML tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser

from app.models import Channel, Incident, PageStatus, Rep, Role, User
from app.oncall.contactable import Contactable
from app.services.events import log_event
from app.services.pages import queue_page
from tests.integration.dashboard_support import login, make_user

CSRF = "t"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def login_as(client, hotline, role: Role = Role.REP, name: str = "Rita Rep", rep_id: int | None = None) -> User:
    """Create a user (linked to rep ``rep_id``), log in through the real form, and fix the CSRF token to ``CSRF``."""
    rep_name = None
    if rep_id is not None:
        with hotline.db.session() as session:
            rep_name = session.get(Rep, rep_id).name
    user = make_user(hotline, role, name=name, rep_name=rep_name)
    login(client, user.email)
    with client.session_transaction() as s:
        s["csrf_token"] = CSRF
    return user


def make_rep(hotline, name: str = "Alice", phone: str = "+4930901820") -> int:
    """A rep who can be paged and called."""
    with hotline.db.transaction() as session:
        rep = Rep(name=name, phone=phone)
        session.add(rep)
        session.flush()
        return rep.id


def make_incident(hotline, reference: str = "123456", captured_at: datetime | None = None, **fields) -> int:
    """An open incident captured ``captured_at`` (3 minutes ago by default), logged as the intake would."""
    captured = captured_at or hotline.clock.now() - timedelta(minutes=3)
    values = {"reference": reference, "company": "Acme Mail GmbH", "contact_name": "Dana Smith",
              "callback_phone": "+14155552671", "email": "dana@acme.example", "affected_service": "smtp",
              "problem_text": "All mail bounces", "caller_id": "+14155552671",
              "received_at": captured - timedelta(minutes=2), "captured_at": captured,
              "callback_due_at": captured + timedelta(minutes=15)} | fields
    with hotline.db.transaction() as session:
        incident = Incident(**values)
        session.add(incident)
        session.flush()
        log_event(session, at=captured, actor="ivr", kind="incident_opened", incident_id=incident.id,
                  detail={"reference": reference, "source": "ivr",
                          "callback_due_at": incident.callback_due_at.isoformat(), "missing": []})
        return incident.id


def page(hotline, incident_id: int, name: str, rep_id: int | None, channel: Channel, status: PageStatus,
         phone: str = "+4930901820") -> int:
    """A page queued through the paging service, then moved to ``status`` as Twilio would report."""
    now = hotline.clock.now()
    with hotline.db.transaction() as session:
        incident = session.get(Incident, incident_id)
        who = Contactable(rep_id=rep_id, name=name, phone=phone, channels=(channel.value,), role="oncall:primary")
        row = queue_page(session, incident, who, channel, "page", now)
        row.status = status
        if status not in (PageStatus.QUEUED, PageStatus.SENDING, PageStatus.CANCELED):
            row.sent_at = now  # a status Twilio reports is of a page it accepted
        log_event(session, at=now, actor="twilio", kind="page_status", incident_id=incident_id,
                  detail={"page_id": row.id, "channel": channel.value, "status": status.value, "applied": True})
        return row.id


def paged(hotline, incident_id: int, *rep_ids: int) -> None:
    """Each rep was paged for the incident (an SMS Twilio delivered): the dashboard lets them act on it, as SMS and
    the page's keys do (``acks.allowed``)."""
    with hotline.db.session() as session:
        reps = [session.get(Rep, rep_id) for rep_id in rep_ids]
    for rep in reps:
        page(hotline, incident_id, rep.name, rep.id, Channel.SMS, PageStatus.DELIVERED, phone=rep.phone)


@dataclass
class Node:
    """An HTML element with its attributes, children and text."""

    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        """All text inside, whitespace collapsed."""
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return " ".join(" ".join(parts).split())

    def find_all(self, tag: str | None = None, id: str | None = None, cls: str | None = None) -> list[Node]:
        """Descendants matching every given criterion, in document order."""
        found = []
        for child in self.children:
            if isinstance(child, str):
                continue
            if ((tag is None or child.tag == tag) and (id is None or child.attrs.get("id") == id)
                    and (cls is None or cls in child.attrs.get("class", "").split())):
                found.append(child)
            found += child.find_all(tag, id, cls)
        return found

    def find(self, tag: str | None = None, id: str | None = None, cls: str | None = None) -> Node:
        """The first match; fails the test when there is none."""
        found = self.find_all(tag, id, cls)
        assert found, f"no <{tag or '*'} id={id} class={cls}>"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(response) -> Node:
    """The response body as a tree."""
    builder = _Builder()
    builder.feed(response.get_data(as_text=True))
    return builder.root
