"""``hotline demo``: a Sev-1 call end to end on embedded defaults, with a simulated phone network.

SQLite and an embedded Redis in a temporary data dir; the real Twilio client talks to
a simulated Twilio on a local port; scripted phones play the on-call rep and the
customer; the clock is simulated so rings and pauses take no real time.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from sqlalchemy import func, select

from app import create_app
from app.embedded_redis import stop_embedded
from app.migrate import upgrade
from app.models import Callback, Incident, IncidentEvent, Page
from app.oncall.records import parse_rep, parse_schedule
from app.services.events import events_of
from app.services.oncall_admin import save_rep, save_schedule
from app.services.tickets import parse_ticket_input, upsert_ticket
from app.settings import Settings
from app.telephony.twilio import TwilioTelephony
from app.wiring import Hotline
from hotline_sim import demo_updates
from hotline_sim.backoffice import settle, stand_in_for_worker
from hotline_sim.clock import FakeClock
from hotline_sim.network import PhoneNetwork
from hotline_sim.phone import SimulatedCall, flask_transport
from hotline_sim.twilio_api import SimulatedTwilio
from hotline_sim.twilio_spec import default_spec_path
from workers import context

CALLER = "+14155550100"
REP = "+14155550111"
HOTLINE_NUMBER = "+15005550006"
PUBLIC_URL = "https://hotline.demo"
RESUME_MARGIN = timedelta(minutes=10)  # past the last send slot a run on the same data dir booked
SCRIPT = [  # what the caller does, in order
    ("press", "1"),  # English
    ("press", "3"),  # API calls and SMTP injection both failing
    ("press", "4521"),  # the ticket number, keyed
    ("press", "2468"),  # the account's support PIN: now the flow may offer what the ticket knows
    ("press", "1"),  # company confirmed
    ("press", "1"),  # name confirmed
    ("press", "1"),  # call back on this number
    ("press", "1"),  # e-mail on file is right
    ("say", "Since 2:40 every API call times out with error 500, and SMTP connections are refused."),
    ("record", "40"),
    ("press", "1"),  # all correct
    ("press", "1"),  # issue 13: no engineer yet, so wait on the line while the hotline pages one
]


def run_demo(data_dir: Path | None = None) -> Incident:
    """Call, page, acknowledgement, bridged callback; print the story and the incident's log.

    Without ``data_dir`` the demo keeps its data in a temporary folder, removed when it ends
    (after its embedded redis-server has stopped), however it ends.
    """
    if data_dir is None:
        with tempfile.TemporaryDirectory(prefix="hotline-demo-") as temporary:
            return _run(Path(temporary))
    return _run(data_dir)


def _run(data_dir: Path) -> Incident:
    data_dir.mkdir(parents=True, exist_ok=True)
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    spec = default_spec_path()
    with SimulatedTwilio(spec_path=spec, validate=spec.is_file(), clock=clock) as twilio:
        settings = twilio.configure(Settings(data_dir=data_dir, public_base_url=PUBLIC_URL), number=HOTLINE_NUMBER)
        upgrade(settings.resolved_database_url)
        hotline = Hotline.build(settings, clock=clock, telephony=TwilioTelephony(settings, timeout_seconds=5))
        try:
            _resume_after_last_run(hotline, clock)
            return _story(hotline, twilio, settings, clock)
        finally:
            hotline.db.dispose()
            context.use(None)
            stop_embedded(hotline.jobs.redis)  # the demo's embedded redis-server must not outlive it


def _resume_after_last_run(hotline: Hotline, clock: FakeClock) -> None:
    """Start the simulated clock after everything an earlier run on this ``--data-dir`` logged.

    That run's clock moved hours ahead (updates, resolution), and its send slots are still booked in the
    data dir's Redis at those times: a clock that went back would see every SMS put off until then.
    """
    with hotline.db.session() as session:
        last = session.scalar(select(func.max(IncidentEvent.at)))
    if last is not None and last + RESUME_MARGIN > clock.now():
        clock.set(last + RESUME_MARGIN)


def _story(hotline: Hotline, twilio: SimulatedTwilio, settings: Settings, clock: FakeClock) -> Incident:
    """The scripted call, the back office and the report (see ``run_demo``)."""
    context.use(hotline)
    _seed(hotline)
    stand_in_for_worker(hotline)  # the back office below is the worker: the caller is offered the live wait
    client = create_app(hotline).test_client()
    network = PhoneNetwork(twilio, flask_transport(client), settings.twilio_auth_token,
                           app_base_url=PUBLIC_URL, clock=clock)
    customer = network.phone(CALLER).expect_sms("we have your report").expect_sms("has taken your incident")
    rep = network.phone(REP).expect_sms("SEV1")
    # issue 11: press 2 to connect, then 1 for updates every 30 min; issue 13: the caller is still on the line,
    # so the rep's leg takes them out of the queue (no call out to the customer)
    demo_updates.expect_interval_key(rep, customer)

    click.secho(f"== 1. A Sev-1 call from {CALLER}  (data in {settings.data_dir}; simulated clock and phones)", bold=True)
    call = SimulatedCall(transport=flask_transport(client), base_url=PUBLIC_URL,
                         auth_token=settings.twilio_auth_token, caller=CALLER, to=HOTLINE_NUMBER, queues=twilio.queues)
    call.dial()
    for action, arg in SCRIPT:
        {"press": call.press, "say": call.say, "record": lambda s: call.record(int(s))}[action](arg)
    settle(hotline, network)  # the page leaves; the rep answers it while the caller holds
    for who, text in call.transcript:
        click.echo(f"  {'hotline' if who == 'hotline' else 'caller '}: {text}")
    incident = _report(hotline, call.call_sid, rep, customer)
    demo_updates.tell_updates(hotline, network, clock, incident.id, REP, CALLER)  # issue 11
    network.verify()
    return incident


def _report(hotline: Hotline, call_sid: str, rep, customer) -> Incident:
    with hotline.db.session() as session:
        incident = session.scalars(select(Incident).where(Incident.call_sid == call_sid)).one()
        pages = list(session.scalars(select(Page).where(Page.incident_id == incident.id).order_by(Page.id)))
        callback = session.scalars(select(Callback).where(Callback.incident_id == incident.id)).first()
        log = events_of(session, incident)
    t0 = incident.captured_at

    def at(when: datetime | None) -> str:
        return f"T+{(when - t0).total_seconds():>4.0f}s" if when else "   -   "

    click.secho(f"\n== 2. Incident {incident.reference}: {incident.company}, callback due "
                f"{incident.callback_due_at:%H:%M:%S} UTC", bold=True)
    for page in pages:
        click.echo(f"  {at(page.sent_at)}  {page.purpose:<10} {page.channel:<5} to {page.name} ({page.to_number}): "
                   f"{page.status}")
    click.secho("\n== 3. The on-call rep's phone", bold=True)
    click.echo(f"  SMS: {rep.sms[0]}")
    click.echo(f"  call: heard \"{rep.calls[0].heard[:160]}...\" and pressed {', '.join(rep.calls[0].pressed)}")
    click.secho("\n== 4. The customer's phone", bold=True)
    for body in customer.sms:
        click.echo(f"  SMS: {body}")
    for call in customer.calls:
        click.echo(f"  call from {call.from_}: heard \"{call.heard}\"")
    if not customer.calls:
        click.echo("  no call back: the customer was connected live on the call they made (issue 13)")
    click.secho("\n== 5. Result", bold=True)
    if callback and callback.answered_at:
        seconds = (callback.answered_at - t0).total_seconds()
        live = callback.customer_call_sid == incident.call_sid
        how = ("connected live when Twilio took the caller out of the queue at {} UTC" if live
               else "customer answered at {} UTC by Twilio's timestamp").format(f"{callback.answered_at:%H:%M:%S}")
        click.secho(f"  callback {callback.outcome} in {seconds:.0f} s ({how}; deadline "
                    f"{incident.callback_due_at:%H:%M:%S})",
                    fg="green" if callback.outcome == "met" else "red")
    click.secho("\n== 6. Event log", bold=True)
    for event in log:
        detail = ", ".join(f"{k}={v}" for k, v in event.detail.items() if v not in ("", None, [], {}))
        click.echo(f"  {at(event.at)}  {event.actor[:14]:<14} {event.kind:<26} {detail[:70]}")
    return incident


def _seed(hotline: Hotline) -> None:
    today = hotline.clock.now().date() - timedelta(days=1)
    with hotline.db.transaction() as session:
        upsert_ticket(session, parse_ticket_input({
            "number": "4521", "company": "Acme Mail Inc", "contact_name": "Dana Smith",
            "contact_email": "dana.smith@acme.example", "contact_phone": CALLER, "subject": "Sending API returns 500",
            "support_pin": "2468",
        }), hotline.clock.now())
        # save, not create: a second run on the same --data-dir finds them there (and resets them to the script's)
        save_rep(session, parse_rep({"name": "Riley On-Call", "phone": REP}))
        save_rep(session, parse_rep({"name": "Morgan Manager", "phone": "+14155550133", "is_manager": True}))
        save_schedule(session, parse_schedule({
            "name": "primary", "time_zone": "UTC",
            "layers": [{"rotation": "daily", "handoff_time": "00:00", "starts_on": today.isoformat(),
                        "members": ["Riley On-Call"]}]}), hotline.clock.now())
