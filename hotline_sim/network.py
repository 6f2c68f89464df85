"""The telephone network behind the simulated Twilio: delivers SMS and plays calls to scripted phones.

Nothing happens in the background. ``PhoneNetwork.run()`` delivers everything
the simulated Twilio has accepted, in order, and keeps going until nothing is
pending (a webhook may make the app send more). Every webhook to the app is
signed like Twilio's (``X-Twilio-Signature``: HMAC-SHA1 over the full URL and
the sorted POST parameters) and sent through a transport from
:mod:`hotline_sim.phone`.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from twilio.request_validator import RequestValidator

from app.clock import Clock, SystemClock
from hotline_sim.phone import Transport, gather_rules, gathered_digits
from hotline_sim.scripted_phone import (
    UNTIMED_TALK_SECONDS,
    CallExpectation,
    ReceivedCall,
    ReceivedSms,
    ScriptedPhone,
    UnexpectedPage,
    WebhookFailed,
)
from hotline_sim.twilio_api import SimulatedTwilio
from hotline_sim.twilio_records import API_VERSION, ApiCall, ApiMessage, new_sid, rfc2822

__all__ = ["PhoneNetwork", "ScriptedPhone", "UnexpectedPage", "WebhookFailed", "Webhook"]

MAX_ROUNDS = 50
NOT_SENT = frozenset({"failed", "canceled"})
MAX_DOCUMENTS_PER_CALL = 30
TALK_STEP_SECONDS = 60  # a bridged call lets the back office work once a minute of it


@dataclass(frozen=True)
class Webhook:
    """One request the network made to the app, and the answer."""

    url: str
    params: dict[str, str]
    status: int
    body: str


@dataclass
class _Leg:
    """One call leg being played."""

    call: ApiCall
    heard: ReceivedCall
    expectation: CallExpectation | None
    sequence: int = 0
    ended: bool = False
    talked: bool = False  # the talk time was spent on a bridge (to a queued caller: issue 13)

    def base_params(self, account_sid: str, status: str) -> dict[str, str]:
        """The parameters Twilio sends with every voice webhook of this leg."""
        c = self.call
        params = {"CallSid": c.sid, "AccountSid": account_sid, "From": c.from_, "To": c.to, "Caller": c.from_,
                  "Called": c.to, "CallStatus": status, "Direction": c.direction, "ApiVersion": API_VERSION}
        if c.parent_call_sid:
            params["ParentCallSid"] = c.parent_call_sid
        if c.answered_by:
            params["AnsweredBy"] = c.answered_by
        return params


class PhoneNetwork:
    """Scripted phones reached through a :class:`SimulatedTwilio`; drives the app's webhooks."""

    def __init__(
        self,
        twilio: SimulatedTwilio,
        app_transport: Transport,
        auth_token: str,
        *,
        app_base_url: str = "https://hotline.example.com",
        clock: Clock | None = None,
        sms_path: str = "/twilio/sms",
        strict: bool = True,
    ) -> None:
        self.twilio = twilio
        self.transport = app_transport
        self.auth_token = auth_token
        self.app_base_url = app_base_url.rstrip("/")
        self.clock: Clock = clock or SystemClock()
        self.sms_path = sms_path
        self.strict = strict
        self.webhooks: list[Webhook] = []
        self.unexpected: list[str] = []
        self.failures: list[str] = []
        self._phones: dict[str, ScriptedPhone] = {}
        self._after_dial_action: list[Callable[[], None]] = []  # reported once the <Dial action> was answered
        self._with_dial_action: list[Callable[[], None]] = []  # reported at the same moment as the <Dial action>
        self._done: set[str] = set()
        self._lose: tuple[str, ...] | None = None  # ``lose_status_callbacks``: paths whose callbacks never arrive
        self.lost: list[Webhook] = []  # status callbacks Twilio sent that never reached the app
        # what the back office does while a bridged call lasts (the worker and the watchdog, never the network:
        # pages sent meanwhile are delivered once the call is over); None: nothing happens during a call
        self.meanwhile: Callable[[], None] | None = None
        self.queues = twilio.queues  # issue 13: callers waiting on the line; their requests are logged here
        self.queues.record = self._record

    def lose_status_callbacks(self, *paths: str) -> None:
        """Fault: from now on the status callbacks to these URL paths (none given: every status callback) never reach
        the app (a network that drops them, a process that died before answering); Twilio's records still move on."""
        self._lose = paths

    def phone(self, number: str) -> ScriptedPhone:
        """The scripted phone at ``number`` (created on first use)."""
        return self._phones.setdefault(number, ScriptedPhone(number))

    # ------------------------------------------------------------ driving

    def run(self) -> None:
        """Deliver everything pending until the network is quiet; raise on unexpected pages or failed webhooks."""
        unexpected, failures = len(self.unexpected), len(self.failures)
        for _ in range(MAX_ROUNDS):
            pending = self._pending()
            for item in pending:
                self._done.add(item.sid)
                if isinstance(item, ApiMessage):
                    self._deliver_sms(item)
                else:
                    self._deliver_call(item)
            if not pending and not self.queues.poll_due():  # waiting callers hear their waitUrl again
                break
        else:
            raise RuntimeError(f"the network did not settle after {MAX_ROUNDS} rounds")
        if len(self.unexpected) > unexpected:
            raise UnexpectedPage("\n".join(self.unexpected[unexpected:]))
        self.failures += self.queues.failures
        self.queues.failures.clear()
        if self.strict and len(self.failures) > failures:
            raise WebhookFailed("\n".join(self.failures[failures:]))

    def verify(self) -> None:
        """Raise unless every page was expected and every expectation was used (call at test end)."""
        problems = list(self.unexpected) + [u for p in self._phones.values() for u in p.unmet]
        if problems:
            raise UnexpectedPage("\n".join(problems))

    def _pending(self) -> list[ApiMessage | ApiCall]:
        # a record created already failed or canceled (``SimulatedTwilio.accept_as_next``) never leaves Twilio
        items: list[ApiMessage | ApiCall] = [
            m for m in self.twilio.messages if m.direction != "inbound" and m.sid not in self._done
            and m.status not in NOT_SENT
        ]
        items += [c for c in self.twilio.calls if c.direction == "outbound-api" and c.sid not in self._done
                  and c.status not in NOT_SENT]
        return sorted(items, key=lambda r: (r.date_created, r.seq))

    # ------------------------------------------------------------ SMS

    def _deliver_sms(self, message: ApiMessage) -> None:
        phone = self._phones.get(message.to)
        expectation = phone.take_sms(message.body) if phone else None
        if expectation is None:
            self.unexpected.append(f"unexpected SMS to {message.to}: {message.body!r}")
        fail = expectation.fail if expectation else None
        code = expectation.error_code if expectation else None
        if fail == "failed":
            self._sms_status(message, "failed", code)
            return
        self._sms_status(message, "sent")
        if fail == "undelivered":
            self._sms_status(message, "undelivered", code)
            return
        self._sms_status(message, "delivered")
        if phone is not None:
            phone.received.append(ReceivedSms(message.sid, message.from_, message.body))
        if phone is not None and expectation is not None and expectation.reply is not None:
            self._reply(message, phone, expectation.reply)

    def _sms_status(self, message: ApiMessage, status: str, error_code: int | None = None) -> None:
        changes: dict[str, object] = {"status": status, "error_code": error_code}
        if status == "sent":
            changes["date_sent"] = self.clock.now()
        self.twilio.update(message, **changes)
        if not message.status_callback:
            return
        params = {"MessageSid": message.sid, "SmsSid": message.sid, "MessageStatus": status, "SmsStatus": status,
                  "AccountSid": self.twilio.account_sid, "From": message.from_, "To": message.to,
                  "ApiVersion": API_VERSION}
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        self._status_callback(message.status_callback, params)

    def _reply(self, message: ApiMessage, phone: ScriptedPhone, body: str) -> None:
        inbound = self.twilio.add_message(ApiMessage(
            sid=new_sid("SM"), to=message.from_, from_=phone.number, body=body, date_created=self.clock.now(),
            direction="inbound", status="received",
        ))
        params = {"MessageSid": inbound.sid, "SmsSid": inbound.sid, "SmsMessageSid": inbound.sid,
                  "AccountSid": self.twilio.account_sid, "From": phone.number, "To": message.from_, "Body": body,
                  "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": API_VERSION}
        status, answer = self._post(self.app_base_url + self.sms_path, params)
        if status // 100 != 2 or not answer.strip():
            return
        try:
            root = ET.fromstring(answer)
        except ET.ParseError:
            self.failures.append(f"{self.sms_path} answered something that is not TwiML: {answer[:200]!r}")
            return
        for verb in root:  # <Message> replies are sent to the phone like any other SMS
            if verb.tag != "Message":
                self.failures.append(f"{self.sms_path} answered unsupported messaging verb <{verb.tag}>")
                continue
            text = verb.findtext("Body") if verb.find("Body") is not None else verb.text
            self.twilio.add_message(ApiMessage(
                sid=new_sid("SM"), to=verb.get("to", phone.number), from_=verb.get("from", message.from_),
                body=(text or "").strip(), date_created=self.clock.now(), direction="outbound-reply",
            ))

    # ------------------------------------------------------------ calls

    def _deliver_call(self, call: ApiCall) -> None:
        leg = self._ring(call)
        if leg.call.status != "in-progress":
            return
        if call.twiml:
            self._play(leg, "", call.twiml)
        else:
            self._play(leg, call.url, None)
        self._hang_up(leg, "completed")

    def _ring(self, call: ApiCall) -> _Leg:
        """Ring ``call.to``: initiated, ringing, then answered (in-progress), no-answer or busy; or initiated, then
        failed (Twilio could not place it)."""
        phone = self._phones.get(call.to)
        expectation = phone.take_call() if phone else None
        if expectation is None:
            self.unexpected.append(f"unexpected call to {call.to} from {call.from_} ({call.direction})")
        heard = ReceivedCall(call.sid, call.from_)
        fails = expectation is not None and expectation.fails
        if phone is not None and not fails:  # a call Twilio could not place never reaches the phone
            phone.received.append(heard)
        leg = _Leg(call, heard, expectation)
        self.twilio.update(call, status="queued", start_time=self.clock.now())
        self._call_event(leg, "initiated", "initiated")
        if fails:
            self._hang_up(leg, "failed")
            return leg
        self.twilio.update(call, status="ringing")
        self._call_event(leg, "ringing", "ringing")
        if expectation is None or not expectation.answer:
            self._hang_up(leg, "busy" if expectation and expectation.busy else "no-answer")
            return leg
        self._advance(expectation.ring_seconds)
        answered_by = None
        if call.machine_detection:
            # Twilio's DetectMessageEnd answers a machine once its greeting ended (the beep), Enable at once
            machine = "machine_end_beep" if call.machine_detection == "DetectMessageEnd" else "machine_start"
            answered_by = expectation.answered_by or (machine if expectation.machine else "human")
        self.twilio.update(call, status="in-progress", start_time=self.clock.now(), answered_by=answered_by)
        heard.status, heard.answered_by = "in-progress", answered_by
        self._call_event(leg, "answered", "in-progress")
        return leg

    def _hang_up(self, leg: _Leg, status: str) -> None:
        if leg.ended:
            return
        leg.ended = True
        if status == "completed" and leg.expectation and not leg.talked:
            self._talk(leg.expectation.talk_seconds or 0)  # what falls due meanwhile is done (``meanwhile``)
        duration = leg.expectation.reported_seconds if leg.expectation and status == "completed" else 0
        self.twilio.update(leg.call, status=status, end_time=self.clock.now(), duration=duration)
        leg.heard.status = status
        self._call_event(leg, "completed", status, {"CallDuration": str(duration), "Duration": str(-(-duration // 60))})

    def _call_event(self, leg: _Leg, event: str, status: str, extra: dict[str, str] | None = None) -> None:
        call = leg.call
        wanted = call.status_callback_events or ("completed",)
        if not call.status_callback or event not in wanted:
            return
        leg.sequence += 1
        params = self._voice_params(leg, status)
        params.update({"CallbackSource": "call-progress-events", "Timestamp": rfc2822(self.clock.now()) or "",
                       "SequenceNumber": str(leg.sequence - 1)})
        params.update(extra or {})
        self._status_callback(call.status_callback, params)

    def _voice_params(self, leg: _Leg, status: str) -> dict[str, str]:
        return leg.base_params(self.twilio.account_sid, status)

    # ------------------------------------------------------------ TwiML

    def _play(self, leg: _Leg, url: str, document: str | None, extra: dict[str, str] | None = None) -> str:
        """Play TwiML on ``leg`` until it ends; returns "hangup" (a <Hangup>/<Reject>) or "end"."""
        if document is None:
            fetched = self._fetch(leg, url, extra or {})
            if fetched is None:
                return "hangup"
            document = fetched
        for _ in range(MAX_DOCUMENTS_PER_CALL):
            step = self._run_document(leg, url, document)
            if step is None or isinstance(step, str):
                return step or "end"
            url, params = urljoin(url, step[0]) if url else step[0], step[1]
            fetched = self._fetch_together(leg, url, params)
            while self._after_dial_action:
                self._after_dial_action.pop(0)()
            if fetched is None:
                return "hangup"
            document = fetched
        self.failures.append(f"call {leg.call.sid} went through {MAX_DOCUMENTS_PER_CALL} TwiML documents")
        return "hangup"

    def _run_document(self, leg: _Leg, url: str, document: str) -> tuple[str, dict[str, str]] | str | None:
        """Play one document: the next (url, params) to request, "hangup", or None at its end."""
        try:
            root = ET.fromstring(document)
        except ET.ParseError:
            self.failures.append(f"{url} answered something that is not TwiML: {document[:200]!r}")
            return "hangup"
        if root.tag != "Response":
            self.failures.append(f"{url}: TwiML root is <{root.tag}>")
            return "hangup"
        for verb in root:
            if verb.tag == "Say":
                leg.heard.said.append((verb.text or "").strip())
            elif verb.tag == "Play":
                played = f"digits {verb.get('digits')}" if verb.get("digits") else (verb.text or "").strip()
                leg.heard.said.append(f"[plays {played}]")
            elif verb.tag == "Pause":
                continue
            elif verb.tag == "Gather":
                leg.heard.said += [(s.text or "").strip() for s in verb if s.tag == "Say"]
                keys = leg.expectation.next_keys(urlsplit(verb.get("action", "")).path) if leg.expectation else None
                if keys is not None and "dtmf" in verb.get("input", "dtmf"):
                    leg.heard.pressed.append(keys)
                    finish, action_on_empty = gather_rules(verb)  # as Twilio documents the <Gather>
                    digits = gathered_digits(keys, finish)
                    if digits or action_on_empty:
                        return verb.get("action") or url, {"Digits": digits, "FinishedOnKey": keys[len(digits):]}
            elif verb.tag == "Redirect":
                return (verb.text or "").strip(), {}
            elif verb.tag in ("Hangup", "Reject"):
                return "hangup"
            elif verb.tag == "Dial":
                if leg.expectation and leg.expectation.hang_up_at_dial:
                    return "hangup"  # the person hung up before the <Dial> began: nobody is dialled
                outcome = self._dial(leg, verb, url)
                if leg.expectation and leg.expectation.hangs_up_first and outcome.get("DialCallStatus") == "completed":
                    if verb.get("action"):  # requested for a leg already over: what it answers is never played
                        action = urljoin(url, verb.get("action", "")) if url else verb.get("action", "")
                        self._fetch_together(leg, action, {**outcome, "CallStatus": "completed"})
                        while self._after_dial_action:
                            self._after_dial_action.pop(0)()
                    return "hangup"
                if verb.get("action"):
                    return verb.get("action", ""), outcome
            else:
                self.failures.append(f"{url}: the simulated network does not play <{verb.tag}>")
                return "hangup"
        return None

    def _fetch_together(self, leg: _Leg, url: str, extra: dict[str, str]) -> str | None:
        """``_fetch``; the requests Twilio sends at the same moment (``_with_dial_action``) leave from threads of their
        own, released with this one, as two of Twilio's requests reach the app's web workers at once."""
        together, self._with_dial_action = self._with_dial_action, []
        if not together:
            return self._fetch(leg, url, extra)
        start = threading.Barrier(len(together) + 1, timeout=30)

        def send(report: Callable[[], None]) -> None:
            start.wait()
            try:
                report()
            except Exception as exc:  # noqa: BLE001 - a thread's error would vanish: the test fails on it instead
                self.failures.append(f"a request sent with {url} failed: {exc!r}")

        threads = [threading.Thread(target=send, args=(report,), name=f"twilio-{n}") for n, report in enumerate(together)]
        for thread in threads:
            thread.start()
        start.wait()
        try:
            return self._fetch(leg, url, extra)
        finally:
            for thread in threads:
                thread.join()

    def _fetch(self, leg: _Leg, url: str, extra: dict[str, str]) -> str | None:
        if leg.call.method.upper() != "POST":
            self.failures.append(f"call {leg.call.sid}: only POST TwiML requests are simulated")
            return None
        params = self._voice_params(leg, "in-progress")
        params.update(extra)
        status, body = self._post(url, params)
        if status != 200:
            leg.heard.said.append("[We are sorry, an application error has occurred. Goodbye.]")
            return None
        return body

    def _dial(self, parent: _Leg, verb: ET.Element, url: str) -> dict[str, str]:
        """Ring each <Number> in turn until one answers; bridge it. Returns the Dial action parameters."""
        queue = next((n for n in verb if n.tag == "Queue"), None)
        if queue is not None:
            return self._dial_queue(parent, verb, queue, url)
        numbers = [(n.text or "").strip() for n in verb if n.tag == "Number"]
        nouns = [n for n in verb if n.tag == "Number"] or [ET.Element("Number")]
        if not numbers:
            numbers = [(verb.text or "").strip()]
        if any(n.tag != "Number" for n in verb):
            self.failures.append(f"{url}: only <Number> is simulated inside <Dial>")
        outcome = {"DialCallStatus": "no-answer"}
        for number, noun in zip(numbers, nouns, strict=True):
            child = self.twilio.add_call(ApiCall(
                sid=new_sid("CA"), to=number, from_=verb.get("callerId") or parent.call.from_,
                date_created=self.clock.now(), direction="outbound-dial", parent_call_sid=parent.call.sid,
                url=urljoin(url, noun.get("url", "")) if noun.get("url") else "",
                status_callback=urljoin(url, noun.get("statusCallback", "")) if noun.get("statusCallback") else "",
                status_callback_events=tuple(noun.get("statusCallbackEvent", "").split()),
                method=noun.get("method", "POST"),
                machine_detection=noun.get("machineDetection", ""),
            ))
            self._done.add(child.sid)
            leg = self._ring(child)
            if child.status != "in-progress":
                outcome = {"DialCallStatus": child.status, "DialCallSid": child.sid, "DialCallDuration": "0"}
                continue
            whispered = self._play(leg, child.url, None) if child.url else "end"
            if whispered == "hangup":  # the whisper hung up on the callee: the legs are never bridged
                self._hang_up(leg, "completed")
                outcome = {"DialCallStatus": "no-answer", "DialCallSid": child.sid, "DialCallDuration": "0"}
                continue
            parent.heard.said.append(f"[connected to {number}]")
            leg.heard.said.append(f"[connected to {parent.call.to}]")
            if leg.expectation is not None and not leg.talked:
                # the conversation lasts what Twilio reports of it on the clock too (an untimed one:
                # UNTIMED_TALK_SECONDS), as on ``<Dial><Queue>``: the hotline counts it from the key press
                leg.talked = True
                self._talk(leg.expectation.reported_seconds)
            self._hang_up(leg, "completed")
            return {"DialCallStatus": "completed", "DialCallSid": child.sid,
                    "DialCallDuration": str(child.duration or 0), "DialBridged": "true"}
        return outcome

    def _dial_queue(self, parent: _Leg, verb: ET.Element, noun: ET.Element, url: str) -> dict[str, str]:
        """``<Dial><Queue>``: bridge the first caller waiting in the queue (none: the <Dial> times out)."""
        name = (noun.text or "").strip()
        queue_url = urljoin(self.app_base_url + "/", noun.get("url", "")) if noun.get("url") else ""
        member = self.queues.dequeue(name, parent.call.sid, queue_url)
        if member is None:  # Twilio waits for a caller until the <Dial> timeout
            self._advance(float(verb.get("timeout", "30")))
            return {"DialCallStatus": "no-answer", "DialCallDuration": "0"}
        waited = self.queues.queue_time(member)
        sid = self.queues.queue_sid(name)
        when = member.call.hang_up_while_connecting or member.call.drops_at_bridge
        if when:  # the caller is gone before the bridge: the rep's leg is never connected to anyone
            if when == "last":
                self._after_dial_action.append(lambda: self.queues.hung_up_while_connecting(member))
            else:
                self.queues.hung_up_while_connecting(member)
            return {"DialCallStatus": "completed", "DialCallSid": member.call.call_sid,
                    "DialCallDuration": str(member.call.connecting_dial_seconds), "QueueSid": sid}
        parent.heard.said.append(f"[connected to {member.call.caller}]")
        member.call.heard_line(f"[connected to {parent.call.to}]")
        # an untimed conversation lasts what Twilio reports of it (UNTIMED_TALK_SECONDS) on the clock too: the caller's
        # <Enqueue action>, requested once both have hung up, comes that much after the bridge, as on Twilio
        talk = parent.expectation.reported_seconds if parent.expectation else UNTIMED_TALK_SECONDS
        parent.talked = True
        self._talk(talk)
        if member.call.bridge_end_reported == "last":
            self._after_dial_action.append(lambda: self.queues.bridge_ended(member, waited))
        elif member.call.bridge_end_reported == "together":
            self._with_dial_action.append(lambda: self.queues.bridge_ended(member, waited))
        else:
            self.queues.bridge_ended(member, waited)  # the caller hangs up first; the rep's <Dial> then ends
        return {"DialCallStatus": "completed", "DialCallSid": member.call.call_sid,
                "DialCallDuration": str(int(talk)), "DialBridged": "true", "QueueSid": sid}  # as Twilio says of a bridge

    def _record(self, url: str, params: dict[str, str], status: int, body: str) -> None:
        """A request Twilio made for a queued caller's call (signed by that call)."""
        self.webhooks.append(Webhook(url, dict(params), status, body))
        if status // 100 != 2:
            self.failures.append(f"{url} answered HTTP {status}: {body[:200]!r}")

    # ------------------------------------------------------------ HTTP

    def _status_callback(self, url: str, params: dict[str, str]) -> None:
        """POST a status callback, unless ``lose_status_callbacks`` drops it (kept in ``lost``)."""
        path = urlsplit(url).path
        if self._lose is not None and (not self._lose or any(path.startswith(p) for p in self._lose)):
            self.lost.append(Webhook(url, dict(params), 0, ""))
            return
        self._post(url, params)

    def _post(self, url: str, params: dict[str, str]) -> tuple[int, str]:
        """POST a signed webhook to the app; record it (and any failure)."""
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        status, body = self.transport(url, params, {"X-Twilio-Signature": signature})
        self.webhooks.append(Webhook(url, dict(params), status, body))
        if status // 100 != 2:
            self.failures.append(f"{url} answered HTTP {status}: {body[:200]!r}")
        return status, body

    def _talk(self, seconds: float) -> None:
        """A bridged call lasts ``seconds`` on the clock, a minute at a time: what falls due meanwhile is done."""
        while seconds > 0:
            step = min(seconds, TALK_STEP_SECONDS)
            self._advance(step)
            seconds -= step
            if self.meanwhile is not None:
                self.meanwhile()

    def _advance(self, seconds: float) -> None:
        advance = getattr(self.clock, "advance", None)
        if seconds and advance is not None:
            advance(seconds=seconds)

