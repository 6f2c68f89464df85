"""On-call documents written as YAML without PyYAML: the admin's on-call page shows two of them.

Issue 12 (memory): importing PyYAML and its C parser costs a web worker about 1.3 MB that it keeps
for good, and the on-call page (the whole configuration and the default policy, each in a textarea
to edit) was the only page that loaded it. Reading YAML stays PyYAML's (``yaml.safe_load``, only
when an admin imports or saves one). The documents hold mappings, lists and plain values (names,
numbers, booleans, ISO dates and times), written in PyYAML's block style as people write YAML by
hand: sequences indented under their key, a list of plain values on one line. A string is written
bare only when YAML reads it back as that same string; otherwise single-quoted, or double-quoted
with escapes when it holds a line break or a character that is not printable.
"""

from __future__ import annotations

import math
import re

# A bare (plain) scalar: a letter first, then letters, digits, spaces and ``_./@+-`` (no ``:`` or
# ``#``, no flow indicators), not ending in a space; and none of YAML 1.1's booleans or nulls.
_PLAIN = re.compile(r"[^\W\d_][\w ./@+-]*", re.UNICODE)
_RESERVED_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})
_LINE_BREAKS = frozenset("\x85\u2028\u2029")


def dump(doc: dict) -> str:
    """``doc`` as a YAML document (a mapping at the top), ending in a newline."""
    return "".join(_mapping(doc, 0)) if doc else "{}\n"


def scalar(value: object) -> str:
    """One value as YAML: ``null``, ``true``/``false``, a number, or a string bare or quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        return _float(value)
    if not isinstance(value, str):
        raise TypeError(f"no YAML for a {type(value).__name__}")
    if _PLAIN.fullmatch(value) and not value.endswith(" ") and value.lower() not in _RESERVED_WORDS:
        return value
    if value.isprintable() and not _LINE_BREAKS.intersection(value):
        return "'" + value.replace("'", "''") + "'"
    return '"' + "".join(_escaped(c) for c in value) + '"'


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text  # 1e-05: YAML 1.1 needs a dot


def _escaped(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if " " <= char <= "~":
        return char
    if char == "\n":
        return "\\n"
    return f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}"


def _mapping(doc: dict, indent: int, first_prefix: str | None = None) -> list[str]:
    lines = []
    for i, (key, value) in enumerate(doc.items()):
        prefix = first_prefix if i == 0 and first_prefix is not None else " " * indent
        lines.extend(_entry(prefix, scalar(str(key)), value, indent))
    return lines


def _entry(prefix: str, key: str, value: object, indent: int) -> list[str]:
    if isinstance(value, dict) and value:
        return [f"{prefix}{key}:\n", *_mapping(value, indent + 2)]
    if isinstance(value, list) and not _flow(value):
        return [f"{prefix}{key}:\n", *_sequence(value, indent + 2)]
    return [f"{prefix}{key}: {_inline(value)}\n"]


def _sequence(items: list, indent: int) -> list[str]:
    lines = []
    for item in items:
        dash = " " * indent + "- "
        if isinstance(item, dict) and item:
            lines.extend(_mapping(item, indent + 2, first_prefix=dash))
        elif isinstance(item, list) and not _flow(item):
            lines.extend([dash.rstrip() + "\n", *_sequence(item, indent + 2)])
        else:
            lines.append(f"{dash}{_inline(item)}\n")
    return lines


def _flow(items: list) -> bool:
    """A list of plain values (or an empty one) goes on one line: ``[sms, voice]``."""
    return all(not isinstance(item, dict | list) for item in items)


def _inline(value: object) -> str:
    if isinstance(value, dict):
        return "{}"  # only an empty one comes here
    if isinstance(value, list):
        return "[" + ", ".join(scalar(item) for item in value) + "]"
    return scalar(value)
