"""The hourly cap on answers to unknown senders holds when their texts come at the same moment.

``_answer_unknown`` counted the hour's answers, then logged its own: texts running at once each read the same
count (an outside probe's 50 texts at once got 25 answers under a cap of 20). Each text here is Twilio's signed
webhook through the Flask app on its own thread, with its own database connection, released together.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.models import IncidentEvent
from app.services.sms_commands import UNKNOWN_REPLIES_PER_HOUR
from tests.e2e.test_unknown_sms import _sms

LEFT = 3  # answers left in the hour when the burst comes
AT_ONCE = 12


def test_texts_from_unknown_numbers_at_the_same_moment_get_no_more_answers_than_the_cap(app, hotline):
    client = app.test_client()
    for n in range(UNKNOWN_REPLIES_PER_HOUR - LEFT):
        assert _sms(client, n, f"+1347555{n:04d}")
    clients = [app.test_client() for _ in range(AT_ONCE)]
    start, replies = threading.Barrier(AT_ONCE), [None] * AT_ONCE

    def text(n: int) -> None:
        start.wait()
        replies[n] = _sms(clients[n], 100 + n, f"+1347556{n:04d}", "Acme here, our SMTP is down, call me")

    threads = [threading.Thread(target=text, args=(n,)) for n in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(1 for reply in replies if reply) == LEFT
    with hotline.db.session() as s:  # every one logged, answered or not
        logged = s.scalar(select(func.count(IncidentEvent.id)).where(IncidentEvent.kind == "sms_from_unknown_sender"))
    assert logged == UNKNOWN_REPLIES_PER_HOUR - LEFT + AT_ONCE
