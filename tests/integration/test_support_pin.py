"""Support PINs (issue 9): set through the API and the CSV import, stored hashed, guessed at most a few times."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from app.models import Account, MissedCall, Notice, NoticeStatus
from app.services.api_tokens import create_token
from app.services.caller_trust import answer_pin_check
from app.services.notices import queued_notices, send_notice
from app.services.support_pin import MAX_FAILURES, check_pin, pin_matches
from app.services.ticket_import import import_tickets_csv
from app.telephony.protocol import OutcomeUnknown
from ivr_flows.model import CheckPin
from tests.fakes import SimulatedTelephony


@pytest.fixture
def auth(hotline, clock) -> dict[str, str]:
    """Headers carrying a fresh API token that may set support PINs (accounts:admin)."""
    with hotline.db.transaction() as session:
        token = create_token(session, "helpdesk", clock.now(), scopes=["tickets:write", "accounts:admin"])
    return {"Authorization": f"Bearer {token}"}


def _account(hotline, name: str) -> Account:
    with hotline.db.session() as s:
        return s.scalar(select(Account).where(Account.name == name))


def test_api_sets_a_hashed_pin_refuses_a_bad_one_and_removes_it(client, auth, hotline):
    body = {"number": "501", "company": "Acme", "support_pin": "135790"}
    assert client.post("/api/v1/tickets", json=body, headers=auth).status_code == 201
    stored = _account(hotline, "Acme").support_pin_hash
    assert "135790" not in stored and pin_matches(stored, "135790") and not pin_matches(stored, "135791")
    bad = client.post("/api/v1/tickets", json=body | {"support_pin": "12ab"}, headers=auth)
    assert bad.status_code == 422 and "support_pin" in bad.get_data(as_text=True)
    assert "135790" not in client.get("/api/v1/openapi.json").get_data(as_text=True)
    assert client.post("/api/v1/tickets", json=body | {"support_pin": "-"}, headers=auth).status_code == 200
    assert _account(hotline, "Acme").support_pin_hash == ""


def test_csv_import_sets_the_pin(hotline, clock):
    csv_text = "number,company,contact_name,support_pin\n601,Globex,Hank,2468\n602,Initech,Bill,12\n"
    report = import_tickets_csv(hotline.db, io.StringIO(csv_text), clock.now(), "US")
    assert report.created == 1 and [line for line, _ in report.errors] == [3]
    assert "support_pin" in report.errors[0][1]
    assert pin_matches(_account(hotline, "Globex").support_pin_hash, "2468")


def test_wrong_pins_lock_the_account_for_an_hour(hotline, clock):
    import_tickets_csv(hotline.db, io.StringIO("number,company,support_pin\n701,Umbrella,4321\n"), clock.now(), "US")
    with hotline.db.transaction() as s:
        account = s.scalar(select(Account).where(Account.name == "Umbrella"))
        assert [check_pin(account, "0000", clock.now()) for _ in range(MAX_FAILURES)] == [False] * MAX_FAILURES
        assert check_pin(account, "4321", clock.now()) is False  # locked: even the right PIN fails
    # the helpdesk syncing the same PIN again does not lift the lock
    import_tickets_csv(hotline.db, io.StringIO("number,company,support_pin\n701,Umbrella,4321\n"), clock.now(), "US")
    with hotline.db.transaction() as s:
        account = s.scalar(select(Account).where(Account.name == "Umbrella"))
        assert check_pin(account, "4321", clock.now()) is False
        later = clock.now() + timedelta(hours=1, minutes=1)
        assert check_pin(account, "4321", later) is True and account.support_pin_failures == 0


def test_wrong_pins_keyed_at_the_same_moment_each_count(hotline, clock):
    """Two callers key a wrong PIN for one account at once (call A's check not yet committed when B's reads the
    account): both failures count. A count read before the other check committed and written back lost one, so
    callers guessing in parallel got MAX_FAILURES guesses per batch of calls instead of MAX_FAILURES in all."""
    import_tickets_csv(hotline.db, io.StringIO("number,company,support_pin\n702,Hooli,4321\n"), clock.now(), "US")
    guess = CheckPin(pin="0000", ticket_number="702")
    b_reached_the_account, b_result = threading.Event(), []
    b_thread: list[int] = []

    def reached(statement: str, done: bool) -> None:
        # B has read the account (a plain read: it would not wait), or is about to write or lock it (it may wait)
        if not b_thread or threading.get_ident() != b_thread[0] or "accounts" not in statement:
            return
        text = " ".join(statement.split()).upper()
        locks = text.startswith("UPDATE ACCOUNTS") or "FOR UPDATE" in text
        if locks != done:
            b_reached_the_account.set()

    def before(conn, cursor, statement, params, context, executemany):
        reached(statement, done=False)

    def after(conn, cursor, statement, params, context, executemany):
        reached(statement, done=True)

    def call_b() -> None:
        b_thread.append(threading.get_ident())
        with hotline.db.transaction() as b:
            b_result.append(answer_pin_check(b, guess, "CA-B", clock.now()).ok)

    event.listen(hotline.db.engine, "before_cursor_execute", before)
    event.listen(hotline.db.engine, "after_cursor_execute", after)
    try:
        with hotline.db.transaction() as a:
            assert answer_pin_check(a, guess, "CA-A", clock.now()).ok is False
            a.flush()
            other = threading.Thread(target=call_b)
            other.start()
            assert b_reached_the_account.wait(30)
        other.join(60)
    finally:
        event.remove(hotline.db.engine, "before_cursor_execute", before)
        event.remove(hotline.db.engine, "after_cursor_execute", after)
    assert b_result == [False]
    assert _account(hotline, "Hooli").support_pin_failures == 2


def test_a_missed_call_sms_is_sent_once_by_its_job(hotline, clock):
    telephony = SimulatedTelephony(clock)
    with hotline.db.transaction() as s:
        notice = Notice(purpose="missed_call", to_number="+14155550123", body="Sev-1 hotline: call us again",
                        created_at=clock.now())
        s.add(notice)
        s.flush()
        s.add(MissedCall(call_sid="CA1", caller_id="+14155550123", received_at=clock.now(), ended_at=clock.now(),
                         notice_id=notice.id))
        notice_id = notice.id
    with hotline.db.session() as s:  # its RQ job lost: the watchdog finds it again
        assert [job.job_id for job in queued_notices(s, clock.now())] == [f"notice-{notice_id}"]
    send_notice(hotline.db, telephony, "https://hotline.example.com", notice_id, clock.now())
    send_notice(hotline.db, telephony, "https://hotline.example.com", notice_id, clock.now())
    assert [(m.to, m.body) for m in telephony.sms] == [("+14155550123", "Sev-1 hotline: call us again")]
    with hotline.db.session() as s:
        assert s.get(Notice, notice_id).status == NoticeStatus.SENT
        assert queued_notices(s, clock.now()) == []


def test_a_notices_delivery_report_is_recorded_not_left_unmatched(hotline, client, clock):
    from twilio.request_validator import RequestValidator

    from app.models import IncidentEvent
    from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN

    telephony = SimulatedTelephony(clock)
    with hotline.db.transaction() as s:
        notice = Notice(purpose="missed_call", to_number="+14155550123", body="Sev-1 hotline: call us again",
                        created_at=clock.now())
        s.add(notice)
        s.flush()
        notice_id = notice.id
    send_notice(hotline.db, telephony, PUBLIC_BASE_URL, notice_id, clock.now())

    def report(status: str, error: str = "") -> None:
        url = f"{PUBLIC_BASE_URL}/twilio/sms/status?notice={notice_id}"
        params = {"MessageSid": "SM" + "5" * 32, "MessageStatus": status, "ErrorCode": error,
                  "AccountSid": "AC" + "0" * 32}
        signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
        answer = client.post(url.removeprefix(PUBLIC_BASE_URL), data=params, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200

    report("undelivered", "30006")  # a landline: the carrier could not deliver it
    report("delivered")  # a late, contradictory report moves nothing back
    with hotline.db.session() as s:
        stored = s.get(Notice, notice_id)
        assert (stored.status, stored.last_error) == (NoticeStatus.UNDELIVERED, "Twilio undelivered (error 30006)")
        assert s.scalars(select(IncidentEvent).where(IncidentEvent.kind == "sms_status_unmatched")).all() == []


class _ReportsBeforeTheAnswer:
    """Twilio's delivery report reaches the hotline before its answer to the create has been recorded (Twilio
    does not order a status callback after its REST answer: a carrier's quick report overtakes a slow commit)."""

    def __init__(self, telephony, report, answer_lost: bool = False) -> None:
        self.telephony, self.report, self.answer_lost = telephony, report, answer_lost

    def send_sms(self, **kwargs):
        sent = self.telephony.send_sms(**kwargs)
        self.report(sent.sid)
        if self.answer_lost:  # the client timed out on the 201 the report proves Twilio sent
            raise OutcomeUnknown("Twilio did not answer: TimeoutError")
        return sent


