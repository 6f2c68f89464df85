"""A simulated Twilio REST API (2010-04-01 Messages and Calls) served over real HTTP.

The real ``twilio`` client talks to it unchanged (only its base URL differs),
so tests exercise the client's encoding, authentication, error parsing and
time-outs. Every create request is checked against Twilio's OpenAPI
description; what does not conform is recorded in ``spec_violations``.
Nothing here dials out: :mod:`hotline_sim.network` plays the phones.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

from app.clock import Clock, SystemClock
from app.settings import Settings
from app.twilio_webhooks import expected_urls
from hotline_sim.queues import CallQueues
from hotline_sim.twilio_records import (
    API_VERSION,
    ApiCall,
    ApiMessage,
    ApiRequest,
    matches_filters,
    new_sid,
    newest_first,
)
from hotline_sim.twilio_spec import CALLS_PATH, MESSAGES_PATH, OperationSpec, TwilioSpec

DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "5e" + "0" * 30  # shaped as Twilio's (32 lowercase hex): `hotline check` refuses any other
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class SimulatedTwilio:
    """Twilio's REST API on ``127.0.0.1:<ephemeral port>``, with fault injection.

    Use as a context manager (or ``start()``/``stop()``); point the app at it with
    :meth:`configure`.
    """

    def __init__(
        self,
        *,
        spec_path: Path | str | None = None,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        clock: Clock | None = None,
        hang_seconds: float = 2.0,
        validate: bool = True,
    ) -> None:
        self._ops: dict[str, OperationSpec] | None = None
        if validate:  # the demo runs without the API description; the tests always validate
            spec = TwilioSpec.load(spec_path)
            self._ops = {"Messages": spec.create_operation(MESSAGES_PATH), "Calls": spec.create_operation(CALLS_PATH)}
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.clock: Clock = clock or SystemClock()
        self.hang_seconds = hang_seconds
        self.spec_violations: list[str] = []
        self.requests: list[ApiRequest] = []
        self._messages: list[ApiMessage] = []
        self._calls: list[ApiCall] = []
        self._seq = itertools.count(1)
        self._faults: deque[tuple[str, Any, str]] = deque()
        # numbers every create to (of one resource, or any) is refused, and the code (``refuse_to``)
        self._refused_to: dict[tuple[str, str], tuple[int, int]] = {}  # (status, code)
        self.numbers: set[str] = set()  # the account's incoming numbers (``hotline check`` asks for them)
        self.opted_out: set[str] = set()  # numbers that texted STOP: Twilio refuses SMS to them (21610)
        self.number_fields: dict[str, dict[str, str]] = {}  # a number's other fields, e.g. {"voice_method": "GET"}
        self.applications: dict[str, dict[str, str]] = {}  # TwiML Apps by SID: their voice_url, sms_url, ...
        self._outage: tuple[Any, int] | None = None  # (until, status) of a time-boxed outage
        self.queues = CallQueues(self.clock)  # issue 13: <Enqueue> and <Dial><Queue>
        self._lock = threading.RLock()
        self._release = threading.Event()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> SimulatedTwilio:
        """Serve on an ephemeral port in a background thread."""
        self._server = make_server("127.0.0.1", 0, self._build_app(), threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="simulated-twilio", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake any hanging request and shut the server down."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SimulatedTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: what ``TWILIO_API_BASE_URL`` should be."""
        if self._server is None:
            raise RuntimeError("SimulatedTwilio is not running: call start()")
        return f"http://127.0.0.1:{self._server.server_port}"

    def configure(self, settings: Settings, number: str | None = None) -> Settings:
        """``settings`` pointed at this API with its credentials (and ``number`` as the hotline number, its webhooks
        pointed at the hotline as README *Pointing a Twilio number at it* says)."""
        if number or settings.twilio_number:
            self.point_number(number or settings.twilio_number, settings.link_base)
        return settings.with_overrides(
            twilio_api_base_url=self.base_url, twilio_account_sid=self.account_sid,
            twilio_auth_token=self.auth_token, twilio_number=number or settings.twilio_number,
        )

    def point_number(self, number: str, base_url: str) -> None:
        """The account owns ``number``, its webhooks set as the operator sets them in Twilio's console for the
        hotline at ``base_url`` (voice, fallback, status callback and SMS, all POST); ``number_fields`` may then
        change any of them."""
        with self._lock:
            self.numbers.add(number)
            self.number_fields.setdefault(number, {}).update(expected_urls(base_url))

    # ------------------------------------------------------------ what was accepted

    @property
    def messages(self) -> list[ApiMessage]:
        """Every message accepted or received, oldest first."""
        with self._lock:
            return list(self._messages)

    @property
    def calls(self) -> list[ApiCall]:
        """Every call accepted or dialled, oldest first."""
        with self._lock:
            return list(self._calls)

    def update(self, record: ApiMessage | ApiCall, **changes: Any) -> None:
        """Change a record's fields (the network moves statuses along)."""
        with self._lock:
            for name, value in changes.items():
                setattr(record, name, value)

    def add_message(self, message: ApiMessage) -> ApiMessage:
        """Store a message the network created (an inbound SMS or a TwiML reply).

        An inbound opt-out keyword, alone in the message, makes every later SMS to its sender fail
        with 21610 until an opt-in keyword, as on a Twilio long code.
        """
        with self._lock:
            message.seq = next(self._seq)
            self._messages.append(message)
            word = message.body.strip().upper()
            if message.direction == "inbound" and word in OPT_OUT_KEYWORDS:
                self.opted_out.add(message.from_)
            elif message.direction == "inbound" and word in OPT_IN_KEYWORDS:
                self.opted_out.discard(message.from_)
        return message

    def add_call(self, call: ApiCall) -> ApiCall:
        """Store a call the network created (the child leg of a ``<Dial>``)."""
        with self._lock:
            call.seq = next(self._seq)
            self._calls.append(call)
        return call

    # ------------------------------------------------------------ faults

    def fail_next(self, n: int = 1, status: int = 500, code: int | None = None, resource: str = "",
                  retry_after: str = "") -> None:
        """The next ``n`` requests are refused with ``status`` (429, 500, 503, ...) and Twilio's error ``code``
        (by default the one Twilio gives with that status: ``DEFAULT_CODES``); nothing is created. ``retry_after``:
        the refusal's ``Retry-After`` header (seconds or an HTTP-date), as an HTTP 429 may carry one.

        ``resource`` (``"Messages"``, ``"Calls"``): only creates of that resource meet these faults, as Twilio
        answers 21611 (the number's SMS queue is full) to new messages alone; other requests pass meanwhile.
        """
        with self._lock:
            self._faults.extend([("fail", (status, code or default_code(status), retry_after), resource)] * n)

    def refuse_to(self, number: str, code: int = 21211, resource: str = "", status: int = 400) -> None:
        """Every call or message created to ``number`` from now on is refused ``400`` with ``code``, as Twilio
        refuses an invalid 'To' number (21211) or one it cannot reach (21214, 21612), for good; nothing is created.

        ``resource`` (``"Messages"``, ``"Calls"``): only creates of that resource are refused, as Twilio refuses a
        call the account's geo permissions do not allow (21215) and still sends the number's SMS. ``status`` 5xx:
        refused for now instead (``code`` then 20500 or 20503), the other numbers' creates passing meanwhile, until
        ``stop_refusing``."""
        with self._lock:
            self._refused_to[(number, resource)] = (status, code)

    def stop_refusing(self, number: str) -> None:
        """Creates to ``number`` pass again (every ``refuse_to`` of it is forgotten)."""
        with self._lock:
            for key in [key for key in self._refused_to if key[0] == number]:
                del self._refused_to[key]

    def hang_next(self, n: int = 1) -> None:
        """The next ``n`` requests get no answer for ``hang_seconds`` (then a 503); nothing is created."""
        with self._lock:
            self._release.clear()
            self._faults.extend([("hang", 503, "")] * n)

    def accept_then_timeout_next(self, n: int = 1) -> None:
        """The next ``n`` create requests succeed, but the answer comes only after ``hang_seconds``."""
        with self._lock:
            self._release.clear()
            self._faults.extend([("accept_then_hang", 201, "")] * n)

    def accept_as_next(self, status: str = "failed", error_code: int | None = None, n: int = 1) -> None:
        """The next ``n`` create requests are answered 201 with ``status`` (and ``error_code``): created, not sent."""
        with self._lock:
            self._faults.extend([("accept_as", (status, error_code), "")] * n)

    def fail_until(self, until, status: int = 500) -> None:
        """Refuse every request with ``status`` until the simulated clock reaches ``until``; nothing is created.

        ``status`` 0 means no answer at all: the request hangs ``hang_seconds`` (a client time-out).
        """
        with self._lock:
            self._release.clear()
            self._outage = (until, status)

    def release(self) -> None:
        """Let hanging requests answer now (until the next ``hang_next``/``accept_then_timeout_next``)."""
        self._release.set()

    # ------------------------------------------------------------ HTTP

    def _build_app(self) -> Flask:
        app = Flask("simulated_twilio")
        base = f"/{API_VERSION}/Accounts/<account_sid>"

        @app.before_request
        def gate() -> Response | None:
            params = {k: request.form.getlist(k) for k in request.form} or {
                k: request.args.getlist(k) for k in request.args
            }
            fault = self._take_fault()
            with self._lock:
                self.requests.append(ApiRequest(request.method, request.path, params))
            auth = request.authorization
            if fault and fault[0] == "fail":
                status, code, *retry_after = fault[1]
                answer = _error(status, code, FAULT_MESSAGES.get(code, "Simulated failure"))
                if retry_after and retry_after[0]:
                    answer[0].headers["Retry-After"] = retry_after[0]
                return answer
            if fault and fault[0] == "hang":
                self._release.wait(self.hang_seconds)
                return _error(503, 20503, "Service Unavailable")
            if fault and fault[0] == "accept_as":
                request.environ["simulated.accept_as"] = fault[1]
            elif fault:
                request.environ["simulated.accept_then_hang"] = True
            path_sid = (request.view_args or {}).get("account_sid")
            if (auth is None or auth.username != self.account_sid or auth.password != self.auth_token
                    or path_sid != self.account_sid):
                return _error(401, 20003, "Authenticate")
            return None

        @app.after_request
        def delay(response: Response) -> Response:
            if request.environ.get("simulated.accept_then_hang"):
                self._release.wait(self.hang_seconds)
            return response

        @app.post(f"{base}/Messages.json")
        def create_message(account_sid: str) -> tuple[Response, int]:
            form = self._validated("Messages")
            problem = _message_problem(form)
            if problem is None and form.get("To", [""])[0] in self.opted_out:
                problem = 21610, "Attempt to send to unsubscribed recipient"
            if problem:
                return _error(400, *problem)
            message = self.add_message(ApiMessage(
                sid=new_sid("SM"), to=form["To"][0], from_=form["From"][0], body=form.get("Body", [""])[0],
                date_created=self.clock.now(), status_callback=form.get("StatusCallback", [""])[0],
                validity_period=int(form["ValidityPeriod"][0]) if "ValidityPeriod" in form else None,
                params=form,
            ))
            self._accepted_as(message)
            return jsonify(message.to_json(self.account_sid)), 201

        @app.post(f"{base}/Calls.json")
        def create_call(account_sid: str) -> tuple[Response, int]:
            form = self._validated("Calls")
            problem = _call_problem(form)
            if problem:
                return _error(400, *problem)
            call = self.add_call(ApiCall(
                sid=new_sid("CA"), to=form["To"][0], from_=form["From"][0], date_created=self.clock.now(),
                url=form.get("Url", [""])[0], twiml=form.get("Twiml", [""])[0],
                method=form.get("Method", ["POST"])[0], status_callback=form.get("StatusCallback", [""])[0],
                status_callback_events=tuple(e for v in form.get("StatusCallbackEvent", []) for e in v.split()),
                machine_detection=form.get("MachineDetection", [""])[0],
                timeout=int(form.get("Timeout", ["60"])[0]), params=form,
            ))
            self._accepted_as(call)
            return jsonify(call.to_json(self.account_sid)), 201

        @app.get(f"{base}/Messages.json")
        def list_messages(account_sid: str) -> Response:
            found = [m for m in self.messages if matches_filters(m, request.args, "DateSent", m.date_sent)]
            return self._page("messages", "Messages", [m.to_json(self.account_sid) for m in newest_first(found)])

        @app.get(f"{base}/Calls.json")
        def list_calls(account_sid: str) -> Response:
            found = [c for c in self.calls if matches_filters(c, request.args, "StartTime", c.start_time)
                     and matches_filters(c, request.args, "EndTime", c.end_time)]
            return self._page("calls", "Calls", [c.to_json(self.account_sid) for c in newest_first(found)])

        @app.get(f"{base}/IncomingPhoneNumbers.json")
        def list_numbers(account_sid: str) -> Response:
            wanted = request.args.get("PhoneNumber")
            found = sorted(n for n in self.numbers if wanted in (None, n))
            return self._page("incoming_phone_numbers", "IncomingPhoneNumbers",
                              [{"phone_number": n, "account_sid": self.account_sid, **NUMBER_DEFAULTS,
                                **self.number_fields.get(n, {})} for n in found])

        @app.get(f"{base}/Applications/<sid>.json")
        def fetch_application(account_sid: str, sid: str) -> tuple[Response, int]:
            found = self.applications.get(sid)
            if found is None:
                return _error(404, 20404, f"The requested resource /{API_VERSION}/Accounts/{account_sid}/"
                              f"Applications/{sid}.json was not found")
            return jsonify({"sid": sid, "account_sid": self.account_sid, **APPLICATION_DEFAULTS, **found}), 200

        @app.get(f"{base}/Messages/<sid>.json")
        def fetch_message(account_sid: str, sid: str) -> tuple[Response, int]:
            found = next((m for m in self.messages if m.sid == sid), None)
            return (jsonify(found.to_json(self.account_sid)), 200) if found else _error(404, 20404, "Not Found")

        @app.get(f"{base}/Calls/<sid>.json")
        def fetch_call(account_sid: str, sid: str) -> tuple[Response, int]:
            found = next((c for c in self.calls if c.sid == sid), None)
            return (jsonify(found.to_json(self.account_sid)), 200) if found else _error(404, 20404, "Not Found")

        return app

    def _accepted_as(self, record: ApiMessage | ApiCall) -> None:
        """``accept_as_next``: the created record's status (and error code) at once; the network skips it."""
        status_and_code = request.environ.get("simulated.accept_as")
        if status_and_code:
            changes = {"status": status_and_code[0]}
            if isinstance(record, ApiMessage):
                changes["error_code"] = status_and_code[1]
            self.update(record, **changes)

    def _take_fault(self) -> tuple[str, Any] | None:
        with self._lock:
            if self._outage is not None:
                until, status = self._outage
                if self.clock.now() < until:
                    return ("hang", 503) if status == 0 else ("fail", (status, default_code(status)))
                self._outage = None
            refused = self._refused(request.form.get("To", ""), request.path) if request.method == "POST" else None
            if refused is not None:
                return "fail", refused
            if not self._faults:
                return None
            kind, arg, resource = self._faults[0]
            if resource and not (request.method == "POST" and request.path.endswith(f"/{resource}.json")):
                return None  # a fault for another resource's creates: this request passes, the fault waits
            self._faults.popleft()
            return kind, arg

    def _refused(self, to: str, path: str) -> tuple[int, int] | None:
        """The status and code a create to ``to`` at ``path`` is refused with (``refuse_to``), or None."""
        resource = path.rsplit("/", 1)[-1].removesuffix(".json")
        return self._refused_to.get((to, resource), self._refused_to.get((to, "")))

    def _validated(self, resource: str) -> dict[str, list[str]]:
        form = {k: request.form.getlist(k) for k in request.form}
        if self._ops is None:
            return form
        problems = self._ops[resource].violations(form)
        if problems:
            with self._lock:
                self.spec_violations.extend(problems)
        return form

    def _page(self, key: str, resource: str, items: list[dict[str, Any]]) -> Response:
        size = max(1, min(1000, int(request.args.get("PageSize", "50"))))
        page = max(0, int(request.args.get("Page", "0")))
        chunk = items[page * size:(page + 1) * size]
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/{resource}.json"
        args = {k: v for k, v in request.args.items() if k not in ("Page", "PageSize", "PageToken")}
        query = "".join(f"&{_q(k)}={_q(v)}" for k, v in args.items())
        more = (page + 1) * size < len(items)
        return jsonify({
            key: chunk, "start": page * size, "end": page * size + max(len(chunk) - 1, 0), "page": page,
            "page_size": size, "uri": f"{uri}?PageSize={size}&Page={page}{query}",
            "first_page_uri": f"{uri}?PageSize={size}&Page=0{query}",
            "next_page_uri": f"{uri}?PageSize={size}&Page={page + 1}&PageToken=PA{page + 1}{query}" if more else None,
            "previous_page_uri": f"{uri}?PageSize={size}&Page={page - 1}{query}" if page else None,
        })


