"""RQ job functions: take ids, reload, exit early, safe to run twice."""

from __future__ import annotations

from app.services import steps
from workers.context import current


def run_step(step_id: int) -> bool:
    """Run due step ``step_id`` unless another run already did; True when this run did it."""
    hotline = current()
    with hotline.db.transaction() as session:
        return steps.run_step(session, step_id, hotline.clock.now())
