"""Twilio's call queues, simulated: ``<Enqueue>`` with a polled waitUrl, and ``<Dial><Queue>`` taking a caller out.

Parameters and results follow Twilio's TwiML reference: the waitUrl request carries
QueueSid, QueueTime, QueuePosition, CurrentQueueSize, AvgQueueTime and MaxQueueSize; the
``<Queue url>`` request on the dequeued caller's leg carries QueueSid, QueueTime and
DequeingCallSid; the ``<Enqueue action>`` carries QueueResult (bridged, hangup, leave, ...),
QueueSid and QueueTime. Every request is signed like Twilio's (through the caller's call).
The waitUrl is requested again once its document has played: each ``<Play>`` lasts
``play_seconds`` of the (fake) clock, a ``<Say>`` 150 words a minute, a ``<Pause>`` its length.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from app.clock import Clock
from hotline_sim.twilio_records import new_sid

if TYPE_CHECKING:
    from hotline_sim.phone import SimulatedCall

Record = Callable[[str, dict[str, str], int, str], None]  # url, params, status, body: the network's log
WAIT_VERBS = {"Play", "Say", "Pause", "Hangup", "Redirect", "Leave", "Gather"}
QUEUE_URL_VERBS = {"Play", "Say", "Pause", "Redirect"}
MAX_QUEUE_SIZE = 100
MAX_REDIRECTS = 5  # <Redirect>s followed inside one <Queue url> document chain


@dataclass
class QueueMember:
    """A call waiting in a queue."""

    call: SimulatedCall
    name: str
    queue_sid: str
    action: str
    wait_url: str
    enqueued_at: datetime
    next_poll_at: datetime


class CallQueues:
    """The account's queues, created on demand by ``<Enqueue>``."""

    def __init__(self, clock: Clock, play_seconds: float = 60) -> None:
        self.clock = clock
        self.play_seconds = play_seconds
        self.failures: list[str] = []
        self.record: Record = lambda url, params, status, body: None  # the network logs what it sees
        self._members: dict[str, list[QueueMember]] = {}
        self._sids: dict[str, str] = {}
        self._waited: list[float] = []  # seconds each dequeued caller waited (AvgQueueTime)

    # ------------------------------------------------------------ membership

    def enqueue(self, call: SimulatedCall, name: str, action: str, wait_url: str) -> QueueMember:
        """The call joins queue ``name`` (its waitUrl is requested at the next poll)."""
        sid = self._sids.setdefault(name, new_sid("QU"))
        now = self.clock.now()
        member = QueueMember(call, name, sid, action, wait_url, now, now)
        self._members.setdefault(name, []).append(member)
        return member

    def member_of(self, call: SimulatedCall) -> QueueMember | None:
        """The queue entry of ``call``, if it waits."""
        return next((m for ms in self._members.values() for m in ms if m.call is call), None)

    def queue_sid(self, name: str) -> str:
        """The SID of queue ``name`` (created on demand)."""
        return self._sids.setdefault(name, new_sid("QU"))

    def waiting(self, name: str) -> list[QueueMember]:
        """Who waits in queue ``name``, first first."""
        return list(self._members.get(name, []))

    def _remove(self, member: QueueMember) -> None:
        self._members[member.name].remove(member)

    def queue_time(self, member: QueueMember) -> int:
        """Whole seconds ``member`` has waited."""
        return int((self.clock.now() - member.enqueued_at).total_seconds())

    # ------------------------------------------------------------ Twilio's requests

    def poll_due(self) -> int:
        """Request the waitUrl of every member whose last wait document has played; returns how many."""
        due = [m for ms in self._members.values() for m in ms if m.next_poll_at <= self.clock.now()]
        for member in due:
            self._poll(member)
        return len(due)

    def _poll(self, member: QueueMember) -> None:
        queue = self._members[member.name]
        params = {"QueueSid": member.queue_sid, "QueueTime": str(self.queue_time(member)),
                  "QueuePosition": str(queue.index(member) + 1), "CurrentQueueSize": str(len(queue)),
                  "AvgQueueTime": str(int(sum(self._waited) / len(self._waited)) if self._waited else 0),
                  "MaxQueueSize": str(MAX_QUEUE_SIZE)}
        root = self._document(member, member.wait_url, params, WAIT_VERBS)
        if root is None:
            member.next_poll_at = self.clock.now() + timedelta(seconds=self.play_seconds)
            return
        seconds = 0.0
        for verb in root:
            if verb.tag == "Leave":
                self._leave(member, "leave")
                return
            if verb.tag == "Hangup":
                self._leave(member, "hangup")
                member.call.end()
                return
            seconds += self._duration(verb)
        member.next_poll_at = self.clock.now() + timedelta(seconds=max(seconds, 1))

    def hold(self, call: SimulatedCall) -> None:
        """Request the waitUrl of ``call`` now (the interactive phone: each Enter is one more round on hold)."""
        member = self.member_of(call)
        if member is not None:
            self._poll(member)

    def dequeue(self, name: str, dequeuing_call_sid: str, queue_url: str) -> QueueMember | None:
        """A ``<Dial><Queue>`` takes the first caller: their ``<Queue url>`` is played to them, then they are bridged."""
        queue = self._members.get(name) or []
        if not queue:
            return None
        member = queue[0]
        self._remove(member)
        self._waited.append(self.queue_time(member))
        if queue_url:
            params = {"QueueSid": member.queue_sid, "QueueTime": str(self.queue_time(member)),
                      "DequeingCallSid": dequeuing_call_sid}
            self._connecting(member, queue_url, params)
        return member

    def _connecting(self, member: QueueMember, url: str, params: dict[str, str]) -> None:
        """Play the ``<Queue url>`` document to the dequeued caller, as long as it takes on the clock, following its
        ``<Redirect>`` (one of the four verbs Twilio allows there) once the verbs before it have played. A caller
        who hangs up while it plays (``hang_up_while_connecting``) is gone before any redirect is requested."""
        for _ in range(MAX_REDIRECTS):
            root = self._document(member, url, params, QUEUE_URL_VERBS)
            if root is None:
                return
            redirect, seconds = None, 0.0
            for verb in root:
                if verb.tag == "Redirect":
                    redirect = verb
                    break
                seconds += self._duration(verb)
            if member.call.hang_up_while_connecting:
                return
            self._advance(seconds)
            if redirect is None:
                return
            url, params = urljoin(url, (redirect.text or "").strip()), {}

    def _advance(self, seconds: float) -> None:
        advance = getattr(self.clock, "advance", None)
        if seconds and advance is not None:
            advance(seconds=seconds)

    def bridge_ended(self, member: QueueMember, queue_seconds: int) -> None:
        """The bridged call ended: the caller's ``<Enqueue action>`` gets QueueResult=bridged, then they hang up."""
        self._action(member, "bridged", queue_seconds)
        member.call.end()

    def hung_up_while_connecting(self, member: QueueMember) -> None:
        """The dequeued caller hung up during the ``<Queue url>``, before the bridge: QueueResult=hangup, then the
        call's status callback. Twilio's documents do not say what the rep's ``<Dial>`` then reports; the network
        reports the worst case for the app (``completed``), see ``PhoneNetwork._dial_queue``."""
        self._action(member, "hangup", self.queue_time(member))
        member.call.end()

    def caller_hung_up(self, call: SimulatedCall) -> None:
        """The caller hung up while waiting: the ``<Enqueue action>`` gets QueueResult=hangup."""
        member = self.member_of(call)
        if member is not None:
            self._remove(member)
            self._action(member, "hangup", self.queue_time(member))

    def lose_caller(self, call: SimulatedCall) -> None:
        """Fault injection: the caller's leg drops out of the queue and the <Enqueue action> never reaches the app."""
        member = self.member_of(call)
        if member is not None:
            self._remove(member)
            call.ended = True

    def _leave(self, member: QueueMember, result: str) -> None:
        self._remove(member)
        self._action(member, result, self.queue_time(member))

    def _action(self, member: QueueMember, result: str, queue_seconds: int) -> None:
        if not member.action:
            return
        params = {"QueueResult": result, "QueueSid": member.queue_sid, "QueueTime": str(queue_seconds)}
        status, body = member.call.queue_request(member.action, params)
        self.record(member.action, member.call.params(params), status, body)
        if result in ("leave", "redirected") and status == 200:  # the call goes on with the action's TwiML
            member.call.follow(body)

    def _document(self, member: QueueMember, url: str, params: dict[str, str],
                  allowed: set[str]) -> ET.Element | None:
        status, body = member.call.queue_request(url, params)
        self.record(url, member.call.params(params), status, body)
        try:
            root = ET.fromstring(body) if status == 200 else None
        except ET.ParseError:
            root = None
        if root is None or root.tag != "Response":
            self.failures.append(f"{url} answered HTTP {status} or no TwiML: {body[:200]!r}")
            return None
        for verb in root:
            if verb.tag not in allowed:
                self.failures.append(f"{url}: <{verb.tag}> is not allowed here (only {', '.join(sorted(allowed))})")
            elif verb.tag == "Say":
                member.call.heard_line((verb.text or "").strip())
            elif verb.tag == "Play":
                member.call.heard_line(f"[plays {(verb.text or '').strip()}]")
        return root

    def _duration(self, verb: ET.Element) -> float:
        if verb.tag == "Play":
            return self.play_seconds
        if verb.tag == "Say":
            return len((verb.text or "").split()) / 2.5
        if verb.tag == "Pause":
            return float(verb.get("length", "1"))
        return 0.0
