"""A simulated Twilio phone call: signs webhooks like Twilio, reads TwiML like Twilio.

Used by ``hotline simulate``, ``hotline demo`` and the end-to-end tests. It
speaks HTTP to the app through a small transport (a Flask test client or real
HTTP), so what it exercises is exactly what Twilio would.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlparse

from twilio.request_validator import RequestValidator

if TYPE_CHECKING:
    from hotline_sim.queues import CallQueues

Transport = Callable[[str, dict[str, str], dict[str, str]], tuple[int, str]]


class CallFlowError(AssertionError):
    """The app answered something Twilio would reject, or the script expected otherwise."""


@dataclass
class Prompt:
    """What the caller is being asked for now."""

    kind: str  # "gather", "record", "hangup", "queue" (an <Enqueue>: waiting on the line)
    said: list[str]
    action: str = ""
    fallthrough: str = ""  # the <Redirect> after a <Gather>/<Record>
    num_digits: int | None = None
    input: str = "dtmf"
    language: str = ""
    queue: str = ""  # the <Enqueue>'s queue name
    wait_url: str = ""  # the <Enqueue waitUrl>
    finish_on_key: str = "#"  # the <Gather finishOnKey> (Twilio's default: #)
    action_on_empty_result: bool = False  # <Gather actionOnEmptyResult="true">: no input still requests the action


@dataclass
class SimulatedCall:
    """One inbound call from ``caller`` to ``to``, driven step by step."""

    transport: Transport
    base_url: str  # the public URL Twilio is configured with, e.g. https://hotline.example.com
    auth_token: str
    caller: str = "+14155550100"
    to: str = "+15005550006"
    call_sid: str = field(default_factory=lambda: "CA" + secrets.token_hex(16))
    account_sid: str = "AC" + "0" * 32
    transcript: list[tuple[str, str]] = field(default_factory=list)  # (who, text)
    prompt: Prompt | None = None
    responses: list[str] = field(default_factory=list)
    ended: bool = False
    last_request: tuple[str, dict[str, str]] | None = None
    queues: CallQueues | None = None  # the simulated Twilio's queues, for <Enqueue> (issue 13)
    # hangs up while the <Queue url> ("connecting you now") plays, before the bridge: "" never, "first" (the
    # <Enqueue action> reaches the app before the rep's <Dial action>) or "last" (after it)
    hang_up_while_connecting: str = ""
    # the caller's leg drops once the <Queue url> document (and its redirects) played to its end, just before the
    # bridge: a bridge that fails at the last moment; "" never, "first" or "last" as above
    drops_at_bridge: str = ""
    # the DialCallDuration the rep's <Dial action> reports for a caller gone before the bridge (either of the two
    # above; Twilio does not document it): 0, or the seconds an outside probe's stand-in reported (45)
    connecting_dial_seconds: int = 0
    # once a bridge ends, which end report reaches the app first: "first" (the caller's <Enqueue action>,
    # QueueResult=bridged, before the rep's <Dial action>), "last" (after it) or "together" (both at the same moment,
    # from two threads, as Twilio sends them); Twilio promises no order
    bridge_end_reported: str = "first"

    # ------------------------------------------------------------ driving

    def dial(self, path: str = "/twilio/voice") -> Prompt:
        """Place the call: Twilio requests the Voice URL."""
        return self._request(path, {})

    def press(self, digits: str) -> Prompt:
        """Press keys at the current <Gather>, as Twilio documents it.

        A trailing ``finishOnKey`` ends the input and is not part of ``Digits``. The finish key
        alone is no input: Twilio requests the action only with ``actionOnEmptyResult="true"``,
        else it goes on with the verb after the <Gather> (as on silence).
        """
        prompt = self._require("gather")
        self.transcript.append(("caller", f"[presses {digits}]"))
        keys, digits = digits, gathered_digits(digits, prompt.finish_on_key)
        finished_on = keys[len(digits):]  # Twilio's FinishedOnKey: the finish key pressed, else ""
        if not digits:
            return self._empty(prompt, finished_on)
        return self._answer({"Digits": digits, "FinishedOnKey": finished_on})

    def say(self, speech: str, confidence: float = 0.9) -> Prompt:
        """Say something at the current <Gather> (speech recognised as ``speech``)."""
        self.transcript.append(("caller", speech))
        return self._answer({"SpeechResult": speech, "Confidence": f"{confidence:.2f}"})

    def silence(self) -> Prompt:
        """Say nothing: Twilio falls through to the verb after the <Gather>/<Record>."""
        prompt = self._require()
        self.transcript.append(("caller", "[silence]"))
        if prompt.kind == "gather":
            return self._empty(prompt, "")
        if not prompt.fallthrough:
            raise CallFlowError(f"no verb after <{prompt.kind}>: the call would hang up on silence")
        return self._request(prompt.fallthrough, {})

    def _empty(self, prompt: Prompt, finished_on_key: str) -> Prompt:
        """A <Gather> that got no input: its action with no digits (actionOnEmptyResult), else the next verb.

        Twilio's FinishedOnKey tells the two empty answers apart: the finish key pressed alone, or "" (it timed out).
        """
        if prompt.action_on_empty_result:
            return self._request(prompt.action, {"Digits": "", "FinishedOnKey": finished_on_key})
        if not prompt.fallthrough:
            raise CallFlowError(f"no verb after <{prompt.kind}>: the call would hang up on silence")
        return self._request(prompt.fallthrough, {})

    def record(self, seconds: int = 30, url: str | None = None) -> Prompt:
        """Leave a recording at the current <Record>."""
        prompt = self._require("record")
        url = url or f"https://api.twilio.com/2010-04-01/Accounts/{self.account_sid}/Recordings/RE{secrets.token_hex(16)}"
        self.transcript.append(("caller", f"[records {seconds} s]"))
        return self._request(prompt.action, {"RecordingUrl": url, "RecordingDuration": str(seconds),
                                             "RecordingSid": url.rsplit("/", 1)[-1], "Digits": "#"})

    def hang_up_while_recording(self, seconds: int = 20, status_first: bool = True) -> int:
        """Hang up at the current <Record>: Twilio still requests its action with the recording (the TwiML it gets
        back goes unplayed), and the call's status callback is a request of its own that may come first."""
        prompt = self._require("record")
        url = f"https://api.twilio.com/2010-04-01/Accounts/{self.account_sid}/Recordings/RE{secrets.token_hex(16)}"
        self.transcript.append(("caller", f"[records {seconds} s, hangs up]"))
        action = {"RecordingUrl": url, "RecordingDuration": str(seconds), "RecordingSid": url.rsplit("/", 1)[-1],
                  "Digits": "hangup"}
        if not status_first:
            self._post(prompt.action, action)
        code = self.hang_up()
        if status_first:
            self._post(prompt.action, action)
        return code

    def hang_up(self, status: str = "completed", path: str = "/twilio/voice/status") -> int:
        """End the call: Twilio sends the status callback (after the <Enqueue action>, if waiting)."""
        if self.queues is not None and not self.ended:
            self.queues.caller_hung_up(self)
        self.ended = True
        code, _ = self._post(path, {"CallStatus": status, "CallDuration": "42"})
        return code

    def fallback(self, error_code: str = "11200", path: str = "/twilio/voice/fallback",
                 error_url: str | None = None) -> Prompt:
        """Twilio could not use a URL of the call (``error_url``, the Voice URL unless given): it requests the
        Fallback URL instead, naming the URL that failed (``ErrorUrl``)."""
        return self._request(path, {"ErrorCode": error_code, "ErrorUrl": error_url or self.base_url + "/twilio/voice"})

    # ------------------------------------------------------------ plumbing

    def params(self, extra: dict[str, str]) -> dict[str, str]:
        """The parameters Twilio sends with every voice webhook, plus ``extra``."""
        base = {
            "CallSid": self.call_sid, "AccountSid": self.account_sid, "From": self.caller, "To": self.to,
            "Caller": self.caller, "Called": self.to, "CallStatus": "in-progress", "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        base.update(extra)
        return base

    def sign(self, url: str, params: dict[str, str]) -> str:
        """X-Twilio-Signature for ``url`` and ``params`` (Twilio's algorithm)."""
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def _require(self, kind: str | None = None) -> Prompt:
        if self.ended or self.prompt is None:
            raise CallFlowError("the call has ended")
        if kind and self.prompt.kind != kind:
            raise CallFlowError(f"expected <{kind}>, the call is at <{self.prompt.kind}>: {self.prompt.said}")
        return self.prompt

    def _answer(self, extra: dict[str, str]) -> Prompt:
        prompt = self._require("gather")
        return self._request(prompt.action, extra)

    def resend(self) -> tuple[int, str]:
        """Deliver the last webhook again, byte for byte (Twilio's retry)."""
        if self.last_request is None:
            raise CallFlowError("nothing sent yet")
        return self._post(*self.last_request)

    def _post(self, url: str, extra: dict[str, str]) -> tuple[int, str]:
        self.last_request = (url, extra)
        full = urljoin(self.base_url + "/", url)
        params = self.params(extra)
        headers = {"X-Twilio-Signature": self.sign(full, params)}
        return self.transport(full, params, headers)

    # ------------------------------------------------------------ in a queue (driven by hotline_sim.queues)

    def queue_request(self, url: str, extra: dict[str, str]) -> tuple[int, str]:
        """A signed request Twilio makes for this call while it is queued (waitUrl, <Queue url>, action)."""
        return self._post(url, extra)

    def heard_line(self, line: str) -> None:
        """Something played to the caller while queued."""
        self.transcript.append(("hotline", line))

    def follow(self, body: str) -> Prompt:
        """Go on with TwiML Twilio fetched for this call (the <Enqueue action> after leaving the queue)."""
        return self._take("<Enqueue action>", body)

    def end(self) -> None:
        """Twilio ended the call (after a bridge, or a <Hangup> while waiting)."""
        if not self.ended:
            self.hang_up()

    def _request(self, url: str, extra: dict[str, str]) -> Prompt:
        code, body = self._post(url, extra)
        if code != 200:
            raise CallFlowError(f"{url} answered HTTP {code}: Twilio would play an application error")
        return self._take(url, body)

    def _take(self, url: str, body: str) -> Prompt:
        self.responses.append(body)
        self.prompt = parse_twiml(body)
        for line in self.prompt.said:
            self.transcript.append(("hotline", line))
        if self.prompt.kind == "redirect":  # what was said before the <Redirect> is part of what the caller heard
            before = self.prompt.said
            after = self._request(self.prompt.action, {})
            after.said[:0] = before
            return after
        if self.prompt.kind == "hangup":
            self.hang_up()
        if self.prompt.kind == "queue":
            if self.queues is None:
                raise CallFlowError(f"{url} answered <Enqueue>: give the call the simulated Twilio's queues")
            self.queues.enqueue(self, self.prompt.queue, self.prompt.action, self.prompt.wait_url)
        return self.prompt


def gather_rules(verb) -> tuple[str, bool]:
    """A <Gather>'s finishOnKey (Twilio's default: #) and whether no input still requests its action
    (``actionOnEmptyResult="true"``); else Twilio goes on with the verb after it."""
    return verb.get("finishOnKey", "#"), verb.get("actionOnEmptyResult", "false").lower() == "true"


def gathered_digits(keys: str, finish_on_key: str) -> str:
    """The ``Digits`` Twilio posts for ``keys`` pressed at a <Gather>: a trailing finish key ends the input and is
    not part of it ("" for the finish key alone: no input)."""
    return keys[:-len(finish_on_key)] if finish_on_key and keys.endswith(finish_on_key) else keys


def parse_twiml(body: str) -> Prompt:
    """Read a TwiML <Response> the way a call would play it."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise CallFlowError(f"not TwiML: {body[:200]!r}") from exc
    if root.tag != "Response":
        raise CallFlowError(f"TwiML root is <{root.tag}>")
    said: list[str] = []
    verbs = list(root)
    for i, verb in enumerate(verbs):
        rest = verbs[i + 1:]
        after = next((v.text or "" for v in rest if v.tag == "Redirect"), "")
        if verb.tag == "Say":
            said.append((verb.text or "").strip())
        elif verb.tag == "Gather":
            said += [(s.text or "").strip() for s in verb if s.tag == "Say"]
            if not rest:
                raise CallFlowError("<Gather> is the last verb: silence would end the call")
            nd = verb.get("numDigits")
            finish, on_empty = gather_rules(verb)
            return Prompt("gather", said, action=verb.get("action", ""), fallthrough=after,
                          num_digits=int(nd) if nd else None, input=verb.get("input", "dtmf"),
                          language=verb.get("language", ""), finish_on_key=finish, action_on_empty_result=on_empty)
        elif verb.tag == "Record":
            return Prompt("record", said, action=verb.get("action", ""), fallthrough=after)
        elif verb.tag == "Redirect":
            return Prompt("redirect", said, action=(verb.text or "").strip())
        elif verb.tag == "Hangup":
            return Prompt("hangup", said)
        elif verb.tag == "Enqueue":  # the call waits on the line until a <Dial><Queue> takes it, or it leaves
            return Prompt("queue", said, action=verb.get("action", ""), queue=(verb.text or "").strip(),
                          wait_url=verb.get("waitUrl", ""))
        else:
            raise CallFlowError(f"unexpected verb <{verb.tag}>")
    return Prompt("hangup", said)  # running out of verbs ends the call


def flask_transport(client) -> Transport:
    """A transport through a Flask test client (path and query of the public URL)."""

    def post(url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        parts = urlparse(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        resp = client.post(path, data=params, headers=headers)
        return resp.status_code, resp.get_data(as_text=True)

    return post


def http_transport(server_url: str, timeout: float = 15.0) -> Transport:
    """A transport over real HTTP to ``server_url`` (Twilio gives up after 15 s)."""
    import urllib.error
    import urllib.parse
    import urllib.request

    def post(url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        parts = urlparse(url)
        target = server_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
        data = urllib.parse.urlencode(params).encode()
        req = urllib.request.Request(target, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    return post
