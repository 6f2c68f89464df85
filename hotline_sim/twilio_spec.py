"""Twilio's OpenAPI description (2010-04-01), used to check what the hotline sends.

The simulated Twilio validates every create request against the request body
schema Twilio publishes: known parameter names only, required ones present,
enum values, integers, booleans and absolute URLs.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
CALLS_PATH = "/2010-04-01/Accounts/{AccountSid}/Calls.json"
FORM = "application/x-www-form-urlencoded"


def default_spec_path() -> Path:
    """``$TWILIO_OPENAPI_SPEC``, else ``../shared/twilio/`` beside the repository, else the tests' copy."""
    override = os.environ.get("TWILIO_OPENAPI_SPEC")
    if override:
        return Path(override)
    root = Path(__file__).resolve().parents[1]
    shared = root.parent / "shared" / "twilio" / "twilio_api_v2010.json"
    return shared if shared.is_file() else root / "tests" / "data" / "twilio" / "twilio_api_v2010.json"


class SpecNotFound(FileNotFoundError):
    """The OpenAPI file is not where it was expected."""


@dataclass(frozen=True)
class OperationSpec:
    """The form parameters one create operation accepts."""

    path: str
    properties: Mapping[str, Mapping[str, Any]]  # name -> schema, $refs resolved
    required: frozenset[str]

    def violations(self, form: Mapping[str, Sequence[str]]) -> list[str]:
        """What in ``form`` (name -> values) the spec does not allow; empty when it conforms."""
        found: list[str] = []
        for name in sorted(self.required - form.keys()):
            found.append(f"{self.path}: required parameter {name} missing")
        for name, values in form.items():
            schema = self.properties.get(name)
            if schema is None:
                found.append(f"{self.path}: unknown parameter {name}")
                continue
            if schema.get("type") != "array" and len(values) > 1:
                found.append(f"{self.path}: {name} given {len(values)} times but is not an array")
            item = schema.get("items", {}) if schema.get("type") == "array" else schema
            found += [f"{self.path}: {name}={v!r}: {p}" for v in values if (p := _value_problem(item, v))]
        return found


def _value_problem(schema: Mapping[str, Any], value: str) -> str:
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        return f"not one of {enum}"
    kind = schema.get("type")
    if kind == "integer" and not value.lstrip("-").isdigit():
        return "not an integer"
    if kind == "number":
        try:
            float(value)
        except ValueError:
            return "not a number"
    if kind == "boolean" and value not in ("true", "false", "True", "False"):
        return "not a boolean"
    ignore = schema.get("x-twilio", {}).get("ignoreFormat", False)
    if schema.get("format") == "uri" and not ignore:
        parts = urlparse(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return "not an absolute http(s) URL"
    return ""


@functools.lru_cache(maxsize=4)
def _parsed(path: str, _mtime_ns: int, _size: int) -> Mapping[str, Any]:
    """The document at ``path``, parsed once per version of the file (1.9 MB: each simulated Twilio of a
    test run would otherwise spend about 40 ms parsing it). Nothing here changes the parsed document."""
    return json.loads(Path(path).read_text())


class TwilioSpec:
    """The loaded OpenAPI document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._doc = document

    @classmethod
    def load(cls, path: Path | str | None = None) -> TwilioSpec:
        """Read the spec from ``path`` (default: :func:`default_spec_path`)."""
        path = Path(path) if path is not None else default_spec_path()
        if not path.is_file():
            raise SpecNotFound(
                f"Twilio OpenAPI description not found at {path}: the shared/ directory must sit beside "
                "the repository (shared/twilio/twilio_api_v2010.json)"
            )
        stat = path.stat()
        return cls(_parsed(str(path.resolve()), stat.st_mtime_ns, stat.st_size))

    def create_operation(self, path: str) -> OperationSpec:
        """The POST (create) operation of ``path``, e.g. :data:`MESSAGES_PATH`."""
        try:
            body = self._doc["paths"][path]["post"]["requestBody"]["content"][FORM]["schema"]
        except KeyError as exc:
            raise KeyError(f"no form-encoded POST operation for {path} in the spec") from exc
        body = self._resolve(body)
        props = {name: self._resolve(schema) for name, schema in body.get("properties", {}).items()}
        for schema in props.values():
            if "items" in schema:
                schema["items"] = self._resolve(schema["items"])
        return OperationSpec(path, props, frozenset(body.get("required", ())))

    def enum(self, name: str) -> list[str]:
        """The values of a named enum schema, e.g. ``call_enum_status``."""
        return list(self._doc["components"]["schemas"][name]["enum"])

    def _resolve(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in schema:
            seen += 1
            if seen > 10:
                raise ValueError(f"$ref loop at {schema['$ref']}")
            node: Any = self._doc
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return dict(schema)