@pytest.mark.parametrize("answer_lost", [False, True])
@pytest.mark.parametrize(("status", "error", "expected"), [
    ("undelivered", "30006", NoticeStatus.UNDELIVERED),
    ("failed", "30005", NoticeStatus.UNDELIVERED),
    ("delivered", "", NoticeStatus.DELIVERED),
    ("sent", "", NoticeStatus.SENT),  # the carrier took it: sent, even when Twilio's answer to the create was lost
])
def test_a_notices_delivery_report_that_overtakes_the_send_is_kept(hotline, client, clock, status, error, expected,
                                                                     answer_lost):
    from twilio.request_validator import RequestValidator

    from tests.conftest import PUBLIC_BASE_URL, TEST_AUTH_TOKEN

    with hotline.db.transaction() as s:
        notice = Notice(purpose="missed_call", to_number="+14155550123", body="Sev-1 hotline: call us again",
                        created_at=clock.now())
        s.add(notice)
        s.flush()
        notice_id = notice.id

    reported = []

    def report(sid: str) -> None:
        reported.append(sid)
        url = f"{PUBLIC_BASE_URL}/twilio/sms/status?notice={notice_id}"
        params = {"MessageSid": sid, "MessageStatus": status, "ErrorCode": error, "AccountSid": "AC" + "0" * 32}
        signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)
        answer = client.post(url.removeprefix(PUBLIC_BASE_URL), data=params, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200

    telephony = _ReportsBeforeTheAnswer(SimulatedTelephony(clock), report, answer_lost)
    send_notice(hotline.db, telephony, PUBLIC_BASE_URL, notice_id, clock.now())
    with hotline.db.session() as s:
        stored = s.get(Notice, notice_id)
        # the report's MessageSid traces the notice at Twilio, also when the send's own answer was lost
        assert stored.status == expected and stored.twilio_sid == reported[0] and reported[0].startswith("SM")
        assert stored.last_error == (f"Twilio {status} (error {error})" if error else "")


def test_an_admin_sets_and_removes_a_pin_on_the_dashboard(client, hotline, clock):
    from app.auth import Role
    from tests.integration.board_support import CSRF, login_as

    import_tickets_csv(hotline.db, io.StringIO("number,company\n801,Hooli\n"), clock.now(), "US")
    account_id = _account(hotline, "Hooli").id
    login_as(client, hotline, Role.REP, name="Rita Rep")
    assert client.get("/admin/accounts").status_code == 403  # reps may not
    client.post("/logout", data={"csrf_token": CSRF})
    login_as(client, hotline, Role.ADMIN, name="Ada Admin")
    page = client.get("/admin/accounts").get_data(as_text=True)
    assert "Hooli" in page and 'name="csrf_token"' in page
    bad = client.post(f"/admin/accounts/{account_id}/pin", data={"csrf_token": CSRF, "pin": "12"}, follow_redirects=True)
    assert "not changed" in bad.get_data(as_text=True) and _account(hotline, "Hooli").support_pin_hash == ""
    assert client.post(f"/admin/accounts/{account_id}/pin", data={"csrf_token": "wrong", "pin": "5555"}).status_code in (
        400, 403)
    done = client.post(f"/admin/accounts/{account_id}/pin", data={"csrf_token": CSRF, "pin": "5555"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Support PIN set for Hooli" in done and "5555" not in done
    assert pin_matches(_account(hotline, "Hooli").support_pin_hash, "5555")
    client.post(f"/admin/accounts/{account_id}/pin", data={"csrf_token": CSRF, "remove": "1"})
    assert _account(hotline, "Hooli").support_pin_hash == ""
