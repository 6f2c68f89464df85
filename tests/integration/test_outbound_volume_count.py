"""The managers' outbound-volume alert counts the SMS it writes: one per number, none for a number twice over.

Two managers stored with one phone before such pairs were refused (``hotline check`` names them) read one SMS: the
alert wrote one and its log line said two.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.event_kind import EventKind
from app.models import Delivery, IncidentEvent, Notice, Rep
from app.services.outbound_volume import check_outbound_volume, outbound_count

MARIA, NINA = "+14155550133", "+14155550144"


def test_the_outbound_volume_alert_counts_each_managers_number_once(hotline):
    now = hotline.clock.now()
    with hotline.db.transaction() as s:
        s.add_all([Rep(name="Maria Manager", phone=MARIA, is_manager=True),
                   Rep(name="Mark Manager", phone=MARIA, is_manager=True),  # stored before the rule: one phone
                   Rep(name="Nina Manager", phone=NINA, is_manager=True),
                   Rep(name="Olga Former", phone="+14155550155", is_manager=True, active=False),
                   Rep(name="Alice Primary", phone="+14155550111")])
        s.add_all([Notice(purpose="missed_call", to_number=f"+1415555020{n}", body="call us again", created_at=now)
                   for n in range(3)])
    with hotline.db.transaction() as s:
        check_outbound_volume(s, now, per_hour=2)
    with hotline.db.session() as s:
        alerts = sorted(s.scalars(select(Notice.to_number).where(Notice.purpose == "outbound_volume")))
        [line] = s.scalars(select(IncidentEvent).where(IncidentEvent.kind == EventKind.OUTBOUND_VOLUME_ALERT)).all()
    assert alerts == [MARIA, NINA]
    assert line.detail == {"count": 3, "per_hour": 2, "managers": 2}  # was 3: Maria's number counted twice


def test_the_outbound_volume_counts_the_sms_deliveries_too(hotline):
    """An outside probe's 133 outbound SMS and calls in ten minutes alerted nobody at 120 an hour: the count read the
    pages (60) and notices (60) and left out the 11 SMS deliveries (updates, confirmations, the customer's words to the
    owner). E-mails are not SMS or calls: not counted."""
    now = hotline.clock.now()
    with hotline.db.transaction() as s:
        s.add(Rep(name="Maria Manager", phone=MARIA, is_manager=True))
        s.add_all([Notice(purpose="missed_call", to_number=f"+1415555020{n}", body="call us again", created_at=now)
                   for n in range(2)])
        s.add_all([Delivery(channel=channel, to_address=to, body="Update", recipient="customer", purpose="update",
                            created_at=now, next_attempt_at=now)
                   for channel, to in (("sms", "+14155550300"), ("sms", "+14155550301"), ("email", "d@acme.example"))])
    with hotline.db.transaction() as s:
        assert outbound_count(s, now - timedelta(hours=1)) == 4  # two notices, two SMS deliveries, no e-mail
        check_outbound_volume(s, now, per_hour=3)
    with hotline.db.session() as s:
        [line] = s.scalars(select(IncidentEvent).where(IncidentEvent.kind == EventKind.OUTBOUND_VOLUME_ALERT)).all()
        assert s.scalars(select(Notice.to_number).where(Notice.purpose == "outbound_volume")).all() == [MARIA]
    assert line.detail == {"count": 4, "per_hour": 3, "managers": 1}


def test_the_hotlines_own_pages_to_its_reps_managers_and_tam_are_not_counted(hotline):
    """An outside probe's genuine 16-incident outage sent the manager "175 outbound ... Possible flood or toll fraud":
    nearly all of them were the hotline's pages and alerts to its own reps. Only texts and calls to numbers a caller
    can steer (the customers', unknown ones) count; pages to reps (either phone), managers and TAMs do not."""
    from app.models import Account, Incident, Page

    now = hotline.clock.now()
    alice, alt, tam, customer = "+14155550111", "+14155550112", "+14155550166", "+14155550100"
    with hotline.db.transaction() as s:
        s.add_all([Rep(name="Maria Manager", phone=MARIA, is_manager=True),
                   Rep(name="Alice Primary", phone=alice, phone_alt=alt),
                   Account(name="Acme", tam_phone=tam)])
        incident = Incident(reference="OWN001", received_at=now, captured_at=now, callback_phone=customer,
                            callback_due_at=now + timedelta(minutes=15))
        s.add(incident)
        s.flush()
        to = [alice] * 20 + [alt] * 5 + [MARIA] * 10 + [tam] * 3 + [customer] * 2  # the customer's receipt, notice
        s.add_all([Page(incident_id=incident.id, channel="sms", to_number=number, created_at=now,
                        next_attempt_at=now, updated_at=now) for number in to])
        s.add(Delivery(channel="sms", to_address=alice, body="the customer wrote", recipient="owner",
                       purpose="customer_text", created_at=now, next_attempt_at=now))
    with hotline.db.transaction() as s:
        assert outbound_count(s, now - timedelta(hours=1)) == 2  # was 41
        check_outbound_volume(s, now, per_hour=3)
    with hotline.db.session() as s:
        assert s.scalars(select(IncidentEvent).where(IncidentEvent.kind == EventKind.OUTBOUND_VOLUME_ALERT)).all() == []
