"""Drive the pure intake flow like a scripted phone call, checking invariants on every step."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ivr_flows import (
    AppendToIncident,
    CallStarted,
    CallState,
    CheckPin,
    Effect,
    Event,
    FlowPolicy,
    Gathered,
    IncidentInfo,
    IncidentSaved,
    LogEvent,
    LookupTicket,
    NoInput,
    PinChecked,
    Recorded,
    SaveIncident,
    Stage,
    Step,
    TicketInfo,
    TicketLookedUp,
    advance,
    question,
)

NOW = datetime(2025, 1, 15, 3, 12, tzinfo=UTC)  # 3:12 a.m. UTC; the deadline is 3:27
US_CALLER = "+12125550100"  # New York: one time zone, 10:12 p.m. EST the day before
DE_CALLER = "+4930123456"  # Berlin
ACME_TICKET = TicketInfo(
    number="4521",
    company="Acme Mail GmbH",
    contact_name="John Smith",
    email="john.smith@example.com",
    phone=US_CALLER,
)
_ANSWERED_BY_SERVICE = (LookupTicket, SaveIncident, AppendToIncident, CheckPin)


def round_trip(state: CallState) -> CallState:
    """A state through JSON and back."""
    return CallState.from_dict(json.loads(json.dumps(state.to_dict())))


@dataclass
class Call:
    """One scripted call: every step is checked for the Step contract and serialisability."""

    caller_id: str = US_CALLER
    ticket: TicketInfo | None = None
    open_incident: IncidentInfo | None = None
    policy: FlowPolicy = field(default_factory=FlowPolicy)
    now: datetime = NOW
    state: CallState | None = None
    steps: list[Step] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.send(CallStarted(self.caller_id, self.policy, self.ticket, self.open_incident))

    def send(self, event: Event) -> Step:
        """Advance the flow with one event and check the step's invariants."""
        step = advance(self.state, event, self.now)
        waits = any(isinstance(e, _ANSWERED_BY_SERVICE) for e in step.effects)
        assert (step.reply is None) == waits, f"reply/effect contract broken at {step.state.stage}"
        assert not [e for e in step.effects if isinstance(e, LogEvent) and e.kind == "flow_error"], step.effects
        assert round_trip(step.state) == step.state
        if step.reply is not None:
            assert step.reply.say, "every reply says something"
            assert all(isinstance(line, str) and line for line in step.reply.say)
            assert step.reply.hangup or step.reply.gather or step.reply.record or step.reply.hand_over, (
                "a reply must ask, record, end or hand the call over")
        self.state = step.state
        self.steps.append(step)
        self.stages.append(step.state.stage)
        return step

    # caller actions
    def press(self, digits: str) -> Step:
        return self.send(Gathered(digits=digits))

    def speak(self, speech: str) -> Step:
        return self.send(Gathered(speech=speech))

    def silence(self) -> Step:
        return self.send(NoInput())

    def record(self, url: str = "https://api.twilio.com/rec/RE1", seconds: int = 42) -> Step:
        return self.send(Recorded(url=url, seconds=seconds))

    # service answers
    def lookup_answer(self, ticket: TicketInfo | None = None, open_incident: IncidentInfo | None = None) -> Step:
        (lookup,) = [e for e in self.steps[-1].effects if isinstance(e, LookupTicket)]
        return self.send(TicketLookedUp(number=lookup.number, ticket=ticket, open_incident=open_incident))

    def saved(self, reference: str = "123456", due: datetime | None = None, joined: bool = False) -> Step:
        due = due or self.now + timedelta(minutes=self.policy.sla_minutes)
        return self.send(IncidentSaved(reference=reference, callback_due_at=due, joined=joined))

    def pin_answer(self, ok: bool, ticket: TicketInfo | None = None, incident: IncidentInfo | None = None) -> Step:
        """The service's answer to the last CheckPin; ``incident``: the open incident the right PIN proves theirs."""
        assert any(isinstance(e, CheckPin) for e in self.steps[-1].effects), "no PIN check pending"
        return self.send(PinChecked(ok=ok, ticket=ticket if ok else None, incident=incident if ok else None))

    # observations
    @property
    def stage(self) -> Stage:
        assert self.state is not None
        return self.state.stage

    @property
    def said(self) -> str:
        """What the caller heard in the last reply."""
        reply = self.steps[-1].reply
        return " ".join(reply.say) if reply else ""

    def effects(self, kind: type) -> list[Effect]:
        """All effects of one type emitted so far."""
        return [e for s in self.steps for e in s.effects if isinstance(e, kind)]

    def logs(self, kind: str) -> list[LogEvent]:
        """LogEvents of one kind emitted so far."""
        return [e for e in self.effects(LogEvent) if e.kind == kind]

    def question(self) -> str:
        assert self.state is not None
        return " ".join(question(self.state, self.now).say)


def run(call: Call, script: list[tuple]) -> Call:
    """Play a table of caller actions: ("press", "1"), ("say", "..."), ("silence",), ("record",)."""
    actions = {"press": call.press, "say": call.speak, "silence": call.silence, "record": call.record}
    for action, *args in script:
        actions[action](*args)
    return call


def silent_until(call: Call, stop: set[Stage], limit: int = 60) -> int:
    """Stay silent until the call reaches one of ``stop``; returns how many silences it took."""
    for n in range(limit):
        if call.stage in stop:
            return n
        call.silence()
    raise AssertionError(f"still at {call.stage} after {limit} silences")
