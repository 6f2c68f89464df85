"""/healthz says whether anyone can be paged now: a warning for monitoring, never a 503 for the load balancer."""

from __future__ import annotations

from app.health import NOBODY_TO_PAGE
from app.models import Rep
from workers import watchdog


def test_nobody_to_page_is_a_warning_and_a_manager_clears_it(hotline, client):
    watchdog.tick(hotline, "a")  # a live watchdog: the answer is 200 unless something else fails
    answer = client.get("/healthz")
    body = answer.get_json()
    assert answer.status_code == 200 and body["status"] == "ok"  # callers are still taken and recorded
    assert body["on_call"] == {"pageable_now": False, "sms_opted_out": 0} and body["warnings"] == [NOBODY_TO_PAGE]

    with hotline.db.transaction() as s:  # an active manager: the level that reaches nobody alerts them
        s.add(Rep(name="Morgan Manager", phone="+14155550199", is_manager=True))
    body = client.get("/healthz").get_json()
    assert body["on_call"] == {"pageable_now": True, "sms_opted_out": 0} and body["warnings"] == []


def test_an_inactive_manager_does_not_count(hotline, client):
    with hotline.db.transaction() as s:
        s.add(Rep(name="Morgan Manager", phone="+14155550199", is_manager=True, active=False))
    body = client.get("/healthz").get_json()
    assert body["on_call"] == {"pageable_now": False, "sms_opted_out": 0} and NOBODY_TO_PAGE in body["warnings"]
