"""The simulated-phones page in Chromium: a page reaches the rep, the rep presses keys, replies ACK and CALL,
and answering the bridged call as the customer meets the callback — with a real worker sending from the shared outbox."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app import create_app
from app.clock import SystemClock
from app.models import Callback, CallbackOutcome, CallSession, Incident
from app.oncall.records import parse_rep, parse_schedule
from app.queue import JobQueue
from app.services.incidents import save_incident
from app.services.oncall_admin import create_rep, save_schedule
from app.services.users import create_user
from app.settings import Settings
from app.wiring import Hotline
from hotline_sim.clock import FakeClock
from hotline_sim.outbox import SharedOutboxTelephony
from ivr_flows.model import AffectedService, Captured, Lang, SaveIncident
from tests.browser.conftest import log_in
from tests.browser.seed import PASSWORD

ADMIN = "root@hotline.example"
REP_PHONE, CUSTOMER_PHONE = "+14155550111", "+14155550100"


@pytest.fixture
def desk_live(tmp_path):
    """The hotline with simulated telephony on a local port: (base_url, hotline, run_worker)."""
    from redis import Redis

    from app.migrate import upgrade
    from tests.conftest import REDIS_URL
    from workers.runner import run_worker

    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'hotline.db'}",
                        queue_name=f"phones-{uuid.uuid4().hex[:8]}")
    upgrade(settings.resolved_database_url)
    redis = Redis.from_url(REDIS_URL)
    # a clock the story moves by hand where a person would take time (a conversation), as the scripted tests do
    clock = FakeClock(SystemClock().now())
    hotline = Hotline.build(settings, clock=clock, jobs=JobQueue(redis, settings.queue_name))
    assert isinstance(hotline.telephony, SharedOutboxTelephony)  # what `serve` and `worker` use without Twilio
    now = clock.now()
    with hotline.db.transaction() as s:
        create_rep(s, parse_rep({"name": "Alice Primary", "phone": REP_PHONE}))
        save_schedule(s, parse_schedule({"name": "primary", "time_zone": "UTC", "layers": [
            {"rotation": "daily", "handoff_time": "00:00", "starts_on": "2026-01-01", "members": ["Alice Primary"]}]}), now)
        create_user(s, ADMIN, "Root Admin", PASSWORD, "admin", now)
    server = make_server("127.0.0.1", 0, create_app(hotline), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def work() -> None:
        # a separate hotline, as `hotline worker` is a separate process: it shares only the files
        worker = Hotline.build(settings, clock=clock, jobs=JobQueue(redis, settings.queue_name))
        run_worker(worker, burst=True)
        worker.db.dispose()

    yield f"http://127.0.0.1:{server.server_port}", hotline, work
    server.shutdown()
    hotline.db.dispose()
    redis.flushdb()  # the jobs and workers of the story (the database is this test process's)
    redis.close()


def _open_incident(hotline: Hotline) -> tuple[int, str]:
    now = hotline.clock.now()
    with hotline.db.transaction() as s:
        call = CallSession(call_sid="CA" + uuid.uuid4().hex, from_number=CUSTOMER_PHONE, state={},
                           status="completed", started_at=now, updated_at=now)  # the intake call is over
        s.add(call)
        s.flush()
        captured = Captured(affected_service=AffectedService.API, company="Acme Mail Inc", contact_name="Dana Smith",
                            callback_phone=CUSTOMER_PHONE, email="dana@acme.example",
                            problem_text="Every API call times out since 02:40 UTC.")
        incident = save_incident(s, call, SaveIncident(captured, Lang.EN, CUSTOMER_PHONE, now), now, 15)
        ids = incident.id, incident.reference
    return ids  # its due steps' jobs were dispatched when the transaction committed


def _click(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_a_newcomer_plays_rep_and_customer_through_page_ack_and_callback(desk_live, page):
    base_url, hotline, work = desk_live
    incident_id, reference = _open_incident(hotline)
    work()  # the worker runs the first escalation step and sends the SMS and voice page into the shared outbox

    log_in(page, base_url, ADMIN, PASSWORD)
    page.click("text=Simulated phones")
    rep = page.locator(f"#phone-{REP_PHONE.lstrip('+')}")
    assert f"Reply ACK {reference}" in rep.locator(".item.sms").first.inner_text()
    assert rep.locator(".item.call .status").first.inner_text() == "ringing"

    # the voice page: pick up, hear the menu, press 9 to hear it again
    _click(page, f"#phone-{REP_PHONE.lstrip('+')} .item.call button:has-text('Answer')")
    rep = page.locator(f"#phone-{REP_PHONE.lstrip('+')}")
    said = rep.locator(".item.call .said").first.inner_text()
    assert "Press 1" in said
    _click(page, f"#phone-{REP_PHONE.lstrip('+')} .item.call button:has-text('Press 9')")
    assert "[pressed 9]" in page.locator(f"#phone-{REP_PHONE.lstrip('+')} .item.call .said").first.inner_text()
    _click(page, f"#phone-{REP_PHONE.lstrip('+')} .item.call button:has-text('Hang up')")

    # ACK by SMS
    _click(page, f"#phone-{REP_PHONE.lstrip('+')} button:has-text('Reply ACK {reference}')")
    assert "the hotline answered" in page.locator(".flash.ok").inner_text()
    with hotline.db.session() as s:
        assert s.get(Incident, incident_id).acknowledged_at is not None

    # CALL by SMS: the worker has the hotline call the rep, who is bridged to the customer
    _click(page, f"#phone-{REP_PHONE.lstrip('+')} button:has-text('Reply CALL {reference}')")
    work()
    page.reload()
    ringing = f"#phone-{REP_PHONE.lstrip('+')} .item.call:has(.status:text-is('ringing'))"
    _click(page, f"{ringing} button:has-text('Answer')")
    rep_call = f"#phone-{REP_PHONE.lstrip('+')} .item.call:has(.status:text-is('in-progress'))"
    assert "Press any key to call the customer" in page.locator(f"{rep_call} .said").first.inner_text()
    assert f"(dialling {CUSTOMER_PHONE})" not in page.locator(f"{rep_call} .said").first.inner_text()
    # the rep's key proves a person has the hotline's call (a voicemail never presses one): only then is it dialled
    _click(page, f"{rep_call} button:has-text('Press 1')")
    assert f"(dialling {CUSTOMER_PHONE})" in page.locator(f"#phone-{REP_PHONE.lstrip('+')} .item.call .said").first.inner_text()
    customer = f"#phone-{CUSTOMER_PHONE.lstrip('+')}"
    _click(page, f"{customer} .item.call button:has-text('Answer')")
    assert "This is the Severity-1 hotline calling about your incident" in page.locator(
        f"{customer} .item.call .said").first.inner_text()
    # a person, not a voicemail: the customer presses a key before the legs are connected
    _click(page, f"{customer} .item.call button:has-text('Press 1')")
    hotline.clock.advance(seconds=40)  # they talk (the minimum conversation is counted from the key press)
    _click(page, f"{customer} .item.call button:has-text('Hang up')")
    assert "The call with the customer has ended" in page.locator(
        f"#phone-{REP_PHONE.lstrip('+')} .item.call .said").first.inner_text()

    with hotline.db.session() as s:
        callback = s.scalars(select(Callback).where(Callback.incident_id == incident_id)).one()
        assert callback.outcome == CallbackOutcome.MET
    page.goto(f"{base_url}/incidents/{reference}")
    assert "met" in page.locator("body").inner_text().lower()


def test_the_page_is_for_admins_and_only_with_simulated_telephony(desk_live, tmp_path):
    base_url, hotline, _ = desk_live
    app = create_app(Hotline.build(hotline.settings.with_overrides(twilio_account_sid="AC" + "0" * 32,
                                                                   twilio_auth_token="t", twilio_number="+15005550006"),
                                   jobs=hotline.jobs))
    with app.test_client() as client:
        client.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": _csrf(client)})
        assert client.get("/admin/phones").status_code == 404
        board = client.get("/board")
        assert board.status_code == 200 and b"Log out Root Admin" in board.data
        assert b"Simulated phones" not in board.data


def _csrf(client) -> str:
    import re

    html = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
