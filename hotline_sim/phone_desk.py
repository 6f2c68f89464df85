"""Answers as each simulated phone would: replies to SMS, picks up calls, presses keys, bridges the customer.

Every action is a webhook signed like Twilio's and sent to the app's own Twilio routes
(through a transport: the Flask test client of the running app, or real HTTP), so the
admin page exercises exactly what a real phone and Twilio would. Call progress (what
was said, the pending ``<Gather>`` or ``<Dial>``) is kept on the call's outbox row.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlparse

from twilio.request_validator import RequestValidator

from app.clock import Clock
from hotline_sim.outbox import Item, SharedOutbox
from hotline_sim.phone import Transport

ACCOUNT_SID = "AC" + "0" * 32


class DeskError(ValueError):
    """The action does not fit the call's state (e.g. keys on a call that has ended)."""


class PhoneDesk:
    """Drives the simulated phones of a :class:`SharedOutbox` against the app."""

    def __init__(self, outbox: SharedOutbox, transport: Transport, sign_base: str, auth_token: str,
                 hotline_number: str, clock: Clock) -> None:
        self.outbox = outbox
        self.transport = transport
        self.sign_base = sign_base.rstrip("/")  # the URL the app checks signatures against
        self.auth_token = auth_token
        self.hotline_number = hotline_number or "+15005550006"
        self.clock = clock

    # ------------------------------------------------------------ SMS

    def reply(self, phone: str, body: str) -> str:
        """Send ``body`` from ``phone`` to the hotline number; the hotline's answer arrives as an SMS."""
        now = self.clock.now()
        sid = "SM" + secrets.token_hex(16)
        self.outbox.add("reply", phone, now, body=body, sid=sid)
        code, answer = self._post("/twilio/sms", {"MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID,
                                                  "From": phone, "To": self.hotline_number, "Body": body,
                                                  "NumMedia": "0"})
        if code != 200:
            raise DeskError(f"the hotline answered HTTP {code}")
        text = " ".join((m.text or "").strip() for m in ET.fromstring(answer).iter("Message")) if answer else ""
        if text:
            self.outbox.add("sms", phone, now, body=text)
        return text

    # ------------------------------------------------------------ calls

    def answer(self, item_id: int) -> Item:
        """Pick up a ringing call: a page, the hotline calling a rep, or a bridged customer leg."""
        call = self._call(item_id, "ringing")
        state = dict(call.state, status="in-progress")
        self.outbox.update_state(call.id, state)
        params = self._voice(call, "in-progress")
        if call.status_callback:
            extra = {"Timestamp": format_datetime(self.clock.now())} if state.get("parent") else {}
            self._post(call.status_callback, params | extra)
        if state.get("parent"):
            # the customer leg of a <Dial>: its whisper plays (it may wait for a key), then the legs connect
            self._whisper(call.id, self._post_ok(call.url, params) if call.url else "<Response/>")
            return self._reload(call.id)
        self._run(call.id, self._post_ok(call.url, params))
        return self._reload(call.id)

    def _whisper(self, call_id: int, document: str) -> None:
        """Play a <Dial>'d leg's whisper: a <Gather> waits for keys, a <Hangup> ends it, else the legs connect."""
        root = ET.fromstring(document)
        gather = root.find("Gather")
        self._note(call_id, None, said=self._reload(call_id).state.get("said", []) + _said(document))
        if gather is not None:
            self._note(call_id, None, gather=gather.get("action", ""))
            return
        if root.find("Hangup") is not None:
            self._complete(self._reload(call_id), "completed")
            return
        self._note(call_id, "(connected to the rep)")
        call = self._reload(call_id)
        parent = self.outbox.get(call.state["parent"])
        if parent is not None:
            self.outbox.update_state(parent.id, dict(parent.state, said=parent.state.get("said", []) +
                                                     [f"(connected to {call.phone})"]))

    def press(self, item_id: int, digits: str) -> Item:
        """Press keys at the call's pending <Gather>."""
        call = self._call(item_id, "in-progress")
        gather = call.state.get("gather")
        if not gather:
            raise DeskError("the call is not waiting for keys")
        self._note(call.id, f"[pressed {digits}]", gather=None)
        document = self._post_ok(gather, self._voice(call, "in-progress") | {"Digits": digits})
        if call.state.get("parent"):
            self._whisper(call.id, document)  # a dialled leg's whisper: the key may connect it
        else:
            self._run(call.id, document)
        return self._reload(call.id)

    def hang_up(self, item_id: int) -> Item:
        """End a call; hanging up the customer leg ends the rep's <Dial> too."""
        call = self._call(item_id, "in-progress")
        self._complete(call, "completed")
        parent_id = call.state.get("parent")
        parent = self.outbox.get(parent_id) if parent_id else None
        if parent is not None and parent.status == "in-progress":
            self._dial_done(parent, call, "completed")
        elif call.state.get("dialing"):
            child = self.outbox.get(call.state["dialing"])
            if child is not None and child.status in ("ringing", "in-progress"):
                self._complete(child, "completed" if child.status == "in-progress" else "no-answer")
        return self._reload(call.id)

    def decline(self, item_id: int) -> Item:
        """Let a ringing call go unanswered."""
        call = self._call(item_id, "ringing")
        self._complete(call, "no-answer")
        parent = self.outbox.get(call.state["parent"]) if call.state.get("parent") else None
        if parent is not None and parent.status == "in-progress":
            self._dial_done(parent, call, "no-answer")
        return self._reload(call.id)

    # ------------------------------------------------------------ TwiML

    def _run(self, call_id: int, document: str) -> None:
        """Play a TwiML document on the call until it waits (<Gather>, <Dial>) or ends."""
        for _ in range(10):  # <Redirect> chains are short; a loop would be a bug in the app
            root = ET.fromstring(document)
            redirect = None
            for verb in root:
                if verb.tag == "Say":
                    self._note(call_id, (verb.text or "").strip())
                elif verb.tag == "Gather":
                    for say in verb.iter("Say"):
                        self._note(call_id, (say.text or "").strip())
                    self._note(call_id, None, gather=verb.get("action", ""))
                    return
                elif verb.tag == "Dial":
                    self._dial(call_id, verb)
                    return
                elif verb.tag == "Redirect":
                    redirect = (verb.text or "").strip()
                    break
                elif verb.tag == "Hangup":
                    break
            if redirect is None:
                call = self._reload(call_id)
                self._complete(call, "completed")
                return
            document = self._post_ok(redirect, self._voice(self._reload(call_id), "in-progress"))

    def _dial(self, call_id: int, verb: ET.Element) -> None:
        if verb.find("Queue") is not None:
            self._empty_queue(call_id, verb)
            return
        number = verb.find("Number")
        target = (number.text or "").strip() if number is not None else (verb.text or "").strip()
        child = self.outbox.add(
            "call", target, self.clock.now(), url=number.get("url", "") if number is not None else "",
            status_callback=number.get("statusCallback", "") if number is not None else "",
            state={"status": "ringing", "said": [], "parent": call_id})
        call = self._reload(call_id)
        self.outbox.update_state(call_id, dict(call.state, dialing=child.id, dial_action=verb.get("action", ""),
                                               said=call.state.get("said", []) + [f"(dialling {target})"]))

    def _empty_queue(self, call_id: int, verb: ET.Element) -> None:
        """Issue 13: a ``<Dial><Queue>`` finds nobody here (a waiting caller holds in their own process, the
        scripted phones' ``hotline_sim.queues``); Twilio would time out the same way, and the app then dials out."""
        call = self._reload(call_id)
        self.outbox.update_state(call_id, dict(call.state, said=call.state.get("said", []) + ["(the queue is empty)"]))
        action = verb.get("action", "")
        if not action:
            self._complete(call, "completed")
            return
        extra = {"DialCallStatus": "no-answer", "DialCallDuration": "0"}
        self._run(call_id, self._post_ok(action, self._voice(self._reload(call_id), "in-progress") | extra))

    def _dial_done(self, parent: Item, child: Item, status: str) -> None:
        action = parent.state.get("dial_action", "")
        state = dict(parent.state, dialing=None)
        self.outbox.update_state(parent.id, state)
        if action:
            extra = {"DialCallStatus": status, "DialCallSid": child.sid, "DialCallDuration": "60"}
            self._run(parent.id, self._post_ok(action, self._voice(self._reload(parent.id), "in-progress") | extra))

    def _complete(self, call: Item, status: str) -> None:
        call = self._reload(call.id)
        if call.status in ("completed", "no-answer"):
            return
        self.outbox.update_state(call.id, dict(call.state, status=status, gather=None))
        if call.status_callback:
            extra = {"Timestamp": format_datetime(self.clock.now()), "CallDuration": "60"}
            self._post(call.status_callback, self._voice(call, status) | extra)

    # ------------------------------------------------------------ plumbing

    def _call(self, item_id: int, status: str) -> Item:
        call = self.outbox.get(item_id)
        if call is None or call.kind != "call":
            raise DeskError("no such call")
        if call.status != status:
            raise DeskError(f"the call is {call.status}, not {status}")
        return call

    def _reload(self, item_id: int) -> Item:
        item = self.outbox.get(item_id)
        assert item is not None
        return item

    def _note(self, call_id: int, line: str | None, **changes: object) -> None:
        call = self._reload(call_id)
        state = dict(call.state, **changes)
        if line:
            state["said"] = call.state.get("said", []) + [line]
        self.outbox.update_state(call_id, state)

    def _voice(self, call: Item, status: str) -> dict[str, str]:
        return {"CallSid": call.sid, "AccountSid": ACCOUNT_SID, "From": self.hotline_number, "To": call.phone,
                "CallStatus": status, "Direction": "outbound-api", "ApiVersion": "2010-04-01",
                "AnsweredBy": "human" if call.state.get("machine_detection") else ""}

    def _post_ok(self, url: str, params: dict[str, str]) -> str:
        code, body = self._post(url, params)
        if code != 200:
            raise DeskError(f"{urlparse(url).path} answered HTTP {code}")
        return body

    def _post(self, url: str, params: dict[str, str]) -> tuple[int, str]:
        parts = urlparse(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        params = {k: v for k, v in params.items() if v != ""}
        signed = self.sign_base + path
        signature = RequestValidator(self.auth_token).compute_signature(signed, params)
        return self.transport(signed, params, {"X-Twilio-Signature": signature})


def _said(document: str) -> list[str]:
    return [(say.text or "").strip() for say in ET.fromstring(document).iter("Say")] if document.strip() else []


def describe_time(at: datetime) -> str:
    """HH:MM:SS UTC, for the admin page."""
    return at.strftime("%H:%M:%S UTC")