def _q(value: str) -> str:
    return quote(value, safe="")


# An IncomingPhoneNumber's webhook fields as Twilio gives them for a number nobody configured: every URL empty,
# every method POST (a number bought in the console), no TwiML App and no SIP trunk
NUMBER_DEFAULTS = {
    "voice_url": "", "voice_method": "POST", "voice_fallback_url": "", "voice_fallback_method": "POST",
    "status_callback": "", "status_callback_method": "POST", "sms_url": "", "sms_method": "POST",
    "sms_fallback_url": "", "sms_fallback_method": "POST", "voice_application_sid": "", "sms_application_sid": "",
    "trunk_sid": None,
}
APPLICATION_DEFAULTS = {key: value for key, value in NUMBER_DEFAULTS.items() if not key.endswith(("_sid",))}

# Twilio's error code for each HTTP status when a fault names none (https://www.twilio.com/docs/api/errors); any
# other 4xx is answered with 21211 (an invalid 'To' number), a request Twilio refuses for good
DEFAULT_CODES = {401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}
FAULT_MESSAGES = {
    21611: "This 'From' number has exceeded the maximum number of queued messages",
    20429: "Too Many Requests",
    20503: "Service Unavailable",
    20500: "Internal Server Error",
}


def default_code(status: int) -> int:
    """The code Twilio gives with ``status`` (a 4xx without one of its own: 21211, refused for good)."""
    return DEFAULT_CODES.get(status, 21211 if 400 <= status < 500 else 20500)


