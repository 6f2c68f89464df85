"""A hotline wired to a simulated Twilio over HTTP, scripted phones per person, and a fake clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Incident
from app.oncall.records import parse_rep, parse_schedule
from app.queue import JobQueue
from app.services.incidents import rescue_call
from app.services.intake import policy_from
from app.services.oncall_admin import create_rep, save_schedule
from app.telephony.twilio import TwilioTelephony
from app.wiring import Hotline
from hotline_sim.backoffice import settle
from hotline_sim.network import PhoneNetwork
from hotline_sim.phone import SimulatedCall, flask_transport
from hotline_sim.scripted_phone import ScriptedPhone
from hotline_sim.twilio_api import SimulatedTwilio
from tests.conftest import PUBLIC_BASE_URL, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from tests.integration.twilio_support import twilio_spec_path
from workers import context

CUSTOMER = "+14155550100"
ALICE, BOB, MARIA = "+14155550111", "+14155550122", "+14155550133"
REPS = [
    {"name": "Alice Primary", "phone": ALICE, "time_zone": "America/Los_Angeles"},
    {"name": "Bob Secondary", "phone": BOB},
    {"name": "Maria Manager", "phone": MARIA, "is_manager": True},
]
SCHEDULES = [
    {"name": "primary", "time_zone": "America/Los_Angeles",
     "layers": [{"rotation": "weekly", "handoff_time": "09:00", "handoff_weekday": "mon", "starts_on": "2026-11-02",
                 "members": ["Alice Primary"]}]},
    {"name": "secondary", "time_zone": "America/Los_Angeles",
     "layers": [{"rotation": "weekly", "handoff_time": "09:00", "handoff_weekday": "mon", "starts_on": "2026-11-02",
                 "members": ["Bob Secondary"]}]},
]


@pytest.fixture
def twilio(clock):
    """The simulated Twilio REST API, on a real local HTTP port."""
    with SimulatedTwilio(spec_path=twilio_spec_path(), account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN,
                         clock=clock) as server:
        yield server
        assert server.spec_violations == [], "requests Twilio's API description does not allow"


@pytest.fixture
def hotline(settings, clock, redis_conn, twilio):
    """A hotline whose real Twilio client talks to the simulated Twilio."""
    configured = twilio.configure(settings)
    h = Hotline.build(configured, clock=clock, jobs=JobQueue(redis_conn, configured.queue_name),
                      telephony=TwilioTelephony(configured, timeout_seconds=0.5))
    with h.db.transaction() as session:
        for rep in REPS:
            create_rep(session, parse_rep(rep))
        for schedule in SCHEDULES:
            save_schedule(session, parse_schedule(schedule), clock.now())
    context.use(h)
    yield h
    context.use(None)
    h.db.dispose()


class Desk:
    """Runs the hotline's back office against scripted phones: watchdog, worker, network."""

    def __init__(self, hotline: Hotline, client, network: PhoneNetwork, clock) -> None:
        self.hotline, self.client, self.network, self.clock = hotline, client, network, clock
        self.t0 = clock.now()

    def settle(self) -> None:
        """Do everything due now, until nothing moves."""
        settle(self.hotline, self.network)

    def run(self, fn):
        """``fn(session, now)`` in one transaction, then do what is due: its jobs leave on the unit of work after
        commit, as a view's do. Returns what ``fn`` returned."""
        with self.hotline.db.transaction() as session:
            result = fn(session, self.hotline.clock.now())
        self.settle()
        return result

    def at(self, minutes: float = 0, seconds: float = 0) -> None:
        """Move the clock to T0 + the given time and do what is due."""
        self.clock.set(self.t0 + timedelta(minutes=minutes, seconds=seconds))
        self.settle()

    def open_incident(self, caller: str = CUSTOMER) -> Incident:
        """A customer calls, completes the intake and hangs up at the offer; returns the incident."""
        return self.intake(caller)[0]

    def intake(self, caller: str = CUSTOMER, callback_number: str = "",
               company: str = "Acme Mail") -> tuple[Incident, dict[str, str]]:
        """The intake of ``open_incident``; with ``callback_number``, the caller speaks that number instead of
        the one they call from; ``company``: the name the caller says. Returns the incident and what the caller heard: the number read back
        (``"number"``, only with ``callback_number``) and the closing words (``"closing"``)."""
        call = SimulatedCall(transport=flask_transport(self.client), base_url=PUBLIC_BASE_URL,
                             auth_token=TEST_AUTH_TOKEN, caller=caller)
        heard = {}
        call.dial()
        call.press("1")
        call.press("1")  # API calls failing
        call.press("#")  # no ticket
        call.say(company)
        call.say("Dana Smith")
        if callback_number:
            call.press("2")  # not the number I call from
            heard["number"] = " ".join(call.say(callback_number).said)
        call.press("1")  # call back on this number
        call.say("dana at acme dot example")
        call.press("1")
        call.say("Every API call returns 500.")
        call.record(seconds=5)
        heard["closing"] = " ".join(call.press("1").said)  # the details are confirmed: the live connection is offered
        call.hang_up()  # "or hang up and we will call you back" (while the call lasts, a callback waits for its end)
        with self.hotline.db.session() as session:
            return session.scalars(select(Incident).where(Incident.call_sid == call.call_sid)).one(), heard

    def acknowledged_by_alice(self, network: PhoneNetwork) -> tuple[Incident, ScriptedPhone]:
        """A customer's incident that Alice, paged first, acknowledges by SMS at T0; returns it and her phone."""
        network.phone(CUSTOMER).expect_sms("we have your report").expect_sms("has taken your incident")
        alice = network.phone(ALICE).expect_sms("SEV1", reply="ACK").expect_call(answer=False)
        alice.expect_sms("Acknowledged")
        incident = self.open_incident()
        self.settle()
        return incident, alice

    def email_only_incident(self) -> Incident:
        """A caller with a withheld number who left only an e-mail address."""
        with self.hotline.db.transaction() as s:
            incident = rescue_call(s, call_sid="CA" + "e" * 32, from_number="+266696687", now=self.clock.now(),
                                   reason="caller_hung_up", policy=policy_from(self.hotline.settings))
            incident.email = "dana@acme.example"
            return incident

    def unanswered_until_minute_3(self, network: PhoneNetwork) -> tuple[Incident, ScriptedPhone]:
        """Nobody acknowledges Alice's first page (SMS and call); at 3 minutes she is called again and Bob paged.
        Returns the incident and the customer's phone (its receipt expected)."""
        customer = network.phone(CUSTOMER).expect_sms("we have your report")
        alice = network.phone(ALICE).expect_sms("SEV1").expect_call(answer=False)
        incident = self.open_incident()
        self.settle()
        alice.expect_call(answer=False)
        network.phone(BOB).expect_sms("SEV1").expect_call(answer=False)
        self.at(minutes=3)
        return incident, customer

    def breached_unanswered(self, network: PhoneNetwork) -> tuple[Incident, ScriptedPhone]:
        """Nobody acknowledges through the breach (Alice, Bob, then Maria paged; AT RISK; BREACHED at 15 minutes, the
        customer texted the apology). Returns the incident and the customer's phone."""
        incident, customer = self.unanswered_until_minute_3(network)
        network.phone(MARIA).expect_sms("SEV1").expect_call(answer=False)
        self.at(minutes=6)
        for number in (ALICE, BOB, MARIA):
            network.phone(number).expect_sms("AT RISK")
        self.at(minutes=10)
        network.phone(MARIA).expect_sms("BREACHED").expect_call(answer=False)
        customer.expect_sms("have not reached you")  # the deadline passed: the customer is told, with an apology
        self.at(minutes=15)
        return incident, customer

    def called_back_late_by_alice(self, network: PhoneNetwork) -> tuple[Incident, ScriptedPhone]:
        """As ``breached_unanswered``; at 16 minutes Alice replies CALL and the customer answers the bridged call.
        Returns the incident and the customer's phone."""
        incident, customer = self.breached_unanswered(network)
        alice = network.phone(ALICE)
        customer.expect_sms("has taken your incident").expect_call(press="1", answered=True)
        alice.expect_call()
        from tests.paging.test_acknowledgement import _sms_from

        self.clock.set(self.t0 + timedelta(minutes=16))
        assert "Calling you now" in _sms_from(self, ALICE, f"CALL {incident.reference}").get_data(as_text=True)
        self.settle()
        return incident, customer

    def incident(self, incident_id: int) -> Incident:
        """The incident as it is now."""
        with self.hotline.db.session() as session:
            return session.get(Incident, incident_id)


@pytest.fixture
def network(twilio, client, clock):
    """Scripted phones; any SMS or call nobody expected fails the test."""
    net = PhoneNetwork(twilio, flask_transport(client), TEST_AUTH_TOKEN, app_base_url=PUBLIC_BASE_URL, clock=clock)
    yield net
    net.verify()


@pytest.fixture
def desk(hotline, client, network, clock):
    """The back office, started at the fake clock's now (T0)."""
    return Desk(hotline, client, network, clock)
