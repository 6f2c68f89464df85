"""What a replayed webhook may leave behind: nothing in any table, nothing in its answer."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import select

from app.models import Base

CALLER = "+14155550100"


def database_rows(hotline) -> dict[str, list]:
    """Every row of every table, in primary-key order: a replay that acts on nothing leaves all of them as they were."""
    with hotline.db.engine.connect() as conn:
        return {name: conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                for name, table in Base.metadata.tables.items()}


def is_empty_twiml(body: str) -> bool:
    """A TwiML ``<Response>`` with nothing in it: the call hears nothing, the request learns nothing."""
    root = ET.fromstring(body)
    return root.tag == "Response" and len(root) == 0 and not (root.text or "").strip()


def intake_to_readback(phone, caller: str = CALLER) -> tuple[object, dict[str, tuple[tuple[str, dict], str]]]:
    """A caller gives their details up to the read-back; returns the call and, by step, (its request, its answer)."""
    call = phone(caller)
    sent = {}
    for name, act in [("greeting", call.dial), ("language", lambda: call.press("1")),
                      ("service", lambda: call.press("1")), ("ticket", lambda: call.press("#")),
                      ("company", lambda: call.say("Acme Mail")), ("name", lambda: call.say("Dana Smith")),
                      ("number", lambda: call.press("1")), ("email", lambda: call.say("dana at acme dot example")),
                      ("email_ok", lambda: call.press("1")), ("problem", lambda: call.say("Every API call returns 500.")),
                      ("readback", lambda: call.record(seconds=5))]:
        act()
        sent[name] = (call.last_request, call.responses[-1])
    return call, sent
