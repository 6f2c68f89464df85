"""``hotline demo``: a scripted Sev-1 call end to end on embedded defaults."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from rq import SimpleWorker
from sqlalchemy import select

from app.migrate import upgrade
from app.models import Incident
from app.services.events import events_of
from app.services.tickets import parse_ticket_input, upsert_ticket
from app.settings import Settings
from app.simulator.console import simulated_call
from app.wiring import Hotline
from workers import context

CALLER = "+14155550100"
SCRIPT = [  # what the caller does, in order
    ("press", "1"),  # English
    ("press", "3"),  # API calls and SMTP injection both failing
    ("press", "1"),  # yes, about ticket 4521
    ("press", "1"),  # company confirmed
    ("press", "1"),  # name confirmed
    ("press", "1"),  # call back on this number
    ("press", "1"),  # e-mail on file is right
    ("say", "Since 2:40 every API call times out with error 500, and SMTP connections are refused."),
    ("record", "40"),
    ("press", "1"),  # all correct
]


def run_demo(data_dir: Path | None = None) -> Incident:
    """Seed a ticket, play the call, run the announce job, print the incident and its log."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="hotline-demo-"))
    settings = Settings(data_dir=data_dir)  # embedded defaults: SQLite, embedded Redis, simulated telephony
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    hotline = Hotline.build(settings)
    _seed(hotline)

    click.secho(f"== A Sev-1 call from {CALLER} (data in {data_dir})", bold=True)
    call = simulated_call(hotline, caller=CALLER)
    call.dial()
    for action, arg in SCRIPT:
        if call.ended:
            break
        {"press": call.press, "say": call.say, "record": lambda s: call.record(int(s))}[action](arg)
    for who, text in call.transcript:
        click.echo(f"  {'hotline' if who == 'hotline' else 'caller '}: {text}")

    context.use(hotline)
    SimpleWorker([hotline.jobs.queue], connection=hotline.jobs.redis).work(burst=True, logging_level="WARNING")

    with hotline.db.session() as session:
        incident = session.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one()
        log = events_of(session, incident)
    click.secho(f"\n== Incident {incident.reference}", bold=True)
    for label, value in [
        ("company", incident.company), ("contact", incident.contact_name),
        ("callback phone", incident.callback_phone), ("e-mail", incident.email),
        ("affected service", incident.affected_service), ("ticket", incident.ticket_number),
        ("problem", incident.problem_text), ("recording", f"{incident.recording_seconds} s"),
        ("received at", incident.received_at.isoformat()), ("callback due", incident.callback_due_at.isoformat()),
    ]:
        click.echo(f"  {label:>16}: {value}")
    click.secho("\n== Event log", bold=True)
    for event in log:
        detail = ", ".join(f"{k}={v}" for k, v in event.detail.items() if v not in ("", None, [], {}))
        click.echo(f"  {event.at:%H:%M:%S}  {event.actor:<8} {event.kind:<20} {detail[:90]}")
    hotline.db.dispose()
    return incident


def _seed(hotline: Hotline) -> None:
    with hotline.db.transaction() as session:
        data = parse_ticket_input({
            "number": "4521", "company": "Acme Mail Inc", "contact_name": "Dana Smith",
            "contact_email": "dana.smith@acme.example", "contact_phone": CALLER,
            "subject": "Sending API returns 500",
        })
        upsert_ticket(session, data, hotline.clock.now())
