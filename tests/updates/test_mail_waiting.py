"""An SMTP that refuses is seen: each failed try is a WARNING in the worker's log and /healthz warns while e-mails
wait for it (an outside probe kept SMTP refusing for 20 minutes, 18 failed tries, and /healthz said nothing)."""

from __future__ import annotations

import logging
import socket

from app.health import MAIL_WAITING
from app.models import DeliveryChannel, Rep
from app.services.deliveries import DeliverySender, queue_delivery
from tests.integration.board_support import make_incident
from workers import watchdog


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mail_waiting_for_smtp_is_warned_of_until_it_leaves(hotline, client, smtp, caplog):
    with hotline.db.transaction() as s:
        s.add(Rep(name="Morgan Manager", phone="+14155550199", is_manager=True))
    watchdog.tick(hotline, "a")
    incident_id = make_incident(hotline)
    with hotline.db.transaction() as s:
        mail_id = queue_delivery(s, channel=DeliveryChannel.EMAIL, to="dana@acme.example", purpose="receipt",
                                 subject="Your incident", body="We have your report.", now=hotline.clock.now(),
                                 incident_id=incident_id).id
    assert not [w for w in client.get("/healthz").get_json()["warnings"] if "SMTP" in w]  # queued, never tried
    refusing = hotline.settings.with_overrides(smtp_port=_closed_port())
    caplog.set_level(logging.WARNING, logger="app.services.deliveries")
    DeliverySender(hotline.db, hotline.telephony, refusing).send(mail_id, hotline.clock.now())

    body = client.get("/healthz").get_json()
    queued_at = f"{hotline.clock.now():%H:%M:%S} UTC"
    assert body["status"] == "ok" and MAIL_WAITING.format(count=1, since=queued_at) in body["warnings"]
    [line] = [r for r in caplog.records if r.name == "app.services.deliveries"]
    assert line.levelno == logging.WARNING and "failed at attempt 1, tried again at" in line.getMessage()
    assert "receipt to the customer" in line.getMessage() and "dana@" not in line.getMessage()

    hotline.clock.advance(minutes=5)  # SMTP answers again: the retry leaves and the warning goes
    DeliverySender(hotline.db, hotline.telephony, hotline.settings).send(mail_id, hotline.clock.now())
    assert len(smtp.inbox.to("dana@acme.example")) == 1
    assert not [w for w in client.get("/healthz").get_json()["warnings"] if "SMTP" in w]
