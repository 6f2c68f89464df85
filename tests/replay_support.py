"""What a replayed webhook may leave behind: nothing in any table, nothing in its answer."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import select

from app.models import Base


def database_rows(hotline) -> dict[str, list]:
    """Every row of every table, in primary-key order: a replay that acts on nothing leaves all of them as they were."""
    with hotline.db.engine.connect() as conn:
        return {name: conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                for name, table in Base.metadata.tables.items()}


def is_empty_twiml(body: str) -> bool:
    """A TwiML ``<Response>`` with nothing in it: the call hears nothing, the request learns nothing."""
    root = ET.fromstring(body)
    return root.tag == "Response" and len(root) == 0 and not (root.text or "").strip()
