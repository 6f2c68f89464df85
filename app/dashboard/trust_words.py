"""Timeline wording for caller-trust events (issue 9): who the caller proved to be, what matched, joins."""

from __future__ import annotations

from collections.abc import Callable

from app.services.joined_contacts import UNTRACKED

_FIELDS = (("company", "company"), ("contact_name", "name"), ("email", "e-mail"),
           ("callback_phone", "callback number"), ("caller_id", "caller ID"))
_VERIFIED = {"pin": "verified by support PIN", "reference": "verified by incident reference"}


def _checked(d: dict, _page: str) -> tuple[str, str]:
    who = _VERIFIED.get(str(d.get("verified")), "NOT verified (no PIN)")
    if d.get("ticket") == "nothing_on_file":
        return f"Caller {who}; no ticket to compare with", "muted" if d.get("verified") != "no" else "warn"
    parts = [f"{label} {str(d.get(key, '')).replace('_', ' ')}" for key, label in _FIELDS if d.get(key)]
    differs = any(d.get(key) == "differs" for key, _ in _FIELDS)
    css = "bad" if differs and d.get("verified") == "no" else ("warn" if d.get("verified") == "no" else "")
    return f"Caller {who}; against ticket {d.get('ticket', '')}: " + ", ".join(parts), css


def _joined(what: str) -> Callable[[dict, str], tuple[str, str]]:
    def describe(d: dict, _page: str) -> tuple[str, str]:
        said = "; ".join(f"{k}: {d[k]}" for k in ("company", "contact_name", "callback_phone", "email", "text")
                         if d.get(k))
        line = f"{what} (unverified caller){': ' + said if said else ''}"
        if d.get("contact_differs") and d.get("callback_due_at"):  # caller IDs are spoofed: theirs is a callback too
            due = str(d["callback_due_at"])[11:16]
            return (f"{line}. Their contact differs from this incident's: call {d.get('callback_phone') or d.get('email')}"
                    f" too, by {due} UTC (the deadline they were told; {UNTRACKED})", "bad")
        return line, "warn"

    return describe


TRUST_WORDS: dict[str, Callable[[dict, str], tuple[str, str]]] = {
    "caller_details_checked": _checked,
    "possibly_related": lambda d, _: (f"Possibly related to incident {d.get('reference', '')} ({d.get('why', '')})",
                                      "warn"),
    "report_joined": _joined("Another report from this number joined this incident (caller over the limit)"),
    "call_joined": _joined("A call from this number ended unfinished and joined this incident"),
    "repeat_call_ended": lambda d, _: (f"The caller called again and hung up ({d.get('stage', '')})", "muted"),
    "missed_call": lambda d, _: ("A call from this number ended before triage (missed call)", "muted"),
    "missed_call_not_theirs": lambda d, _: (
        f"A reply to the missed-call SMS said the call was not theirs: \"{d.get('text', '')}\"; nothing was opened "
        f"or paged{'' if d.get('answered') else ' (not answered again)'}", "muted"),
    "support_pin_checked": lambda d, _: ("Support PIN " + ("correct" if d.get("ok") else "WRONG"),
                                         "" if d.get("ok") else "warn"),
}
