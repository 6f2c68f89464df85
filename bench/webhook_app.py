"""The two apps the webhook benchmark serves under gunicorn: the hotline, and a bare Flask endpoint returning fixed TwiML.

    gunicorn -w 4 -k sync 'bench.webhook_app:hotline_app()'   # env: BENCH_WEBHOOK_DB, BENCH_WEBHOOK_DATA
    gunicorn -w 4 -k sync 'bench.webhook_app:bare_app()'
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
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


def hotline_app() -> Flask:
    """The real app on the benchmark's database; pages go to the simulated outbox, never to Twilio."""
    from redis import Redis

    from app import create_app
    from app.queue import JobQueue
    from app.wiring import Hotline
    from hotline_sim.outbox import FILE_NAME, SharedOutboxTelephony

    data_dir = Path(os.environ["BENCH_WEBHOOK_DATA"])
    redis_url = os.environ["BENCH_WEBHOOK_REDIS"]
    settings = bench_settings(os.environ["BENCH_WEBHOOK_DB"], data_dir, redis_url)
    hotline = Hotline.build(settings, jobs=JobQueue(Redis.from_url(redis_url), settings.queue_name),
                            telephony=SharedOutboxTelephony(data_dir / FILE_NAME))
    return create_app(hotline)


def bare_app() -> Flask:
    """A bare Flask app whose every POST answers the same TwiML (the issue's baseline)."""
    app = Flask("bare")

    @app.post("/<path:_path>")
    def answer(_path: str) -> Response:
        return Response(BARE_TWIML, mimetype="text/xml")

    return app
