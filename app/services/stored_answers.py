"""How long an answered webhook's answer is kept: given again to Twilio's retry within RETRY_WINDOW, emptied after.

The answer is TwiML that may read back what the caller said (company, name, callback number, e-mail); once no
retry can get it, it is only customer data at rest. The row itself stays for ever: Twilio's signature carries no
time, so the row is what keeps a replayed request from being acted on again (SECURITY.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from app.models import WebhookDelivery
from app.models.call import ANSWER_KEPT

# Twilio retries a webhook within seconds to minutes. A request signed like one answered longer ago than this is a
# replay (a proxy's log, a leaked capture): it gets an empty answer and is acted on never (SECURITY.md).
RETRY_WINDOW = timedelta(hours=1)
FORGET_AFTER = RETRY_WINDOW + timedelta(minutes=10)  # a margin for a web process whose clock is behind the worker's
FORGET_PER_PASS = 1000  # answers one watchdog pass empties (an upgraded database's old ones over many passes)


def old_answers(now: datetime, limit: int) -> Select:
    """The ids of the oldest answers no retry can be given any more, at most ``limit``."""
    return (select(WebhookDelivery.id).where(ANSWER_KEPT, WebhookDelivery.received_at < now - FORGET_AFTER)
            .order_by(WebhookDelivery.received_at).limit(limit))


def forget_old_answers(session: Session, now: datetime, limit: int = FORGET_PER_PASS) -> int:
    """Empty the oldest answers no retry can be given any more, at most ``limit``; how many were emptied."""
    ids = session.scalars(old_answers(now, limit)).all()
    if ids:
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).values(response=""))
    return len(ids)
