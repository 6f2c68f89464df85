"""What the watchdog's emptying of old webhook answers costs a pass, on PostgreSQL (app/services/stored_answers.py).

    .venv/bin/python -m bench.answers_forgotten [--old 300000] [--recent 3000]

Migrates a schema of its own to head, stores ``--old`` answers (TwiML reading back a caller's details) received
hours ago, as a database upgraded to this release holds them, and ``--recent`` ones within the retry window; then
runs the pass (``forget_old_answers``) until nothing is left to empty, and 20 more with nothing to do. Prints the
time of a full pass (FORGET_PER_PASS answers) and of an empty one, and drops the schema.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

from app.db import Database
from app.migrate import upgrade
from app.services.stored_answers import FORGET_PER_PASS, forget_old_answers
from bench.common import POSTGRES_URL

BODY = "<Response><Say>Acme Mail. Dana Smith. 4 1 5 5 5 5 0 1 0 0. d a n a at acme dot example.</Say></Response>"
_FILL = text("INSERT INTO webhook_deliveries (key, path, response, received_at) "
             "SELECT md5(:tag || g::text), '/twilio/voice/step', :body, :last - g * :gap "
             "FROM generate_series(1, :n) g")


def _pass(db: Database, now: datetime) -> tuple[int, float]:
    started = time.perf_counter()
    with db.transaction() as session:
        emptied = forget_old_answers(session, now)
    return emptied, (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=int, default=300_000)
    parser.add_argument("--recent", type=int, default=3_000)
    args = parser.parse_args()
    schema = f"bench_answers_{os.getpid()}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        db = Database(url)
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            conn.execute(_FILL, {"tag": "o", "body": BODY * 3, "last": now - timedelta(hours=3), "n": args.old,
                                 "gap": timedelta(seconds=1)})
            conn.execute(_FILL, {"tag": "r", "body": BODY * 3, "last": now, "n": args.recent,
                                 "gap": timedelta(milliseconds=1)})
            conn.execute(text("ANALYZE webhook_deliveries"))
        full, emptied = [], 1
        while emptied:
            emptied, ms = _pass(db, now)
            if emptied == FORGET_PER_PASS:
                full.append(ms)
        idle = [_pass(db, now)[1] for _ in range(20)]
        with db.engine.connect() as conn:
            kept = conn.scalar(text("SELECT count(*) FROM webhook_deliveries WHERE response <> ''"))
        db.dispose()
        print(f"| figure | value |\n|---|---|\n"
              f"| answers stored / still kept after the passes | {args.old + args.recent} / {kept} |\n"
              f"| passes that emptied {FORGET_PER_PASS} answers | {len(full)} |\n"
              f"| such a pass, median / max | {statistics.median(full):.1f} / {max(full):.1f} ms |\n"
              f"| a pass with nothing to empty, median of 20 | {statistics.median(idle):.2f} ms |")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
