"""Hostile JSON bodies (nested too deep, NaN, huge numbers) get a clear 400, never a 500."""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Flask, Request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

# No body this API takes nests deeper than a handful of levels (a schedule's layers' members).
MAX_DEPTH = 32
_OPENERS = frozenset(b"[{")
_CLOSERS = frozenset(b"]}")


class HostileJSON(ValueError):
    """A JSON text that is well-formed enough to parse but not acceptable (too deep, NaN)."""


def nesting_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in ``data``, ignoring brackets inside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in _OPENERS:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:  # stop early: the rest cannot make it acceptable
                    return deepest
        elif byte in _CLOSERS:
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise HostileJSON(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    """A JSON number as a float, refused when it overflows to infinity (``1e400``)."""
    value = float(text)
    if math.isinf(value):
        raise HostileJSON(f"{text[:24]} is not a JSON number this API takes (too large)")
    return value


def load_untrusted(data: str | bytes) -> Any:
    """Parse JSON from a request; raise HostileJSON (a ValueError) when it is unacceptable."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if nesting_depth(raw) > MAX_DEPTH:
        raise HostileJSON(f"arrays and objects nest deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:  # belt and braces: the depth check should have caught it
        raise HostileJSON(f"arrays and objects nest deeper than {MAX_DEPTH} levels") from None


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, parsing with ``load_untrusted``."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse ``s``; HostileJSON for bodies nested too deep or with NaN/Infinity."""
        if kwargs:
            return super().loads(s, **kwargs)
        return load_untrusted(s)


class GuardedRequest(Request):
    """A request whose unparsable JSON says why in its 400 (Flask's own says nothing outside debug)."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        """415 without a JSON content type; otherwise 400 naming what is wrong with the body."""
        if e is None:
            return super().on_json_loading_failed(e)
        if isinstance(e, HostileJSON):
            raise BadRequest(f"the JSON body is not accepted: {e}")
        if isinstance(e, UnicodeDecodeError):
            raise BadRequest("the JSON body is not valid UTF-8")
        # json's message names a line and column, never quotes the body
        raise BadRequest(f"the body is not valid JSON: {str(e)[:200]}")


def install(app: Flask) -> None:
    """Make every ``request.get_json()`` of ``app`` refuse hostile JSON with a 400."""
    app.json_provider_class = GuardedJSONProvider
    app.json = GuardedJSONProvider(app)
    app.request_class = GuardedRequest
