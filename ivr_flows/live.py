"""Issue 13: after the intake, a caller who may be connected live is handed to the live-connect webhook.

The flow does not know whether an engineer has acknowledged; the webhook it hands over to
reads that from SQL and makes the offer ("an engineer is ready" or "wait on the line").
"""

from __future__ import annotations

from .model import CallState, Reply, Step
from .questions import t
from .steps import log


def hand_over_live(state: CallState, lines: list[str], kind: str, reference: str) -> Step | None:
    """The closing lines without the goodbye, then the live-connect offer; None when live connect is off."""
    if not state.policy.live_connect:
        return None
    goodbye = t(state, "goodbye")
    say = tuple(line for line in lines if line != goodbye)
    reply = Reply(lang=state.lang, say=say, hand_over=("live_connect", reference))
    return Step(state=state, reply=reply, effects=(log(kind, reference=reference), log("live_connect_handed_over")))
