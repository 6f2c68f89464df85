"""A stored webhook answer that no retry can get any more is emptied by the watchdog: the caller's details read back
are not kept at rest, and the row still refuses the request's replay (app/services/stored_answers.py)."""

from __future__ import annotations

from sqlalchemy import select

from app.models import WebhookDelivery
from app.services.stored_answers import FORGET_AFTER, FORGET_PER_PASS, RETRY_WINDOW, forget_old_answers, old_answers
from tests.replay_support import database_rows, intake_to_readback, is_empty_twiml
from workers import watchdog

DETAILS = ("Acme", "Dana", "D A N A", "0 1 0 0", "500")


def _answers(hotline) -> list[tuple[str, str]]:
    with hotline.db.session() as session:
        return [tuple(row) for row in session.execute(
            select(WebhookDelivery.key, WebhookDelivery.response).order_by(WebhookDelivery.id)).all()]


def test_the_watchdog_empties_the_read_back_after_the_window_and_a_replay_still_runs_nothing(phone, hotline, clock):
    call, sent = intake_to_readback(phone)
    assert any(detail in answer for _key, answer in _answers(hotline) for detail in DETAILS)
    keys = [key for key, _answer in _answers(hotline)]
    clock.advance(seconds=FORGET_AFTER.total_seconds() + 1)

    watchdog.tick(hotline, "worker-1")  # the leader's pass

    answers = _answers(hotline)
    assert [key for key, _answer in answers] == keys  # every row stays: it is what refuses a replay
    assert [answer for _key, answer in answers] == [""] * len(keys)
    before = database_rows(hotline)
    for name, (request, _first) in sent.items():
        code, body = call._post(*request)
        assert code == 200 and is_empty_twiml(body), (name, body)
        assert not any(detail in body for detail in DETAILS)
    assert database_rows(hotline) == before


def test_an_answer_twilio_may_still_retry_for_is_kept_and_given_again(phone, hotline, clock):
    call, sent = intake_to_readback(phone)
    clock.advance(seconds=RETRY_WINDOW.total_seconds() - 60)
    with hotline.db.transaction() as session:
        assert forget_old_answers(session, clock.now()) == 0
    request, first = sent["readback"]
    assert "Dana Smith" in first
    assert call._post(*request) == (200, first)


def test_the_oldest_are_emptied_first_a_bounded_number_at_a_time(phone, hotline, clock):
    intake_to_readback(phone)
    first_call = _answers(hotline)
    clock.advance(minutes=30)
    intake_to_readback(phone, "+14155550177")  # another customer's call, half an hour later
    second_call = _answers(hotline)[len(first_call):]
    clock.advance(seconds=FORGET_AFTER.total_seconds() - 15 * 60)  # only the first call's answers are old enough

    with hotline.db.transaction() as session:
        assert forget_old_answers(session, clock.now(), limit=4) == 4
    answers = _answers(hotline)
    assert [answer for _key, answer in answers[:4]] == [""] * 4  # the oldest four
    assert answers[4:] == first_call[4:] + second_call

    with hotline.db.transaction() as session:
        assert forget_old_answers(session, clock.now()) == len(first_call) - 4
    answers = _answers(hotline)
    assert [answer for _key, answer in answers[:len(first_call)]] == [""] * len(first_call)
    assert answers[len(first_call):] == second_call  # Twilio may still retry these
    assert any(detail in answer for _key, answer in second_call for detail in DETAILS)


def test_the_old_answers_are_found_through_the_partial_index(hotline, clock):
    """The watchdog's look reads the answers still kept through ix_webhook_deliveries_kept, not every row ever stored;
    on SQLite with its values bound as the driver binds them (a bound '' would not match the index's condition)."""
    sql = old_answers(clock.now(), FORGET_PER_PASS)  # the pass's own query
    with hotline.db.transaction() as session:
        conn = session.connection()
        if conn.dialect.name == "postgresql":  # psycopg2 writes the values into the statement it sends
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            compiled = str(sql.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
        else:
            compiled = sql.compile(conn)
            values = tuple(None for _ in compiled.positiontup)  # the plan does not depend on them
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values))
    assert "ix_webhook_deliveries_kept" in plan
