"""The apps the webhook benchmark serves under gunicorn: the hotline, a bare Flask endpoint returning fixed
TwiML (the issue's baseline), and the floor: fixed TwiML after a signature check and one stored answer.

    gunicorn -w 4 -k sync 'bench.webhook_app:hotline_app()'   # env: BENCH_WEBHOOK_DB, BENCH_WEBHOOK_DATA
    gunicorn -w 4 -k sync 'bench.webhook_app:bare_app()'
    gunicorn -w 4 -k sync 'bench.webhook_app:floor_app()'     # env: BENCH_WEBHOOK_DB
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

AUTH_TOKEN = "be" + "0123456789abcdef" + "0" * 14  # shaped as Twilio's: 32 lowercase hex
ACCOUNT_SID = "AC" + "b" * 32
PUBLIC_URL = "https://hotline.bench.example"
QUEUE = "bench-webhooks"
BARE_TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/twilio/voice/step?seq=1" '
              'input="dtmf" numDigits="1" timeout="6"><Say>Press 1.</Say></Gather>'
              '<Redirect method="POST">/twilio/voice/step?seq=1&amp;noinput=1</Redirect></Response>')


def bench_settings(url: str, data_dir: Path, redis_url: str):
    """The hotline's settings for the benchmark: a (fake) Twilio account so webhooks are signed, loopback only."""
    from app.settings import Settings

    return Settings(data_dir=data_dir, database_url=url, redis_url=redis_url, queue_name=QUEUE,
                    twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, twilio_number="+15005550006",
                    public_base_url=PUBLIC_URL, secret_key="bench-secret-key-" + "x" * 32)


def put_reps_on_call(url: str) -> None:
    """The burst's and the chaos run's on-call (``bench.chaos.oncall_yaml``): each intake's opening pages Alice by
    SMS and by voice, as in a deployment, instead of finding nobody to page (before the app's workers start)."""
    from datetime import UTC, datetime

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from app.services.oncall_yaml import import_yaml
    from bench.chaos import oncall_yaml

    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        import_yaml(session, oncall_yaml(False), datetime.now(UTC))
    engine.dispose()


def hotline_app() -> Flask:
    """The real app on the benchmark's database; pages go to the simulated outbox, never to Twilio."""
    from redis import Redis

    from app import create_app
    from app.collector import freeze_for_collector
    from app.queue import JobQueue
    from app.wiring import Hotline
    from hotline_sim.outbox import FILE_NAME, SharedOutboxTelephony

    data_dir = Path(os.environ["BENCH_WEBHOOK_DATA"])
    redis_url = os.environ["BENCH_WEBHOOK_REDIS"]
    settings = bench_settings(os.environ["BENCH_WEBHOOK_DB"], data_dir, redis_url)
    hotline = Hotline.build(settings, jobs=JobQueue(Redis.from_url(redis_url), settings.queue_name),
                            telephony=SharedOutboxTelephony(data_dir / FILE_NAME))
    app = create_app(hotline)
    freeze_for_collector()  # as `hotline serve` does in its master before forking (app/serving.py)
    return app


def bare_app() -> Flask:
    """A bare Flask app whose every POST answers the same TwiML (the issue's baseline)."""
    app = Flask("bare")

    @app.post("/<path:_path>")
    def answer(_path: str) -> Response:
        return Response(BARE_TWIML, mimetype="text/xml")

    return app


FLOOR_TABLE = "bench_floor_answers"


def create_floor_table(url: str) -> None:
    """The floor app's one table, in the benchmark's database (before its workers start)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (call_sid VARCHAR(64) PRIMARY KEY, "
                          "seq INTEGER, answer TEXT)"))
    engine.dispose()


def floor_app(url: str = "") -> Flask:
    """The least a webhook that keeps the promise can do: check Twilio's signature, store the answer durably
    (one SQL statement, committed, on the driver without an ORM or a query builder), answer fixed TwiML.

    Not the hotline: no flow, no log, no duplicate check. It measures what the bare endpoint leaves out
    and every real webhook must pay (issue 12's CPU ratio is against the bare endpoint). On ``url``'s
    database, else BENCH_WEBHOOK_DB's (gunicorn's factory call).
    """
    from flask import abort, request
    from twilio.request_validator import RequestValidator

    url = url or os.environ["BENCH_WEBHOOK_DB"]
    validator = RequestValidator(AUTH_TOKEN)
    app = Flask("floor")
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        upsert = (f"INSERT INTO {FLOOR_TABLE} (call_sid, seq, answer) VALUES (?, 1, ?) ON CONFLICT (call_sid) "
                  f"DO UPDATE SET seq = {FLOOR_TABLE}.seq + 1, answer = excluded.answer RETURNING seq")
    else:
        import psycopg2

        pg = psycopg2.connect(url.replace("+psycopg2", "", 1))  # libpq reads the URL, its ?options= too
        pg.autocommit = True
        conn = _CursorPerCall(pg)
        upsert = (f"INSERT INTO {FLOOR_TABLE} (call_sid, seq, answer) VALUES (%s, 1, %s) ON CONFLICT (call_sid) "
                  f"DO UPDATE SET seq = {FLOOR_TABLE}.seq + 1, answer = excluded.answer RETURNING seq")

    @app.post("/<path:_path>")
    def answer(_path: str) -> Response:
        query = request.query_string.decode()
        signed = PUBLIC_URL + request.path + (f"?{query}" if query else "")
        if not validator.validate(signed, request.form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        form = request.form
        conn.execute(upsert, (form.get("CallSid", ""), form.get("Digits") or form.get("SpeechResult") or ""))
        return Response(BARE_TWIML, mimetype="text/xml")

    return app


class _CursorPerCall:
    """``conn.execute`` as sqlite3 has it, on a psycopg2 connection (shared by threads; cursors are not)."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def execute(self, sql: str, params: tuple) -> None:
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
