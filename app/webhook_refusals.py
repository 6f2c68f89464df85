"""Twilio webhooks refused on their signature, counted in Redis for ``/healthz`` (every web process shares them).

A refused webhook is logged where it is refused (``app.voice.signature``), but an operator alerting on ``/healthz``
heard nothing: an outside probe's ``serve`` with a PUBLIC_BASE_URL other than the number's webhook URLs refused
every caller while ``/healthz`` said ``ok`` with no warning. Two kinds are counted, in a window that runs while
they go on: a signature valid for another address of this host (only a holder of the auth token makes one: the
setting is wrong, for certain; ``signed_for_another_url`` tries the request's Host and PUBLIC_BASE_URL's host, by
https and http), and a signature that matches no auth token for any address tried (a rotated token, an address
not tried, or a forger: the warning says "if Twilio sent them", and waits for a few). Unsigned requests are
scanners': not counted.
Counting never fails a request: Redis not answering is ``/healthz``'s own warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis

log = logging.getLogger(__name__)

KEY = "hotline:webhook-refusals:{}"  # QUEUE_NAME -> a hash: "<kind>:count", "<kind>:since" (Unix seconds)
WINDOW_SECONDS = 900  # the hash expires this long after the last refusal
OTHER_URL, BAD_SIGNATURE = "other_url", "bad_signature"
WARN_AFTER = {OTHER_URL: 1, BAD_SIGNATURE: 3}  # a few forged requests are no news; one signed for elsewhere is

# counts and times only: /healthz answers anyone who can reach it (the web log names each request and the fix)
WARNINGS = {
    OTHER_URL: ("{count} Twilio webhook(s) refused since {since}: signed for another address of this host than "
                "PUBLIC_BASE_URL, so Twilio calls an address this hotline does not answer as its own and every caller "
                "and SMS there is refused. Fix: make PUBLIC_BASE_URL and the number's webhook URLs the same https "
                "address, written alike (the web log names both; `hotline check` too)"),
    BAD_SIGNATURE: ("{count} webhooks whose X-Twilio-Signature matches no auth token refused since {since}: if Twilio "
                    "sent them, TWILIO_AUTH_TOKEN is not the account's current auth token (rotated?), or the number's "
                    "webhook URLs are not PUBLIC_BASE_URL (`hotline check` compares them), and every caller is refused "
                    "(the web log names each)"),
}


def note_refusal(redis: Redis, queue_name: str, kind: str, at: datetime) -> None:
    """Count one refused webhook of ``kind`` at ``at``; never raises."""
    key = KEY.format(queue_name)
    try:
        with redis.pipeline(transaction=False) as pipe:
            pipe.hincrby(key, f"{kind}:count", 1)
            pipe.hsetnx(key, f"{kind}:since", f"{at.timestamp():.0f}")
            pipe.expire(key, WINDOW_SECONDS)
            pipe.execute()
    except Exception as exc:  # noqa: BLE001 - the request is refused either way; /healthz says Redis is down
        log.debug("refused webhook not counted: %s", exc)


@dataclass(frozen=True)
class Refused:
    """Webhooks of one kind refused in the window, enough to be news."""

    kind: str
    count: int
    since: datetime


def refused_lately(redis: Redis, queue_name: str) -> list[Refused]:
    """Each kind refused often enough in the window (raises as Redis does: the caller's to catch)."""
    found = {name.decode(): value.decode() for name, value in redis.hgetall(KEY.format(queue_name)).items()}
    counts = {kind: int(found.get(f"{kind}:count", 0)) for kind in WARN_AFTER}
    return [Refused(kind, counts[kind], datetime.fromtimestamp(int(found.get(f"{kind}:since", 0)), UTC))
            for kind in WARN_AFTER if counts[kind] >= WARN_AFTER[kind]]


def refusal_warnings(redis: Redis, queue_name: str) -> list[str]:
    """``/healthz``'s warning for each kind refused often enough in the window."""
    return [WARNINGS[r.kind].format(count=r.count, since=f"{r.since:%Y-%m-%d %H:%M:%S} UTC")
            for r in refused_lately(redis, queue_name)]
