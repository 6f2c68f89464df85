"""How often a rep's refused SMS is answered by SMS: the same answer about the same incident once in ``ANSWER_EVERY``.

A refused command (an ACK of an incident someone else owns, words that are no command, an unknown reference) changes
nothing; its answer says why. A phone or a script that repeats it (an auto-reply answering each of our answers, a
loop sending ACK 200 times) was answered each time: an SMS each, without bound. Now the rep gets an answer the first
time, and the same answer to the same command again only once ``ANSWER_EVERY`` has passed; an answer that says
something else (another incident, another reference, the incident closed or taken by someone else since), or answers
another command (CALL after ACK), goes at once, up to ``ANSWERS_PER_REP`` of them. In between the
refusal is carried out as before (nothing changes) and gets no SMS back. A loop converges on one answer (an echo of
ours, or an auto-reply, is no command: "not understood", the same words each time), so it costs an SMS every
``ANSWER_EVERY``. Its line in the log follows ``refusal_lines`` (one an hour). A command carried out is always answered.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.event_kind import EventKind
from app.models import RefusalAnswer, Rep
from app.services.advisory_locks import REP_REFUSAL_SPACE, hold
from app.services.refusal_lines import SMS, log_refusal

ANSWER_EVERY = timedelta(minutes=10)
# answers to one rep's refusals in ``ANSWER_EVERY``, whatever they say: a script varying its words (a new reference
# each time) gets no more
ANSWERS_PER_REP = 10


def hold_rep(session: Session, rep: Rep) -> None:
    """Make this transaction the only one counting ``rep``'s refusals (their lines and answers) until it ends."""
    hold(session, REP_REFUSAL_SPACE, str(rep.id))


def refusal_answer(session: Session, rep: Rep, incident_id: int | None, refusal: str, answer: str,
                   now: datetime) -> str:
    """``answer``, the SMS back to ``rep``'s refused SMS (``refusal``: its command and outcome or log kind), or ""
    when the same answer to the same refusal about the same incident (None: about none) went to them within
    ``ANSWER_EVERY``, or ``ANSWERS_PER_REP`` answers to their refusals did."""
    if not answer:
        return answer
    hold_rep(session, rep)
    words = hashlib.sha256(f"{refusal}\n{answer}".encode()).hexdigest()[:16]
    recent = list(session.execute(select(RefusalAnswer.incident_id, RefusalAnswer.words).where(
        RefusalAnswer.rep_id == rep.id, RefusalAnswer.answered_at > now - ANSWER_EVERY)
        .limit(ANSWERS_PER_REP)))
    if (incident_id, words) in {(row.incident_id, row.words) for row in recent} or len(recent) >= ANSWERS_PER_REP:
        return ""
    session.execute(delete(RefusalAnswer).where(RefusalAnswer.rep_id == rep.id,
                                                RefusalAnswer.answered_at <= now - ANSWER_EVERY))
    session.add(RefusalAnswer(rep_id=rep.id, incident_id=incident_id, refusal=refusal[:40], words=words,
                              answered_at=now))
    return answer


def refuse_sms(session: Session, rep: Rep, now: datetime, kind: EventKind, detail: dict, answer: str,
               incident_id: int | None = None, command: str = "") -> str:
    """A rep's SMS refused before any service acted on it: its line (``refusal_lines``: one an hour) and its answer
    (``refusal_answer``), counted under the rep's lock. A service's refusal writes its own line (``acks._lined``)."""
    hold_rep(session, rep)
    log_refusal(session, now, kind, rep.name, SMS, incident_id, detail)
    return refusal_answer(session, rep, incident_id, f"{command} {kind}".strip(), answer, now)
