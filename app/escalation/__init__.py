"""The escalation core: pure rules of the 15-minute promise (no Flask, RQ, SQL or clock).

``decide(trigger, snapshot, now) -> Decision``; the services load the snapshot,
call it, and carry out the decision in one transaction.
"""

from app.escalation.decide import counts_as_paged, decide
from app.escalation.model import (
    Acknowledge,
    AnswerWithdrawn,
    Audience,
    CallbackAnswered,
    CallbackUnanswered,
    Connect,
    ContactJoined,
    Decision,
    MessageEnded,
    NotTexted,
    NumberCorrected,
    PageDue,
    PageFailed,
    PageOrder,
    ReachedByEmail,
    ReachedOnRelated,
    Reopen,
    RepNotReached,
    Resolve,
    SelfReported,
    ShortBridgeUnheard,
    Snapshot,
    State,
    StepDue,
)

__all__ = [
    "Acknowledge", "AnswerWithdrawn", "Audience", "CallbackAnswered", "CallbackUnanswered", "Connect", "ContactJoined",
    "Decision", "NotTexted", "NumberCorrected", "PageDue",
    "MessageEnded", "PageFailed", "PageOrder", "ReachedByEmail", "ReachedOnRelated", "RepNotReached", "Reopen", "Resolve", "SelfReported", "ShortBridgeUnheard", "Snapshot", "State",
    "StepDue", "counts_as_paged", "decide",
]
