"""The lookups of final statuses share out fairly: with more waiting than one pass takes (an outage's burst),
every one is asked within a bounded number of passes, the most overdue first, and none starves.

The watchdog used to read the newest 100 waiting pages a pass: with more waiting, and those newest still
waiting after their lookups (Twilio says "sent" or fails the lookup), the older ones (the most overdue) were
never asked.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

from app.models import Channel, Incident, Page, PageStatus
from app.services.status_lookups import PER_PASS
from hotline_sim.backoffice import work
from hotline_sim.twilio_records import ApiMessage, new_sid
from tests.paging.conftest import ALICE

WAITING = 300  # an outage-sized burst: 150 incidents, 2 page SMS each, whose delivery reports are all lost


def test_every_waiting_page_is_asked_within_a_bounded_number_of_passes_oldest_first(desk, twilio):
    t0 = desk.t0
    with desk.hotline.db.transaction() as s:
        incident = Incident(reference="424242", received_at=t0, captured_at=t0,
                            callback_due_at=t0 + timedelta(minutes=15))
        s.add(incident)
        s.flush()
        sids = []
        for i in range(WAITING):  # accepted by Twilio over the first minute, oldest first
            sent = t0 + timedelta(seconds=i / 5)
            message = twilio.add_message(ApiMessage(sid=new_sid("SM"), to=ALICE, from_="+15005550006",
                                                    body="SEV1 424242", date_created=sent, status="sent"))
            s.add(Page(incident_id=incident.id, channel=Channel.SMS, to_number=ALICE, status=PageStatus.SENT,
                       twilio_sid=message.sid, next_attempt_at=sent, created_at=sent, sent_at=sent, updated_at=sent))
            sids.append(message.sid)
    passes = math.ceil(WAITING / PER_PASS)
    first_asked: dict[str, int] = {}
    for n in range(passes):  # one watchdog pass a minute from when all of them are due
        desk.clock.set(t0 + timedelta(minutes=3 + n))
        work(desk.hotline)
        asked = Counter(r.path.rsplit("/", 1)[-1].removesuffix(".json") for r in twilio.requests if r.method == "GET")
        for sid in sids:
            if asked[sid] and sid not in first_asked:
                first_asked[sid] = n
    never = [i for i, sid in enumerate(sids) if sid not in first_asked]
    assert never == [], f"{len(never)} of {WAITING} never asked in {passes} passes (oldest: #{never[:3]})"
    order = [first_asked[sid] for sid in sids]
    assert order == sorted(order)  # the longest overdue first
