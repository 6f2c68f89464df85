"""A recorded, signed webhook posted again: Twilio's retry (within the retry window) gets the first answer; a replay
after it gets nothing — not the caller's details read back, not a step run again."""

from __future__ import annotations

from app.webhooks import RETRY_WINDOW
from tests.replay_support import database_rows, intake_to_readback, is_empty_twiml


def test_twilios_retry_within_the_window_gets_the_first_answer_and_runs_nothing_again(phone, hotline, clock):
    call, sent = intake_to_readback(phone)
    before = database_rows(hotline)
    clock.advance(seconds=RETRY_WINDOW.total_seconds() - 60)
    for name in ("greeting", "name", "number", "email", "readback"):  # full path and lean path answers alike
        request, first = sent[name]
        assert call._post(*request) == (200, first), name
    assert "Dana Smith" in sent["readback"][1] and "D A N A" in sent["email"][1] and "0 1 0 0" in sent["name"][1]
    assert database_rows(hotline) == before


def test_a_replay_after_the_window_reads_back_no_details_and_changes_no_row(phone, hotline, clock):
    call, sent = intake_to_readback(phone)
    before, jobs = database_rows(hotline), (hotline.jobs.job_ids(), hotline.jobs.scheduled_ids())
    clock.advance(days=3)
    for name, (request, _first) in sent.items():
        code, body = call._post(*request)
        assert code == 200 and is_empty_twiml(body), (name, body)
        for detail in ("Acme", "Dana", "D A N A", "0 1 0 0", "500"):
            assert detail not in body
    assert database_rows(hotline) == before
    assert (hotline.jobs.job_ids(), hotline.jobs.scheduled_ids()) == jobs


def test_a_replay_just_past_the_window_gets_nothing(phone, hotline, clock):
    call, sent = intake_to_readback(phone)
    clock.advance(seconds=RETRY_WINDOW.total_seconds() + 1)
    request, _ = sent["readback"]
    code, body = call._post(*request)
    assert code == 200 and is_empty_twiml(body)
