"""Two runs of one customer update's delivery at once (an RQ worker and a watchdog's takeover, or two
workers' watchdogs while Redis is down): only one claim may win, or the customer gets the update twice.

SQLite ignores FOR UPDATE and pysqlite reads outside the transaction, so run B may read the row as
queued, then run A claims and commits, then B writes its claim over A's. Pages claim with a
compare-and-set on what was read (test_page_proof); a delivery must too.
(PostgreSQL's FOR UPDATE makes B wait for A instead, so the interleaving cannot happen there.)
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from app.models import Delivery, DeliveryChannel, UpdateDeliveryStatus
from app.services.deliveries import DeliverySender, queue_delivery


def test_two_runs_claiming_one_update_delivery_at_once_only_one_sends_it(desk, twilio, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("FOR UPDATE serializes the claims on PostgreSQL")
    hotline, to = desk.hotline, "+14155550188"
    incident = desk.open_incident()
    now = desk.clock.now()
    with hotline.db.transaction() as s:
        delivery_id = queue_delivery(s, channel=DeliveryChannel.SMS, to=to, purpose="update",
                                     body="Update: still on it.", now=now, incident_id=incident.id).id
    db = hotline.db
    sender = DeliverySender(db, hotline.telephony, hotline.settings)
    claims = []

    def run_a_claims_first(conn, cursor, statement, *args):
        if statement.startswith("UPDATE deliveries") and not claims:  # B has read the row and is about to write
            claims.append("A")
            with db.transaction() as other:
                claims.append(sender._claim(other, delivery_id, now) is not None)

    event.listen(db.engine, "before_cursor_execute", run_a_claims_first)
    try:
        with db.transaction() as session:
            b_claimed = sender._claim(session, delivery_id, now) is not None
    finally:
        event.remove(db.engine, "before_cursor_execute", run_a_claims_first)
    assert claims == ["A", True]
    assert b_claimed is False  # B's claim on what it read no longer matches
    with db.session() as s:
        assert s.get(Delivery, delivery_id).attempts == 1
        assert s.get(Delivery, delivery_id).status == UpdateDeliveryStatus.SENDING


def test_two_runs_of_one_missed_call_notice_at_once_send_it_once(desk, twilio, database_url):
    """The same race on a notice (a missed-call invitation, a volume alert): one SMS, not two."""
    if not database_url.startswith("sqlite"):
        pytest.skip("FOR UPDATE serializes the claims on PostgreSQL")
    from app.models import Notice, NoticeStatus
    from app.services.notices import send_notice

    hotline, to, now = desk.hotline, "+14155550190", desk.clock.now()
    with hotline.db.transaction() as s:
        notice = Notice(purpose="missed_call", to_number=to, body="We missed your call.", created_at=now)
        s.add(notice)
        s.flush()
        notice_id = notice.id
    db, base, runs = hotline.db, "https://hotline.example.com", []

    def run_a_goes_first(conn, cursor, statement, *args):
        if statement.startswith("UPDATE notices") and not runs:  # B has read the row and is about to write
            runs.append("A")
            send_notice(db, hotline.telephony, base, notice_id, now)

    event.listen(db.engine, "before_cursor_execute", run_a_goes_first)
    try:
        send_notice(db, hotline.telephony, base, notice_id, now)  # run B
    finally:
        event.remove(db.engine, "before_cursor_execute", run_a_goes_first)
    assert runs == ["A"]
    assert [m.body for m in twilio.messages if m.to == to] == ["We missed your call."]
    with db.session() as s:
        assert (s.get(Notice, notice_id).status, s.get(Notice, notice_id).attempts) == (NoticeStatus.SENT, 1)