def _error(status: int, code: int, message: str) -> tuple[Response, int]:
    body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}
    return jsonify(body), status


# Twilio's default keywords on a long code (its own list: the hotline's is in app.services.sms_opt_outs)
OPT_OUT_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_KEYWORDS = {"START", "UNSTOP", "YES"}


def _message_problem(form: dict[str, list[str]]) -> tuple[int, str] | None:
    to, sender = form.get("To", [""])[0], form.get("From", [""])[0]
    if not to:
        return 21604, "A 'To' phone number is required."
    if not sender and "MessagingServiceSid" not in form:
        return 21603, "A 'From' phone number is required."
    if not E164.match(to):
        return 21211, f"The 'To' number {to} is not a valid phone number."
    if sender and not E164.match(sender):
        return 21212, f"The 'From' number {sender} is not a valid phone number."
    body = form.get("Body", [""])[0]
    if not body and not form.get("MediaUrl") and "ContentSid" not in form:
        return 21602, "Message body is required."
    if len(body) > 1600:
        return 21617, "The concatenated message body exceeds the 1600 character limit."
    validity = form.get("ValidityPeriod", ["1"])[0]
    if not validity.isdigit() or not 1 <= int(validity) <= 36000:
        return 20001, "ValidityPeriod must be between 1 and 36000 seconds (simulated check)."
    return None


def _call_problem(form: dict[str, list[str]]) -> tuple[int, str] | None:
    to, sender = form.get("To", [""])[0], form.get("From", [""])[0]
    if not to:
        return 21201, "No 'To' number is specified"
    if not sender:
        return 21213, "No 'From' number is specified"
    if not E164.match(to):
        return 21211, f"The 'To' number {to} is not a valid phone number."
    if not E164.match(sender):
        return 21212, f"The 'From' number {sender} is not a valid phone number."
    if not any(form.get(k, [""])[0] for k in ("Url", "Twiml", "ApplicationSid")):
        return 21205, "Url parameter is required."
    timeout = form.get("Timeout", ["60"])[0]
    if not timeout.isdigit() or not 1 <= int(timeout) <= 600:
        return 20001, "Timeout must be between 1 and 600 seconds (simulated check)."
    return None
