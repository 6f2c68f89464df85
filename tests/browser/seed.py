"""Realistic data for the browser tests: reps, users, open and past incidents."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

from sqlalchemy import select

from app.models import CallSession, DueStep, Incident, Page, PageStatus, Rep, StepStatus
from app.oncall.records import parse_rep, parse_schedule
from app.services.acks import Actor, acknowledge
from app.services.callbacks import confirm_person, customer_leg_status, open_callback
from app.services.incidents import save_incident
from app.services.oncall_admin import create_rep, save_schedule
from app.services.pages import move_status
from app.services.steps import run_step
from app.services.users import create_user
from app.wiring import Hotline
from ivr_flows.model import AffectedService, Captured, Lang, SaveIncident

PASSWORD = "correct horse battery staple"
USERS = {"rep": "alice@hotline.example", "manager": "maria@hotline.example", "admin": "root@hotline.example"}
CUSTOMERS = [  # (minutes before now, company, contact, phone, service, story)
    (-300, "Initech Mail", "Peter Gibbons", "+14155550181", AffectedService.API, "met"),
    (-240, "Hooli Send", "Gavin Belson", "+14155550182", AffectedService.SMTP, "late"),
    (-180, "Globex Mailers", "Hank Scorpio", "+14155550183", AffectedService.BOTH, "nobody"),
    (-8, "Acme Mail Inc", "Dana Smith", "+14155550100", AffectedService.BOTH, "acknowledged"),
    (-1, "Umbrella Post", "Alice Abernathy", "+14155550184", AffectedService.API, "paged"),
]


def seed(hotline: Hotline) -> None:
    """Reps, a primary schedule, one user per role, and five incidents in different states."""
    clock = hotline.clock
    now = clock.now()
    with hotline.db.transaction() as s:
        alice = create_rep(s, parse_rep({"name": "Alice Primary", "phone": "+14155550111"}))
        create_rep(s, parse_rep({"name": "Maria Manager", "phone": "+14155550133", "is_manager": True}))
        save_schedule(s, parse_schedule({"name": "primary", "time_zone": "America/Los_Angeles", "layers": [
            {"rotation": "weekly", "handoff_time": "09:00", "handoff_weekday": "mon", "starts_on": "2026-11-02",
             "members": ["Alice Primary"]}]}), now)
        create_user(s, USERS["rep"], "Alice Primary", PASSWORD, "rep", now, rep_name="Alice Primary")
        create_user(s, USERS["manager"], "Maria Manager", PASSWORD, "manager", now, rep_name="Maria Manager")
        create_user(s, USERS["admin"], "Root Admin", PASSWORD, "admin", now)
        alice_id = alice.id
    for minutes, company, contact, phone, service, story in CUSTOMERS:
        t0 = now + timedelta(minutes=minutes)
        clock.set(t0)
        incident_id = _open(hotline, t0, company, contact, phone, service)
        _play(hotline, incident_id, t0, story, alice_id, now)
    clock.set(now)


def _open(hotline, t0, company, contact, phone, service) -> int:
    with hotline.db.transaction() as s:
        call = CallSession(call_sid=f"CA{abs(hash((company, t0))) % 10**30:030d}", from_number=phone, state={},
                           status="completed", started_at=t0 - timedelta(minutes=2), updated_at=t0)  # call over
        s.add(call)
        s.flush()
        captured = Captured(affected_service=service, company=company, contact_name=contact, callback_phone=phone,
                            email=f"{contact.split()[0].lower()}@{company.split()[0].lower()}.example",
                            problem_text="Every API call times out with error 500 since 02:40 UTC.")
        incident = save_incident(s, call, SaveIncident(captured, Lang.EN, phone, t0), t0, 15)
        return incident.id


def _run_due(hotline, incident_id, until) -> None:
    while True:
        with hotline.db.transaction() as s:
            step = s.scalars(select(DueStep).where(DueStep.incident_id == incident_id,
                                                   DueStep.status == StepStatus.PENDING, DueStep.due_at <= until)
                             .order_by(DueStep.due_at)).first()
            if step is None:
                return
            hotline.clock.set(max(step.due_at, hotline.clock.now()))
            run_step(s, step.id, hotline.clock.now())
            for page in s.scalars(select(Page).where(Page.incident_id == incident_id, Page.status == "queued")):
                page.sent_at = hotline.clock.now()
                page.twilio_sid = f"SM{page.id:032d}"
                move_status(page, PageStatus.DELIVERED if page.channel == "sms" else PageStatus.NO_ANSWER,
                            hotline.clock.now())


def _play(hotline, incident_id, t0, story, alice_id, now) -> None:
    ack_at = {"met": 2, "late": 4, "acknowledged": 1}.get(story)
    answered_at = {"met": 4, "late": 17}.get(story)
    _run_due(hotline, incident_id, t0 + timedelta(minutes=ack_at if ack_at is not None else 0))
    if ack_at is not None:
        with hotline.db.transaction() as s:
            incident = s.get(Incident, incident_id)
            acknowledge(s, incident, Actor("Alice Primary", "voice", s.get(Rep, alice_id)), t0 + timedelta(minutes=ack_at))
    if answered_at is not None:
        _run_due(hotline, incident_id, t0 + timedelta(minutes=answered_at - 1))
        with hotline.db.transaction() as s:
            incident = s.get(Incident, incident_id)
            at = t0 + timedelta(minutes=answered_at)
            callback = open_callback(s, incident, alice_id, at - timedelta(seconds=40), rep_call_sid="CA" + "1" * 32)
            customer_leg_status(s, callback.id, "answered", format_datetime(at), "CA" + "2" * 32, at)
            confirm_person(s, callback.id, at)
    _run_due(hotline, incident_id, min(now, t0 + timedelta(minutes=21)))
