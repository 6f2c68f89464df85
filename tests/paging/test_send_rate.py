"""Issue 12: Twilio's account rates are kept across workers, under concurrency, and never block a page for good.

Time here is virtual: the pacer's sleep parks the thread until the driver moves the fake clock
(shared with the simulated Twilio, which stamps each request it accepts) to the earliest wake-up.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from redis import Redis
from sqlalchemy import select

from app.models import Channel, Page, PageStatus
from app.services.page_urls import PageUrls
from app.services.pages import PageSender
from app.telephony.rate import CALLS, SMS, Pacer, SendRate, may_wait

pytestmark = pytest.mark.every_database  # page threads of two workers sending at once

NUMBERS = [f"+1415555{200 + i:04d}" for i in range(12)]


class VirtualTime:
    """Sleeping threads wait for the fake clock; the driver moves it to the earliest wake-up once all are parked."""

    def __init__(self, clock, workers: int) -> None:
        self.clock, self.running = clock, workers
        self.wakes: list = []
        self.cond = threading.Condition()

    def sleep(self, seconds: float) -> None:
        with self.cond:
            wake = self.clock.now() + timedelta(seconds=seconds)
            self.wakes.append(wake)
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.clock.now() >= wake)
            self.wakes.remove(wake)

    def done(self) -> None:
        with self.cond:
            self.running -= 1
            self.cond.notify_all()

    def drive(self) -> None:
        with self.cond:
            while self.running:
                if self.wakes and len(self.wakes) == self.running:  # everyone still working is asleep
                    self.clock.set(max(self.clock.now(), min(self.wakes)))
                    self.cond.notify_all()
                self.cond.wait(timeout=5)


def _voice_pages(desk, count: int) -> list[int]:
    incident = desk.open_incident()
    with desk.hotline.db.transaction() as s:
        pages = [Page(incident_id=incident.id, name=f"Rep {i}", role="primary", channel=Channel.VOICE, to_number=n,
                      purpose="page", status=PageStatus.QUEUED, next_attempt_at=desk.clock.now(),
                      created_at=desk.clock.now(), updated_at=desk.clock.now()) for i, n in enumerate(NUMBERS[:count])]
        s.add_all(pages)
        s.flush()
        return [p.id for p in pages]


def _one_call_a_second(desk, redis_conn, max_wait: float) -> PageSender:
    """A sender paced at one call a second, whose sleeps move the fake clock."""
    hotline = desk.hotline
    pacer = Pacer(SendRate(redis_conn, f"{hotline.settings.queue_name}:rate-test", {CALLS: 1.0}), desk.clock,
                  sleep=lambda s: desk.clock.advance(seconds=s), max_wait=max_wait)
    return PageSender(hotline.db, hotline.telephony, PageUrls(hotline.settings), pacer)


def _accepted_calls(twilio) -> list:
    return sorted(c.date_created for c in twilio.calls if c.direction == "outbound-api" and c.to in NUMBERS)


def test_two_workers_pages_in_parallel_keep_the_account_call_rate(desk, twilio, redis_conn):
    hotline = desk.hotline
    page_ids = _voice_pages(desk, 8)
    start = desk.clock.now()
    virtual = VirtualTime(desk.clock, workers=len(page_ids))
    # two workers: each its own pacer and SendRate object, one shared schedule in Redis
    scope = f"{hotline.settings.queue_name}:rate-test"
    pacers = [Pacer(SendRate(redis_conn, scope, {CALLS: 2.0, SMS: 100.0}), desk.clock, sleep=virtual.sleep,
                    max_wait=60) for _ in range(2)]

    def send(i: int, page_id: int) -> None:
        may_wait()  # as a page thread
        try:
            PageSender(hotline.db, hotline.telephony, PageUrls(hotline.settings), pacers[i % 2]).send(
                page_id, desk.clock.now())
        finally:
            virtual.done()

    threads = [threading.Thread(target=send, args=(i, pid)) for i, pid in enumerate(page_ids)]
    for t in threads:
        t.start()
    virtual.drive()
    for t in threads:
        t.join()

    stamps = _accepted_calls(twilio)
    assert len(stamps) == 8 and stamps[0] == start
    gaps = [(b - a).total_seconds() for a, b in zip(stamps, stamps[1:], strict=False)]
    assert min(gaps) >= 0.5 and stamps[-1] - start == timedelta(seconds=3.5)  # 2 calls a second, none early
    with hotline.db.session() as s:
        assert set(s.scalars(select(Page.status).where(Page.id.in_(page_ids)))) == {PageStatus.SENT}


def test_a_page_whose_slot_is_far_off_is_put_off_until_then_without_spending_an_attempt(desk, twilio, redis_conn):
    hotline = desk.hotline
    page_ids = _voice_pages(desk, 4)
    start = desk.clock.now()
    sender = _one_call_a_second(desk, redis_conn, max_wait=2)
    may_wait()  # as a page thread
    for page_id in page_ids[:3]:
        sender.send(page_id, desk.clock.now())  # slots at +0, +1, +2: waited for here
    desk.clock.set(start)  # the fourth page asks at the first one's instant: its slot is 3 s away
    sender.send(page_ids[3], desk.clock.now())

    with hotline.db.session() as s:
        late = s.get(Page, page_ids[3])
        assert late.status == PageStatus.QUEUED and late.attempts == 0
        assert late.next_attempt_at.replace(tzinfo=start.tzinfo) == start + timedelta(seconds=3)
    assert f"page-{page_ids[3]}-paced" in hotline.jobs.scheduled_ids()
    assert len(_accepted_calls(twilio)) == 3

    desk.clock.set(start + timedelta(seconds=3))  # its job runs at the slot: the reservation is its own
    sender.send(page_ids[3], desk.clock.now())
    stamps = _accepted_calls(twilio)
    assert [(t - start).total_seconds() for t in stamps] == [0, 1, 2, 3]
    may_wait(False)


def test_with_redis_down_each_process_keeps_the_rate_itself(clock):
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    rate = SendRate(down, "down:test", {CALLS: 4.0, SMS: 50.0})
    now = clock.now()
    slots = [rate.reserve(CALLS, f"page-{i}-0", now) for i in range(5)]
    assert [(s - now).total_seconds() for s in slots] == [0, 0.25, 0.5, 0.75, 1.0]
    assert rate.reserve(CALLS, "page-3-0", now) == slots[3]  # the same owner keeps its slot
    assert rate.reserve(SMS, "page-9-0", now) == now  # SMS have their own schedule


def test_reservations_from_many_threads_are_distinct_slots_at_the_rate(redis_conn, clock):
    rates = [SendRate(redis_conn, "threads:test", {CALLS: 10.0}) for _ in range(3)]
    now = clock.now()
    slots: list = []
    lock = threading.Lock()

    def reserve(i: int) -> None:
        slot = rates[i % 3].reserve(CALLS, f"page-{i}-0", now)
        with lock:
            slots.append(slot)

    threads = [threading.Thread(target=reserve, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    offsets = sorted(round((s - now).total_seconds(), 6) for s in slots)
    assert offsets == [round(i * 0.1, 6) for i in range(30)]


def test_a_thread_that_may_not_sleep_takes_a_slot_within_the_slack_and_puts_off_beyond_it(redis_conn, clock):
    slept: list[float] = []
    pacer = Pacer(SendRate(redis_conn, "slack:test", {SMS: 10.0}), clock, sleep=slept.append)
    may_wait(False)  # the main worker or the watchdog
    now = clock.now()
    sends = [pacer.turn(SMS, f"page-{n}-0") for n in range(5)]  # slots 0, 0.1, 0.2, 0.3, 0.4 s away
    assert sends[:3] == [now + timedelta(seconds=n / 10) for n in range(3)] and sends[3:] == [None, None]
    # it sleeps no longer than the slack, only for each send's instant: never two sends in one
    assert slept == [pytest.approx(0.1), pytest.approx(0.2)]


def test_a_first_page_put_off_or_retried_waits_in_the_first_queue_again(desk, twilio, redis_conn):
    """Issue 12's burst: a first page put off by the account's rate went to the page queue, behind every
    voice page waiting for the call rate."""
    hotline = desk.hotline
    page_ids = _voice_pages(desk, 3)
    start = desk.clock.now()
    sender = _one_call_a_second(desk, redis_conn, max_wait=0)
    sender.send(page_ids[0], start, first=True)  # its slot is now
    sender.send(page_ids[1], start, first=True)  # 1 s away: put off
    sender.send(page_ids[2], start)  # 2 s away: put off, not a first page
    first, pages = hotline.jobs.first_queue.scheduled_job_registry, hotline.jobs.page_queue.scheduled_job_registry
    assert f"page-{page_ids[1]}-paced" in first.get_job_ids() and f"page-{page_ids[1]}-paced" not in pages.get_job_ids()
    assert f"page-{page_ids[2]}-paced" in pages.get_job_ids()

    twilio.fail_next(1, status=503)  # and a first page retried after a failure comes back to its queue too
    desk.clock.set(start + timedelta(seconds=1))
    sender.send(page_ids[1], desk.clock.now(), first=True)
    with hotline.db.session() as s:
        page = s.get(Page, page_ids[1])
    assert page.status == PageStatus.QUEUED and page.attempts == 1
    assert f"page-{page_ids[1]}-1" in first.get_job_ids()


def test_a_page_job_from_the_first_queue_is_sent_as_a_first_page(desk, monkeypatch):
    from app.queue import PendingJob
    from workers.runner import MainWorker

    seen = []
    monkeypatch.setattr(PageSender, "send", lambda self, page_id, now, first=False: seen.append((page_id, first)))
    jobs, now = desk.hotline.jobs, desk.clock.now()
    jobs.dispatch([PendingJob("page", 1001, now, first=True), PendingJob("page", 1002, now)], now)
    MainWorker(jobs.queues, connection=jobs.redis).work(burst=True, logging_level="WARNING")
    assert sorted(seen) == [(1001, True), (1002, False)]


def _sms_pacer(desk, redis_conn, per_second: float = 10.0) -> Pacer:
    scope = f"{desk.hotline.settings.queue_name}:rate-test"
    return Pacer(SendRate(redis_conn, scope, {CALLS: 1.0, SMS: per_second}), desk.clock,
                 sleep=lambda s: desk.clock.advance(seconds=s))


def _update_sms(desk, to: str = "+14155550188") -> int:
    from app.models import DeliveryChannel
    from app.services.deliveries import queue_delivery

    incident = desk.open_incident()
    with desk.hotline.db.transaction() as s:
        return queue_delivery(s, channel=DeliveryChannel.SMS, to=to, purpose="update", body="Update: still on it.",
                              now=desk.clock.now(), incident_id=incident.id).id


def _texts_to(twilio, number: str) -> list:
    return [m for m in twilio.messages if m.to == number]


def test_a_customer_update_gives_way_to_pages_that_booked_the_account_sms_rate(desk, twilio, redis_conn):
    """Updates and notices share the account's SMS rate with pages: a burst of them must never book the
    schedule ahead of the next page (Twilio queues what is over the rate, first come first served)."""
    from app.models import Delivery, UpdateDeliveryStatus
    from app.services.deliveries import DeliverySender

    hotline, to = desk.hotline, "+14155550188"
    delivery_id = _update_sms(desk, to)
    pacer = _sms_pacer(desk, redis_conn)
    start = desk.clock.now()
    for n in range(30):  # 30 page SMS booked: 3 s of the account's 10 SMS a second
        pacer.rate.reserve(SMS, f"page-{9000 + n}-0", start)
    sender = DeliverySender(hotline.db, hotline.telephony, hotline.settings, pacer)
    sender.send(delivery_id, start)

    assert _texts_to(twilio, to) == []
    with hotline.db.session() as s:
        row = s.get(Delivery, delivery_id)
        assert row.status == UpdateDeliveryStatus.QUEUED and row.attempts == 0  # no attempt spent
        assert row.next_attempt_at.replace(tzinfo=start.tzinfo) == start + timedelta(seconds=3)
    assert f"delivery-{delivery_id}-paced" in hotline.jobs.scheduled_ids()
    # it took no slot: the next page still goes right after the pages booked before it
    assert pacer.rate.reserve(SMS, "page-9100-0", start) == start + timedelta(seconds=3)

    desk.clock.set(start + timedelta(seconds=3.1))  # the schedule is free again: the update goes
    sender.send(delivery_id, desk.clock.now())
    assert [m.body for m in _texts_to(twilio, to)] == ["Update: still on it."]
    with hotline.db.session() as s:
        assert s.get(Delivery, delivery_id).status == UpdateDeliveryStatus.SENT
    # and it took its slot in the account's rate: a page asking at the same instant comes after it
    assert pacer.rate.reserve(SMS, "page-9101-0", desk.clock.now()) == desk.clock.now() + timedelta(seconds=0.1)


def test_an_update_held_back_by_pages_for_a_minute_takes_its_place_in_line(desk, twilio, redis_conn):
    from app.models import Delivery, UpdateDeliveryStatus
    from app.services.deliveries import DeliverySender

    hotline, to = desk.hotline, "+14155550189"
    delivery_id = _update_sms(desk, to)
    pacer = _sms_pacer(desk, redis_conn, per_second=1.0)
    created = desk.clock.now()
    desk.clock.set(created + timedelta(seconds=61))  # pages have kept the schedule booked since it was written
    now = desk.clock.now()
    for n in range(5):
        pacer.rate.reserve(SMS, f"page-{9200 + n}-0", now)
    sender = DeliverySender(hotline.db, hotline.telephony, hotline.settings, pacer)
    sender.send(delivery_id, now)
    with hotline.db.session() as s:  # it reserved the slot after the five pages, and waits for it
        assert s.get(Delivery, delivery_id).next_attempt_at.replace(tzinfo=now.tzinfo) == now + timedelta(seconds=5)
    assert pacer.rate.reserve(SMS, "page-9300-0", now) == now + timedelta(seconds=6)  # a later page is behind it

    desk.clock.set(now + timedelta(seconds=5))
    sender.send(delivery_id, desk.clock.now())
    with hotline.db.session() as s:
        assert s.get(Delivery, delivery_id).status == UpdateDeliveryStatus.SENT
    assert len(_texts_to(twilio, to)) == 1


def test_a_missed_call_notice_gives_way_to_pages_then_goes(desk, twilio, redis_conn):
    from app.models import Notice, NoticeStatus
    from app.services.notices import send_notice

    hotline, to = desk.hotline, "+14155550190"
    start = desk.clock.now()
    with hotline.db.transaction() as s:
        notice = Notice(purpose="missed_call", to_number=to, body="We missed your call.", created_at=start)
        s.add(notice)
        s.flush()
        notice_id = notice.id
    pacer = _sms_pacer(desk, redis_conn)
    for n in range(20):
        pacer.rate.reserve(SMS, f"page-{9400 + n}-0", start)
    base = "https://hotline.example.com"
    send_notice(hotline.db, hotline.telephony, base, notice_id, start, pacer=pacer)
    assert _texts_to(twilio, to) == []
    assert f"notice-{notice_id}-paced" in hotline.jobs.scheduled_ids()
    with hotline.db.session() as s:
        assert s.get(Notice, notice_id).attempts == 0

    desk.clock.set(start + timedelta(seconds=2))
    send_notice(hotline.db, hotline.telephony, base, notice_id, desk.clock.now(), pacer=pacer)
    assert [m.body for m in _texts_to(twilio, to)] == ["We missed your call."]
    with hotline.db.session() as s:
        assert s.get(Notice, notice_id).status == NoticeStatus.SENT


def test_giving_way_with_redis_down_keeps_the_rate_in_this_process(clock):
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    pacer = Pacer(SendRate(down, "down:give-way", {SMS: 2.0}), clock)
    now = clock.now()
    assert pacer.give_way(SMS, "delivery-1-0", now) is None  # the schedule is free: it goes now
    assert pacer.rate.reserve(SMS, "page-1-0", now) == now + timedelta(seconds=0.5)
    assert pacer.give_way(SMS, "delivery-2-0", now) == now + timedelta(seconds=1)  # booked: try again then
    assert pacer.rate.reserve(SMS, "page-2-0", now) == now + timedelta(seconds=1)  # it took nothing


def test_the_customers_receipt_gives_way_to_the_reps_pages_and_a_reps_page_does_not(desk, twilio, redis_conn):
    from app.models.paging import CUSTOMER_ROLE

    hotline = desk.hotline
    incident = desk.open_incident()
    start = desk.clock.now()
    with hotline.db.transaction() as s:
        pages = [Page(incident_id=incident.id, name=name, role=role, channel=Channel.SMS, to_number=number,
                      purpose=purpose, status=PageStatus.QUEUED, next_attempt_at=start, created_at=start,
                      updated_at=start)
                 for name, role, number, purpose in (("Dana Smith", CUSTOMER_ROLE, "+14155550191", "receipt"),
                                                     ("Rep", "primary", "+14155550192", "page"))]
        s.add_all(pages)
        s.flush()
        receipt_id, page_id = pages[0].id, pages[1].id
    pacer = _sms_pacer(desk, redis_conn)
    for n in range(10):  # a second of the account's SMS booked by other incidents' pages
        pacer.rate.reserve(SMS, f"page-{9500 + n}-0", start)
    sender = PageSender(hotline.db, hotline.telephony, PageUrls(hotline.settings), pacer)
    sender.send(receipt_id, start)
    sender.send(page_id, start)  # 1 s away: put off until its slot, which the receipt did not take
    with hotline.db.session() as s:
        receipt, page = s.get(Page, receipt_id), s.get(Page, page_id)
        assert receipt.status == PageStatus.QUEUED and receipt.attempts == 0
        assert receipt.next_attempt_at.replace(tzinfo=start.tzinfo) == start + timedelta(seconds=1)
        assert page.status == PageStatus.QUEUED and page.next_attempt_at.replace(tzinfo=start.tzinfo) == \
            start + timedelta(seconds=1)
    desk.clock.set(start + timedelta(seconds=1))
    sender.send(page_id, desk.clock.now())  # the rep's page keeps its slot
    assert len(_texts_to(twilio, "+14155550192")) == 1
    sender.send(receipt_id, desk.clock.now())  # the receipt takes the slot after it, and leaves 1/rate after it
    assert len(_texts_to(twilio, "+14155550191")) == 1 and desk.clock.now() == start + timedelta(seconds=1.1)
    assert pacer.rate.reserve(SMS, "page-9600-0", desk.clock.now()) == start + timedelta(seconds=1.2)


def test_pages_put_off_to_consecutive_slots_and_run_late_together_still_leave_a_second_apart(desk, twilio, redis_conn):
    """After Twilio recovers, a backlog of pages is put off to slots S, S+1, S+2 ... at one call a second; their
    jobs then run late and at once (RQ's scheduler counts whole seconds and moves every due job in one pass, page
    threads busy, the watchdog taking over 6 s late). Each was sent at once on its own past slot: measured with
    ``hotline worker`` against the simulated Twilio at TWILIO_CALLS_PER_SECOND=1, 2 calls within one second and 7
    gaps under 0.9 s after a 500/429 minute. Now a send claims its instant, 1/rate after the last send
    (``SendRate.claim``): the second late page is put off to that instant."""
    page_ids = _voice_pages(desk, 3)
    start = desk.clock.now()
    sender = _one_call_a_second(desk, redis_conn, max_wait=0)  # as the main worker or the watchdog: never sleeps
    for page_id in page_ids:
        sender.send(page_id, desk.clock.now())  # the first at once, the others put off to +1 and +2
    assert len(_accepted_calls(twilio)) == 1
    desk.clock.set(start + timedelta(seconds=5))  # their jobs run late, both in the same pass
    for page_id in page_ids[1:]:
        sender.send(page_id, desk.clock.now())
    desk.clock.advance(seconds=3)
    for page_id in page_ids[1:]:
        sender.send(page_id, desk.clock.now())
    stamps = _accepted_calls(twilio)
    assert len(stamps) == 3
    gaps = [(b - a).total_seconds() for a, b in zip(stamps, stamps[1:], strict=False)]
    assert min(gaps) >= 1.0 - 0.25, gaps  # the slack a thread that may not sleep is allowed


def test_with_redis_down_claimed_sends_still_leave_one_interval_apart(clock):
    rate = SendRate(Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2), "down:claim", {CALLS: 2.0})
    now = clock.now()
    assert rate.claim(CALLS, now, 0.0) == (now, True)
    assert rate.claim(CALLS, now, 0.0) == (now + timedelta(seconds=0.5), False)  # nothing taken
    assert rate.claim(CALLS, now + timedelta(seconds=0.5), 0.0) == (now + timedelta(seconds=0.5), True)


def test_a_callback_call_that_cannot_be_put_off_waits_for_its_instant_after_a_late_send(redis_conn, clock):
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds=seconds)

    pacer = Pacer(SendRate(redis_conn, "wait:test", {CALLS: 1.0}), clock, sleep=sleep)
    may_wait(False)
    start = clock.now()
    assert pacer.rate.reserve(CALLS, "page-1-0", start) == start  # a page's slot, the page sent late on it:
    clock.advance(seconds=3)
    assert pacer.turn(CALLS, "page-1-0") == clock.now()  # its instant is claimed at +3
    assert pacer.wait(CALLS, "callback-7") == start + timedelta(seconds=4)  # its slot (+1) passed: +4, not +3
    assert slept[-1] == 1.0
