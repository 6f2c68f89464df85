"""The intake's language and short answers, carried in the signed action URLs of its TwiML (probe Z2).

The flow's state lives in the database. When the database cannot be reached mid-intake, the webhook that fails
still has its own URL: each intake reply puts a token in its ``<Gather>``/``<Record>`` actions and redirects
(``?...&token=...``), so the emergency voicemail speaks the caller's language, asks only for what is missing, and
the spooled rescue carries the answers (``incidents.rescue_call`` fills from them what the stored state lacks).

The token is ``base64url(mac + payload)``: the payload a compact JSON object (the language, then the short answers
that fit, whole, in ``MAX_PAYLOAD`` bytes, in ``FIELDS`` order; a field that does not fit is left out, and the
voicemail asks for it again: a long problem description, typically), the mac the first 16 bytes of one
HMAC-SHA256 over the call SID and the payload, with a key derived from the app's signing key. Twilio's own
signature covers the URL too, but the mac makes a token valid only for the call it was made for, and only from
this deployment: anything else reads as no token (the bilingual voicemail). At most ``MAX_TOKEN`` characters.

What it holds is what the caller said to Twilio (its speech results and keys), which Twilio logs anyway; in our
logs the query parameter is named ``token``, which ``app.logging_redact`` redacts in every access log line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, replace
from typing import Any

from ivr_flows.model import AffectedService, CallState, Captured, Lang, Stage

PARAM = "token"  # the query parameter: a name the log filter redacts (``app.logging_redact``)
MAX_PAYLOAD = 480  # bytes of JSON: the language and the answers that fit whole
MAC_BYTES = 16
MAX_TOKEN = -(-(MAC_BYTES + MAX_PAYLOAD) * 4 // 3)  # its characters (base64 without padding): 662
# what is carried, in the order it is kept when the payload is full: short key -> the ``Captured`` field
FIELDS = (("s", "affected_service"), ("p", "callback_phone"), ("x", "callback_extension"), ("t", "ticket_number"),
          ("c", "company"), ("n", "contact_name"), ("e", "email"), ("d", "problem_text"))
_LANGS = {"en": Lang.EN, "de": Lang.DE}
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # one encoder: once per IVR step
_CODES = {lang: code for code, lang in _LANGS.items()}


@dataclass(frozen=True)
class Carried:
    """What a verified token says: the caller's language and the answers it holds."""

    lang: Lang
    captured: Captured

    def known(self, name: str) -> bool:
        """True when the token holds the answer ``name`` (a ``Captured`` field)."""
        return bool(getattr(self.captured, name))

    def fill(self, captured: Captured) -> Captured:
        """``captured`` with each carried answer it lacks (a stored state is the truth where it has a value)."""
        values = {name: getattr(self.captured, name) for _short, name in FIELDS
                  if getattr(self.captured, name) and not getattr(captured, name)}
        return replace(captured, **values) if values else captured

    def to_record(self) -> dict[str, Any]:
        """A JSON object for the emergency spool (``from_record`` reads it back)."""
        return {"lang": self.lang.value, **{name: _plain(getattr(self.captured, name)) for _short, name in FIELDS
                                            if getattr(self.captured, name)}}

    @classmethod
    def from_record(cls, record: Any) -> Carried | None:
        """Read ``to_record``'s object back (None when it is none: the caller is rescued without it)."""
        try:
            return cls(Lang(record["lang"]), _captured({name: record.get(name) for _short, name in FIELDS}))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


def token(state: CallState, call_sid: str, key: bytes) -> str:
    """The token for the TwiML answering ``state`` ("" before the caller chose a language: nothing to carry)."""
    if state.stage is Stage.LANGUAGE:
        return ""
    c = state.captured
    data = {"l": _CODES[state.lang]}
    for short, name in FIELDS:
        value = getattr(c, name)
        if value:
            data[short] = value  # the affected service a StrEnum: JSON writes its value
    raw = _encode(data).encode()
    if len(raw) > MAX_PAYLOAD:  # rare (a long problem description): each answer that still fits, whole, in order
        raw = b'{"l":"' + data.pop("l").encode() + b'"'
        for short, value in data.items():
            item = f',"{short}":{_encode(value)}'.encode()
            if len(raw) + len(item) < MAX_PAYLOAD:
                raw += item
        raw += b"}"
    return base64.urlsafe_b64encode(_mac(key, call_sid, raw) + raw).rstrip(b"=").decode("ascii")


def read(text: str, call_sid: str, key: bytes) -> Carried | None:
    """What ``text`` carries when it is a token made for this call with ``key``; None otherwise (none, garbled,
    tampered, another call's, too long)."""
    if not text or len(text) > MAX_TOKEN:
        return None
    try:
        blob = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    mac, raw = blob[:MAC_BYTES], blob[MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(key, call_sid, raw)):
        return None
    try:
        data = json.loads(raw)
        return Carried(_LANGS[data["l"]], _captured({name: data.get(short) for short, name in FIELDS}))
    except (ValueError, TypeError, KeyError):  # signed by us, so never expected: read as no token
        return None


def key_of(settings) -> bytes:
    """The token key of a deployment: derived from its signing key (SECRET_KEY, else the data dir's), read once."""
    named = (settings.secret_key, str(settings.data_dir))
    key = _KEYS.get(named)
    if key is None:
        key = _KEYS[named] = hmac.new(settings.signing_key().encode(), b"sev1-intake-carried-answers",
                                      hashlib.sha256).digest()
    return key


_KEYS: dict[tuple[str, str], bytes] = {}  # per (SECRET_KEY, data dir): the data dir's key is a file read


def _mac(key: bytes, call_sid: str, raw: bytes) -> bytes:
    return hmac.digest(key, call_sid.encode() + b"\n" + raw, "sha256")[:MAC_BYTES]  # one-shot: no HMAC object


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, AffectedService) else value


def _captured(values: dict[str, Any]) -> Captured:
    """A ``Captured`` of the carried answers (each a string; an affected service one the flow knows)."""
    kept = {name: value for name, value in values.items() if isinstance(value, str) and value}
    if "affected_service" in kept:
        kept["affected_service"] = AffectedService(kept["affected_service"])
    return Captured(**kept)
