"""Twilio's side of the chaos run: signed intake calls, status callbacks, rep replies; counts webhook 5xx."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter

from twilio.request_validator import RequestValidator

from hotline_sim.phone import SimulatedCall, http_transport
from hotline_sim.twilio_api import SimulatedTwilio

HOTLINE_NUMBER = "+15005550006"
ALICE = "+14155550111"


class Phones:
    """Twilio's side of the phones: status callbacks for what it accepted; counts webhook 5xx."""

    def __init__(self, twilio: SimulatedTwilio, web_urls: list[str], public: str) -> None:
        self.twilio, self.web_urls, self.public = twilio, web_urls, public
        self.validator = RequestValidator(twilio.auth_token)
        self.seen: set[str] = set()
        self.statuses: Counter = Counter()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._n = 0

    def post(self, public_url: str, params: dict[str, str]) -> int:
        """POST signed like Twilio, to one of the web processes in turn."""
        self._n += 1
        transport = http_transport(self.web_urls[self._n % len(self.web_urls)], timeout=15)
        signature = self.validator.compute_signature(public_url, params)
        try:
            status, _ = transport(public_url, params, {"X-Twilio-Signature": signature})
        except OSError:
            status = 599  # no answer at all
        self.statuses[status // 100 * 100] += 1
        return status

    def _run(self) -> None:
        while not self.stop.wait(1.0):
            for call in self.twilio.calls:
                if call.sid in self.seen or not call.status_callback or time.time() - call.date_created.timestamp() < 2:
                    continue
                self.seen.add(call.sid)
                self.post(call.status_callback, {"CallSid": call.sid, "CallStatus": "no-answer",
                                                 "AccountSid": self.twilio.account_sid, "From": call.from_,
                                                 "To": call.to, "Direction": "outbound-api",
                                                 "ApiVersion": "2010-04-01"})
            for message in self.twilio.messages:
                if message.sid in self.seen or not message.status_callback:
                    continue
                self.seen.add(message.sid)
                self.post(message.status_callback, {"MessageSid": message.sid, "SmsSid": message.sid,
                                                    "MessageStatus": "delivered", "SmsStatus": "delivered",
                                                    "AccountSid": self.twilio.account_sid, "From": message.from_,
                                                    "To": message.to, "ApiVersion": "2010-04-01"})


WORDS_PER_SECOND = 2.5  # Twilio's <Say> at about 150 words a minute
ANSWER_SECONDS = 2.0  # a caller pressing a key or saying a few words


def intake_call(phones: Phones, caller: str, pace: float = 0.0) -> bool:
    """One signed Sev-1 intake call through the whole flow; True when it ended with the promise.

    ``pace`` 1.0 plays the call in real time, as Twilio would: each prompt takes its words at
    150 a minute to say and the caller a moment to answer before the next webhook; 0 answers at once.
    """
    phones._n += 1
    transport = http_transport(phones.web_urls[phones._n % len(phones.web_urls)], timeout=15)
    call = SimulatedCall(transport=transport, base_url=phones.public, auth_token=phones.twilio.auth_token,
                         caller=caller, to=HOTLINE_NUMBER)

    def listen() -> None:
        if pace > 0 and call.prompt is not None:
            words = sum(len(text.split()) for text in call.prompt.said)
            time.sleep(pace * (words / WORDS_PER_SECOND + ANSWER_SECONDS))

    try:
        call.dial()
        for action, arg in [("press", "1"), ("press", "1"), ("press", "#"), ("say", "Acme Mail"),
                            ("say", "Dana Smith"), ("press", "1"), ("say", "dana at acme dot example"),
                            ("press", "1"), ("say", "Every API call returns 500."), ("record", "5"), ("press", "1")]:
            listen()
            {"press": call.press, "say": call.say, "record": lambda s: call.record(int(s))}[action](arg)
        if call.prompt is not None and call.prompt.kind == "gather":
            listen()
            call.silence()  # issue 13: no answer to the live-connect offer: the callback, and the call ends
        return True
    except Exception as exc:  # noqa: BLE001 - counted and reported, the run goes on
        print(f"  intake call from {caller[-4:]} failed: {exc}", flush=True)
        phones.statuses[500] += 1
        return False


def acknowledge(phones: Phones, engine, reference: str) -> None:
    """The primary replies ACK <ref> to the page SMS."""
    phones.post(f"{phones.public}/twilio/sms", {
        "MessageSid": "SM" + os.urandom(16).hex(), "SmsSid": "SM" + os.urandom(16).hex(), "From": ALICE,
        "To": HOTLINE_NUMBER, "Body": f"ACK {reference}", "AccountSid": phones.twilio.account_sid,
        "NumMedia": "0", "ApiVersion": "2010-04-01"})
